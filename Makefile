# Every target installs what it needs into the venv first (a fresh clone needs only python3).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core; `make test PYTEST_WORKERS=0` runs in this process.
PYTEST_WORKERS ?= auto
# Dependencies are installed from requirements.lock (exact versions, hashes checked);
# `make lock` regenerates it from pyproject.toml with this version of uv.
UV_VERSION := 0.13.9
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet $(if $(UPGRADE),--upgrade)
BUILD_REQUIRES := $(BIN)/python -c "import tomllib; \
	print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')"
# `make serve PORT=9000 HOST=0.0.0.0` (or the same variables in the environment).
HOST ?= 127.0.0.1
PORT ?= 8765

.PHONY: serve test test-pg coverage lint format lock bench soak clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

## serve: run the server on http://$(HOST):$(PORT) with SQLite and the demo data
serve: $(STAMP)
	$(BIN)/simkl-server serve --demo --host $(HOST) --port $(PORT)

## test: lint, type-check, then the whole suite (SQLite, and PostgreSQL when it answers)
test: lint
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## coverage: the suite measured line by line, server subprocesses included (half again as long)
coverage: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS) --cov --cov-report=term $(PYTEST_ARGS)

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

## lock: pin every runtime, dev and build dependency (requirements.lock) and the bench extra
## (bench/requirements.lock) from pyproject.toml, keeping the pins that still fit it;
## `make lock UPGRADE=1` moves every pin to the newest version allowed
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BUILD_REQUIRES) | $(BIN)/uv pip compile pyproject.toml - --extra dev $(LOCK_FLAGS) \
		--custom-compile-command "make lock" --output-file requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra bench $(LOCK_FLAGS) \
		--constraint requirements.lock \
		--custom-compile-command "make lock" --output-file bench/requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage

## bench: load benchmarks on SQLite and PostgreSQL; writes bench/results/ and the README table
bench: $(STAMP)
	$(BIN)/python -m bench.run

## soak: the long robustness runs (fuzzing, concurrency, crashes) in full
soak: $(STAMP)
	SIMKL_SERVER_SOAK=1 $(BIN)/python -m pytest -m slow $(PYTEST_ARGS)
