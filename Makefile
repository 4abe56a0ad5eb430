# The two first commands of the README: `make preview` and `make test`. Both build .venv from the
# pinned requirements when it is missing, so they work on a fresh machine with only Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= dev
ARGS   ?=

.PHONY: preview test lint typecheck unit bench policies-doc sandbox lambdas clean

$(BIN)/lz: requirements.txt requirements-dev.txt services/requirements.txt services/requirements-test.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

preview: $(BIN)/lz
	$(BIN)/lz preview --stack $(STACK) $(ARGS)

test: lint typecheck unit

lint: $(BIN)/lz
	$(BIN)/ruff check .
	$(BIN)/actionlint

typecheck: $(BIN)/lz
	$(BIN)/pyright

unit: $(BIN)/lz
	$(BIN)/pytest -q

bench: $(BIN)/lz
	$(BIN)/python -m lz.bench
	$(BIN)/python services/benchmark.py

# The Open Banking APIs on http://127.0.0.1:8000 (env PORT to change), with synthetic data (services/README.md).
sandbox: $(BIN)/lz
	cd services && PORT=$${PORT:-8000} ../$(BIN)/python -m openbanking.sandbox serve

# Lambda archives with their dependencies, for the workload and api accounts: services/dist/<name>.zip
lambdas: $(BIN)/lz
	$(BIN)/python services/build_lambdas.py

policies-doc: $(BIN)/lz
	$(BIN)/python -m openbanking_policies.docs > docs/policies.md

clean:
	rm -rf $(VENV) .pytest_cache
