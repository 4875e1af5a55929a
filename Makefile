# Athar: two commands on a fresh machine — `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app.py
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
CATALOGS := $(wildcard cases/translations/*/LC_MESSAGES/messages.po)
COMPILED := cases/translations/.compiled
# Test tools from npm (axe-core for the accessibility checks), as package-lock.json pins them.
NODE_STAMP := node_modules/.installed

.PHONY: deploy serve faults load-test run setup test test-sqlite test-postgres test-e2e lint i18n-extract i18n-update \
        system-deps services clean node-modules-missing instance-keys

run: setup instance-keys  ## migrate, seed a demo on first run, serve on :5000
	$(BIN)/flask db upgrade
	$(BIN)/flask demo init
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Production (docs/deploy.md): settings come from the environment or instance/config.py only.
deploy: setup  ## the deploy step: apply database migrations (once, before starting servers)
	$(BIN)/flask db upgrade

serve: deploy  ## production serving: gunicorn with cases/ops/gunicorn_conf.py
	$(BIN)/gunicorn --config python:cases.ops.gunicorn_conf app:app

faults: setup services  ## kill -9 a worker, restart PostgreSQL, SQLite writers (bench/faults.py)
	.ci/faults

load-test: setup services  ## 50 users for 2 minutes on 1,000,000 cases (bench/load.py; seeds once, slow)
	$(BIN)/pip install --quiet -e '.[dev,load]'
	$(BIN)/python bench/load.py

setup: $(STAMP) $(COMPILED) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(COMPILED): $(CATALOGS) $(STAMP)
	$(BIN)/pybabel compile -d cases/translations --statistics
	touch $@

# Again when the lock file changes or axe-core has gone missing (npm ci empties node_modules).
$(NODE_STAMP): package.json package-lock.json $(if $(wildcard node_modules/axe-core/axe.min.js),,node-modules-missing)
	@if command -v npm >/dev/null; then \
	  echo "npm ci --no-audit --no-fund --silent" && npm ci --no-audit --no-fund --silent && touch $@; \
	else \
	  echo "npm is not installed: no axe-core, so the accessibility tests will fail (Debian: apt-get install npm)." >&2; \
	fi

instance/config.py:
	@mkdir -p instance
	@$(PY) -c "import secrets; print('# Written by make run: a local DEMO instance.'); print('SECRET_KEY = %r' % secrets.token_hex(32)); print('DEMO = True'); print('SESSION_COOKIE_SECURE = False  # plain http on 127.0.0.1'); print('SESSION_COOKIE_NAME = \"athar\"  # __Host- cookies need https')" > $@
	@echo "Wrote $@ (demo instance, random SECRET_KEY)."

instance-keys: instance/config.py  ## add encryption keys to an instance config that has none
	@grep -q '^DATA_KEYS' instance/config.py || $(PY) -c "import base64, secrets; print('DATA_KEYS = [%r]  # encrypts phones, document numbers, files' % base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()); print('LOOKUP_KEY = %r  # keys the hashes used to find them' % secrets.token_hex(32))" >> instance/config.py

system-deps:  ## Chromium for the browser tests (Debian package)
	@.ci/install-system-deps

services:  ## start PostgreSQL and Redis if they are not answering
	@.ci/start-services

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --configfile pyproject.toml --severity-level medium -r cases

test: setup system-deps lint  ## the whole suite on SQLite, browser tests included
	$(BIN)/pytest -p no:cacheprovider -n 2 --dist loadfile -q

test-postgres: setup services  ## the same suite (without the browser) on PostgreSQL
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -p no:cacheprovider -n 2 --dist loadfile -q -m "not e2e"

test-e2e: setup system-deps
	$(BIN)/pytest -p no:cacheprovider -q -m e2e

i18n-extract: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o cases/translations/messages.pot --no-location --sort-output --omit-header .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i cases/translations/messages.pot -d cases/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) test-artifacts
