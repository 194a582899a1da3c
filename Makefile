# The two commands a new user needs: `make sandbox` (try it) and `make test` (the whole suite).
# Both create .venv and install secreview into it on first use.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# The suite waits on servers, processes and Slack's fakes more than it computes: one worker per CPU (pytest-xdist),
# a test module kept on one worker. Tests marked `alone` restart a shared service, so they run afterwards by
# themselves. `make test PYTEST_WORKERS=0` runs everything in one process.
PYTEST_WORKERS ?= auto
SUITE = $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not alone" && $(BIN)/pytest -m alone

.PHONY: install sandbox run test test-sqlite test-postgres lint bench bench-quick clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(BIN)/.installed

sandbox: install
	$(BIN)/secreview sandbox

run: install
	$(BIN)/secreview run

lint: install
	$(BIN)/ruff check .

test-sqlite: install
	$(SUITE)

# PostgreSQL is used when it answers at 127.0.0.1:5432; CI sets REQUIRE_POSTGRES=1 so a missing server fails.
test-postgres: install
	@if $(BIN)/python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then \
		export SECREVIEW_TEST_DATABASE_URL=$(PG_TEST_URL) && $(SUITE); \
	else \
		echo "PostgreSQL is not reachable at 127.0.0.1:5432: the PostgreSQL run is skipped"; \
		test -z "$$REQUIRE_POSTGRES"; \
	fi

test: lint test-sqlite test-postgres

bench-quick: install
	$(BIN)/python bench/detect.py --quick
	$(BIN)/python bench/digest.py --quick
	$(BIN)/python bench/ack.py --quick

bench: install
	$(BIN)/python bench/detect.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/ack.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
