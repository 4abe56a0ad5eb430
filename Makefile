# The two first commands of the README: `make preview` and `make test`. Both build .venv from the
# pinned requirements when it is missing, so they work on a fresh machine with only Python 3.11.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= dev
ARGS   ?=

.PHONY: preview test lint typecheck unit bench policies-doc clean

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

policies-doc: $(BIN)/lz
	$(BIN)/python -m openbanking_policies.docs > docs/policies.md

clean:
	rm -rf $(VENV) .pytest_cache
