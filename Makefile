# The two commands a fresh machine needs: `make demo` and `make test`.
# Both install everything they use (virtualenv, Python packages, Chromium for
# the browser test) and start the local PostgreSQL themselves.
SHELL := /bin/bash
# The newest supported Python (3.11-3.13, pyproject's requires-python) that runs: python3.13, then
# 3.12, then 3.11, else python3 if it is in range. Each is run, not just looked up: pyenv puts a
# shim on PATH for every version it has, and the shim of a version that is not active exits 127.
# Override with `make PYTHON=python3.12 …` (used when .venv is created; `rm -rf .venv` to switch).
SUPPORTED_PYTHON := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))
PYTHON ?= $(shell for candidate in python3.13 python3.12 python3.11 python3; do \
  $$candidate -c '$(SUPPORTED_PYTHON)' 2>/dev/null && { echo $$candidate; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
export DAGSTER_HOME ?= $(CURDIR)/.data/dagster_home

.PHONY: install demo test test-fast test-faults ui bench clean browser-deps

$(STAMP): pyproject.toml
	@test -x $(PY) && $(PY) -c '$(SUPPORTED_PYTHON)' || { \
	  test -n "$(PYTHON)" || { echo "Python 3.11, 3.12 or 3.13 is needed (none found on PATH; or set PYTHON=...)" >&2; exit 1; }; \
	  echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
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
	$(VENV)/bin/ruff check .
	$(PY) -m pipeline.instance exec dg check defs
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
