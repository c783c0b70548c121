# The two commands a new user needs: `make run` and `make test`. Everything else builds on them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
DEMO_ENV := DJANGO_DEBUG=1 PORTAL_ADMIN_REQUIRE_MFA=0 PORTAL_DEMO_BANNER=1
# The suite against the servers CI has running (PostgreSQL and Redis on the loopback).
SERVICES_ENV := DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

.PHONY: help venv run test test-services browser-test lint format messages check-deploy clean

help:
	@echo "make run            set up, load the demo and serve http://127.0.0.1:8000/ (web, worker, beat)"
	@echo "make test           every test that needs no server"
	@echo "make test-services  the suite against PostgreSQL and Redis, with a real Celery worker"
	@echo "make browser-test   Playwright in headless Chromium (/usr/bin/chromium)"
	@echo "make lint           ruff, and migrations checked"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

run: venv
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py load_demo
	@echo ""
	@echo "  Hosting portal (demo mode): http://127.0.0.1:8000/"
	@echo "  Customer logins: owner@acme.example, tech@acme.example, owner@globex.example"
	@echo "  Staff login:     staff@portal.example  (admin at /admin/; MFA not required in demo mode)"
	@echo "  Password:        portal-demo-2026      E-mails are written to var/mail/"
	@echo ""
	$(DEMO_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: venv
	$(BIN)/python -m pytest -m "not services and not browser" -p no:cacheprovider

test-services: venv
	$(SERVICES_ENV) $(BIN)/python -m pytest -m "not browser" -p no:cacheprovider

browser-test: venv
	$(BIN)/python -m pytest -m browser -p no:cacheprovider -rs

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: venv
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l fr -l nl --ignore=.venv --ignore=var --ignore=tests --ignore=staticfiles --no-obsolete
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

check-deploy: venv
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=check-deploy-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	DJANGO_ALLOWED_HOSTS=portal.example $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var staticfiles
