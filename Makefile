# Every target installs what it needs into .venv first (a fresh clone needs nothing else).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# `make serve PORT=9000 HOST=0.0.0.0` (or the same variables in the environment).
HOST ?= 127.0.0.1
PORT ?= 8765

.PHONY: serve test test-pg lint format bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## serve: run the server on http://$(HOST):$(PORT) with SQLite and the demo data
serve: $(STAMP)
	$(BIN)/simkl-server serve --demo --host $(HOST) --port $(PORT)

## test: lint, type-check, then the whole suite (SQLite, and PostgreSQL when it answers)
test: lint
	$(BIN)/python -m pytest -m "not slow" --cov --cov-report=term $(PYTEST_ARGS)

## test-pg: the suite with PostgreSQL mandatory (what CI runs)
test-pg: $(STAMP)
	SIMKL_SERVER_REQUIRE_POSTGRES=1 $(MAKE) test

lint: $(STAMP)
	$(BIN)/ruff check simkl_server tests bench scripts
	$(BIN)/ruff format --check simkl_server tests bench scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format simkl_server tests bench scripts
	$(BIN)/ruff check --fix simkl_server tests bench scripts

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage

## bench: load benchmarks on SQLite and PostgreSQL; writes bench/results/ and the README table
bench: $(STAMP)
	$(BIN)/python -m bench.run

## soak: the long robustness runs (fuzzing, concurrency, crashes) in full
soak: $(STAMP)
	SIMKL_SERVER_SOAK=1 $(BIN)/python -m pytest -m slow $(PYTEST_ARGS)
