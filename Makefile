# clearinghouse — `make run` and `make test` are all a fresh machine needs (Python 3.11 + pip).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
export CLEARINGHOUSE_HOME ?= $(CURDIR)/data

.PHONY: help env run test test-fast lint format lock bench bench-normalize bench-quality bench-dedupe bench-pipeline bench-fidelity bench-live bench-fetch bench-regions bench-places clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-16s %s\n", $$1, $$2}'

# Bytecode is compiled at install: every stage is its own process (an Airflow task), and where
# PYTHONDONTWRITEBYTECODE is set (CI, most images) Python would otherwise compile Great Expectations, pandas
# and the rest from source in each one (about 4 CPU-seconds a process).
$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@test -x $(PY) || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@echo "compiling bytecode (once: up-to-date files are skipped)"
	@$(PY) -m compileall -q -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
		foundation extractors transforms warehouse clearinghouse dags >/dev/null
	@touch $@

env: $(VENV)/.installed ## create or update the virtual environment from the lock file

run: env ## run the nightly DAG once through Airflow in demo mode (LIVE=1: the real sites; V=1: Airflow's log live)
	$(PY) -m clearinghouse.cli $(if $(V),-v) airflow-run $(if $(LIVE),--live)

test: env lint ## run the whole test suite (what CI runs)
	$(PY) -m pytest

test-fast: env ## tests without the slow end-to-end ones
	$(PY) -m pytest -m "not slow"

lint: env ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: env ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: ## re-resolve pinned dependencies from requirements/requirements.in
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) pip compile --quiet --python-version 3.11 requirements/requirements.in -o requirements.lock

bench: bench-normalize bench-quality bench-dedupe bench-pipeline ## every benchmark

bench-normalize: env ## normalization throughput on >=100k records built from the real feeds
	$(PY) bench/bench_normalize.py

bench-quality: env ## Great Expectations validation of >=100k canonical rows (target < 5 s)
	$(PY) bench/bench_quality.py

bench-dedupe: env ## resolution P/R/F1, wall time and peak RSS at 10k, 100k, 1M records (1M: <= 120 s, <= 4 GB)
	$(PY) bench/bench_dedupe.py

bench-pipeline: env ## every stage at 10k, 100k, 1M meetings over loopback HTTP, incremental night; writes BENCHMARKS.md
	$(PY) bench/bench_pipeline.py

bench-fidelity: env ## the latest release against what its sources said (end times, updated, spec fields; after `make run`)
	$(PY) bench/bench_fidelity.py

bench-live: env ## the live registry's fetch at the politeness delays, answered from loopback (LATENCY_MS=1000: slow servers)
	$(PY) bench/bench_live_fetch.py --latency-ms $(or $(LATENCY_MS),0)

bench-fetch: env ## CPU per source of a quiet night's fetch (every source answers 304; SOURCES=500, PROFILE=1: cProfile)
	$(PY) bench/bench_fetch.py --sources $(or $(SOURCES),500) $(if $(PROFILE),--profile)

bench-regions: env ## the latest release's regional feeds: meetings outside them, New York City, labels (after `make run`)
	$(PY) bench/bench_regions.py

bench-places: env ## the place cache of regions.assign on a bench home (BENCH_HOME=...): cold, quiet, 1 % changed, CPU seconds
	$(PY) bench/bench_places.py $(BENCH_HOME)

clean: ## remove the runtime home (data/) — the warehouse, raw archive and releases
	rm -rf data
