# The two commands a fresh machine needs: `make demo` and `make test`.
# Both install everything they use (virtualenv, Python packages, Chromium for
# the browser test) and start the local PostgreSQL themselves.
SHELL := /bin/bash
# The newest supported Python (3.11-3.13, pyproject's requires-python) that runs: python3.13, then
# 3.12, then 3.11, else python3 if it is in range. Each is run, not just looked up: pyenv puts a
# shim on PATH for every version it has, and the shim of a version that is not active exits 127.
# Override with `make PYTHON=python3.12 …`: used when .venv is created; a .venv of another Python
# is refused with the command that switches (`rm -rf .venv`), never silently reused.
SUPPORTED_PYTHON := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))
PYTHON ?= $(shell for candidate in python3.13 python3.12 python3.11 python3; do \
  $$candidate -c '$(SUPPORTED_PYTHON)' 2>/dev/null && { echo $$candidate; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
export DAGSTER_HOME ?= $(CURDIR)/.data/dagster_home
# `make bench` writes here; `make bench BENCH_OUT=benchmarks/results` updates the committed results.
BENCH_OUT ?= $(CURDIR)/.data/bench

.PHONY: install demo demo-output test test-fast test-faults ui web bench clean browser-deps check-python deploy-deps

$(STAMP): pyproject.toml
	@test -x $(PY) && $(PY) -c '$(SUPPORTED_PYTHON)' || { \
	  test -n "$(PYTHON)" || { echo "Python 3.11, 3.12 or 3.13 is needed (none found on PATH; or set PYTHON=...)" >&2; exit 1; }; \
	  echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

check-python:
	@if [ "$(origin PYTHON)" = "command line" ] && [ -x $(PY) ]; then \
	  want=$$($(PYTHON) -c 'import sys; print(sys.version.split()[0])') || exit 1; \
	  have=$$($(PY) -c 'import sys; print(sys.version.split()[0])'); \
	  test "$$want" = "$$have" || { echo "$(VENV) runs Python $$have, not $(PYTHON) ($$want): rm -rf $(VENV), then run this make command again" >&2; exit 1; }; \
	fi

install: check-python $(STAMP)
	@mkdir -p $(DAGSTER_HOME)

# Debian's docker-compose: tests/test_deploy.py validates the compose files in deploy/ with `docker-compose config`.
deploy-deps:
	@command -v docker-compose >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }

browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(PY) -m pipeline.demo

# `make demo`, its output also kept in tests/artifacts/demo_output.txt (the README quotes it); no test writes it.
demo-output: install
	set -o pipefail; $(PY) -m pipeline.demo | tee tests/artifacts/demo_output.txt

test: install browser-deps deploy-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pipeline.instance exec dg check defs
	$(PY) -m pytest tests

test-fast: install
	$(PY) -m pytest tests -m "not slow and not browser"

test-faults: install
	$(PY) -m pytest tests -m faults

ui: install
	$(PY) -m pipeline.instance dev --host 127.0.0.1 --port 3000

# The read-only dist_perf_dw pages (pipeline/web/) on waitress, as dist_perf_dw_reader.
web: install
	$(PY) -m pipeline.web --host 127.0.0.1 --port 8000

bench: install
	$(PY) -m benchmarks.run --out $(BENCH_OUT) $(BENCH_ARGS)

clean:
	rm -rf .data
