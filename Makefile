# Two commands for a newcomer: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.installed

## Start the service on 127.0.0.1:8000 with SQLite and the WhatsApp sandbox, and play the demo.
run: install
	$(BIN)/orderwire serve --demo

## Lint, type-check and run every test (SQLite and PostgreSQL, browser tests in Chromium).
test: lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Confirmation latency and throughput (see docs/benchmarks.md).
bench: install
	$(BIN)/python benchmarks/confirmation.py --db sqlite
	$(BIN)/python benchmarks/confirmation.py --db postgres

clean:
	rm -rf $(VENV) orderwire.db* orderwire.dbos.sqlite*
