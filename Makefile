# The two commands a fresh machine needs: `make demo` and `make test`.
# Both install everything they use (virtualenv, Python packages, Chromium for
# the browser test) and start the local PostgreSQL themselves.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
export DAGSTER_HOME ?= $(CURDIR)/.data/dagster_home

.PHONY: install demo test test-fast test-faults ui bench clean browser-deps

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || PYTHON=python3; \
	  test -x $(PY) || $${PYTHON:-python3} -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)

browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(PY) -m pipeline.demo

test: install browser-deps
	$(PY) -m pytest tests

test-fast: install
	$(PY) -m pytest tests -m "not slow and not browser"

test-faults: install
	$(PY) -m pytest tests -m faults

ui: install
	$(PY) -m pipeline.instance dev --host 127.0.0.1 --port 3000

bench: install
	$(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf .data
