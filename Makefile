# Kehu: `make run` to start, `make test` for the whole suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run setup deps assets messages migrate demo test check lint fmt fmt-check typecheck imports migrations-check pytest pytest-pg e2e bench clean

run: setup ## install, build, migrate, load demo data once, start web + worker + beat
	$(PY) manage.py kehu_run --port $(PORT)

setup: $(VENV)/.installed node_modules/.installed assets messages migrate

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed

assets: node_modules/.installed
	$(PYTHON) scripts/build_assets.py

messages: $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --no-input -v 0

demo: migrate ## load the demo company (idempotent; only with DEBUG on, as in config.settings.local)
	$(PY) manage.py load_demo

# --- quality gates (run once), then the tests -----------------------------------------------
test: deps assets messages check pytest

check: lint fmt-check typecheck imports migrations-check

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

fmt-check: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy kehu config bench

imports: $(VENV)/.installed
	$(VENV)/bin/lint-imports

migrations-check: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

# The whole suite on SQLite: unit, API (incl. schemathesis), browser, process and broker tests.
# pytest exits 5 when nothing was collected: make fails on it, an empty selection never passes.
# Tests marked `postgres` need PostgreSQL and run in pytest-pg.
PYTEST := DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest
PYTEST_WORKERS ?= 2
PYTEST_XDIST := $(if $(filter-out 0 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS),)
pytest: $(VENV)/.installed
	$(PYTEST) $(PYTEST_XDIST) -m "not postgres" $(PYTEST_ARGS)

# The suite again on PostgreSQL (pytest-django creates test_<db> databases next to PG_URL's), without
# the tests that do not use it (broker and process tests run on their own scratch SQLite). Schemathesis
# runs again: PostgreSQL refuses values SQLite takes (NUL characters, out-of-range numbers).
PG_URL ?= postgres://postgres@127.0.0.1:5432/kehu
pytest-pg: $(VENV)/.installed
	DATABASE_URL=$(PG_URL) $(PYTEST) $(PYTEST_XDIST) -m "not brokers and not processes" $(PYTEST_ARGS)

e2e: deps assets messages
	$(PYTEST) -m e2e tests/e2e $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
