# Two commands matter: `make demo` and `make test`. Both bootstrap everything they need from a
# fresh clone with only python3, pip and make: uv into .tools/, then .venv/ from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install demo test test-spark chromium lint format clean bench bench-large fuzz

help:
	@echo "make demo   - set up and run the whole pipeline on a generated dataset"
	@echo "make test   - set up and run the test suite"
	@echo "make test-spark - build the dbt project on a local Spark session and compare every mart with DuckDB"
	@echo "make lint   - ruff, mypy (strict on src/), sqlfluff on the dbt models"
	@echo "make bench  - end-to-end benchmark, workloads S and M (bench/RESULTS.md)"
	@echo "make bench-large - end-to-end benchmark, workload L (1,000,000 encounters)"
	@echo "make fuzz   - fuzz the readers and loaders for a while (MINUTES=10 TARGET=x12|extracts|all)"
	@echo "make clean  - remove the environment and the working data"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The environment is rebuilt whenever the lock file changes.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

demo: install
	$(BIN)/revcycle demo

# Two workers (the machines have two cores); a test file stays on one worker, so its module
# fixtures are built once.
test: install chromium
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25

# The same dbt project on Apache Spark (dbt-spark, a local session): builds a generated cycle on
# DuckDB, copies the source tables to Spark, builds everything there and compares every mart.
# Installs the optional `spark` dependency group (dbt-spark, pyspark: about 630 MB, Java 17 on
# the machine); the next `make install` (any change of uv.lock) removes it again.
test-spark: install
	$(UV) sync --frozen --group spark --python $(PYTHON)
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest -p no:xdist -m spark tests/spark

# The dashboard's browser test drives Debian's Chromium (never `playwright install`). Install it
# when it is missing and we can (apt-get, root); otherwise say why and go on: that test then
# skips with the reason.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then \
		true; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium: $(CHROMIUM) is missing and there is no apt-get: the browser test will skip"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "chromium: $(CHROMIUM) is missing and apt-get needs root: the browser test will skip"; \
	else \
		echo "chromium: installing Debian's chromium for the dashboard's browser test"; \
		DEBIAN_FRONTEND=noninteractive apt-get update && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || \
			echo "chromium: apt-get could not install it: the browser test will skip"; \
	fi

# Benchmarks never run in `make test`: they take minutes and their figures are only comparable
# on a quiet machine (bench/README.md).
bench: install
	$(BIN)/python bench/run.py S M

bench-large: install
	$(BIN)/python bench/run.py L

# The long fuzz run (fuzz/README.md); `make test` runs the same properties with few examples.
fuzz: install
	$(BIN)/python fuzz/run.py --minutes $(or $(MINUTES),10) --target $(or $(TARGET),all)

lint: install
	$(BIN)/ruff check src flows tests fuzz bench
	$(BIN)/ruff format --check src flows tests fuzz bench
	$(BIN)/mypy
	cd dbt_project && ../$(BIN)/sqlfluff lint models

format: install
	$(BIN)/ruff format src flows tests fuzz bench
	$(BIN)/ruff check --fix src flows tests fuzz bench

clean:
	rm -rf $(VENV) $(TOOLS) data/warehouse data/extracts data/answer_keys data/quarantine data/prefect data/dbt
