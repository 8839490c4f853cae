# Two commands for a newcomer: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test test-ahead lint format bench soak clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.installed

## Start the service on 127.0.0.1:8000 with SQLite and the WhatsApp sandbox, and play the demo.
run: install
	$(BIN)/orderwire serve --demo

## Lint, type-check and run every test (SQLite and PostgreSQL, browser tests in Chromium), then the
## live-service tests again 60 days and 12 hours ahead.
test: lint
	$(BIN)/pytest
	$(MAKE) test-ahead

## The tests that run the service on the real clock, with every Python clock 60 days ahead: a test whose
## dates will age into a failure fails now, not weeks later (tests/ahead/sitecustomize.py). The extra 12
## hours put this run in the other half of the day (the India/UTC date boundary).
# (-W: sitecustomize imports time-machine before pytest can rewrite its plugin's asserts; harmless.)
test-ahead: install
	PYTHONPATH=$(CURDIR)/tests/ahead TESTS_DAYS_AHEAD=60.5 $(BIN)/pytest -W "ignore:Module already imported:pytest.PytestAssertRewriteWarning" tests/integration tests/e2e

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Benchmarks on loopback (see docs/benchmarks.md; each script also runs alone, --help lists its options).
## Confirmation latency, webhook ingestion, sending vs the per-number limit, the no-database ceiling,
## overload and drain. The soak (100,000 orders, hours) runs only with `make soak`. A "-" line goes on
## when its script reports a failed check (exit 1), so one finding does not hide the other results.
bench: install
	$(BIN)/python benchmarks/confirmation.py --db sqlite
	$(BIN)/python benchmarks/confirmation.py --db postgres
	-$(BIN)/python benchmarks/ingestion.py --db sqlite --webhook shiprocket
	-$(BIN)/python benchmarks/ingestion.py --db postgres --webhook shiprocket
	-$(BIN)/python benchmarks/sending.py --db sqlite --limit 80
	-$(BIN)/python benchmarks/sending.py --db postgres --limit 80
	-$(BIN)/python benchmarks/pacer.py --threads 32 --limit 80
	-$(BIN)/python benchmarks/baseline.py
	-$(BIN)/python benchmarks/overload.py --db sqlite --sustainable 100
	-$(BIN)/python benchmarks/overload.py --db postgres --sustainable 150
	-$(BIN)/python benchmarks/pump.py --db postgres

## 100,000 orders through every stage on SQLite and PostgreSQL, memory sampled (hours).
soak: install
	-$(BIN)/python benchmarks/soak.py --db sqlite --orders 100000 --in-flight 200
	-$(BIN)/python benchmarks/soak.py --db postgres --orders 100000 --in-flight 200

clean:
	rm -rf $(VENV) orderwire.db*
