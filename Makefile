# The two commands a new user needs: `make run` and `make test`. Everything else builds on them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
DEMO_ENV := DJANGO_DEBUG=1 PORTAL_ADMIN_REQUIRE_MFA=0 PORTAL_DEMO_BANNER=1
# The suite against the servers CI has running (PostgreSQL and Redis on the loopback).
SERVICES_ENV := DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

.PHONY: help venv run test test-services browser-test screenshots lint format messages check-deploy security clean soak

help:
	@echo "make run            set up, load the demo and serve http://127.0.0.1:8000/ (web, worker, beat)"
	@echo "make test           every test that needs no server"
	@echo "make test-services  the suite against PostgreSQL and Redis, with a real Celery worker"
	@echo "make browser-test   Playwright in headless Chromium (/usr/bin/chromium)"
	@echo "make screenshots    a PNG of every page with the demo data, desktop and phone width, in var/screenshots/"
	@echo "make lint           ruff, and migrations checked"
	@echo "make bench          load data in PostgreSQL (portal_bench), gunicorn, latency and throughput, the nightly jobs"
	@echo "make soak           simulated customers on gunicorn + PostgreSQL + Redis + worker, then faults"
	@echo "make security       check --deploy, bandit on the apps, the security tests"

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
	$(BIN)/python -m pytest -m "browser and not screenshots" -p no:cacheprovider -rs

# Every page, signed in as the demo owner and as staff: var/screenshots/{desktop,phone}-<page>.png.
screenshots: venv
	$(BIN)/python -m pytest -m screenshots -p no:cacheprovider -q tests/browser/test_screenshots.py

# Load and faults (portal/soak/run.py): SOAK_CUSTOMERS (50), SOAK_SECONDS (60), SOAK_REDIS_DOWN_SECONDS (20).
soak: venv
	$(BIN)/python -m portal.soak.run

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

# The security gate: deploy checks, bandit (medium and high findings; each exception is a
# `# nosec BXXX: why` comment), and the tests marked `security` (they need no server).
security: check-deploy
	$(BIN)/bandit --quiet --recursive accounts services support billing portal --exclude '*/migrations/*' --severity-level medium
	$(BIN)/python -m pytest -m security -p no:cacheprovider

clean:
	rm -rf $(VENV) var staticfiles

# Performance (issue 8): a dedicated PostgreSQL database, filled from scratch, measured under gunicorn.
BENCH_CUSTOMERS ?= 5000
BENCH_SECONDS ?= 20
BENCH_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench REDIS_URL=redis://127.0.0.1:6379/14 \
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench-only-0123456789abcdefghijklmnopqrstuvwxyz-0123456789 \
	DJANGO_ALLOWED_HOSTS=127.0.0.1 PORTAL_VAR_DIR=$(CURDIR)/var/bench/run
bench: venv
	mkdir -p var/bench/run
	psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS portal_bench" -c "CREATE DATABASE portal_bench"
	$(BENCH_ENV) $(BIN)/python manage.py migrate --no-input -v0
	$(BENCH_ENV) $(BIN)/python manage.py collectstatic --no-input -v0
	$(BENCH_ENV) $(BIN)/python manage.py generate_load_data --customers $(BENCH_CUSTOMERS) --big-customer --force \
		| tee var/bench/run/generate.log
	psql -h 127.0.0.1 -U postgres -q portal_bench -c ANALYZE  # planner statistics: autovacuum may be off
	$(BENCH_ENV) $(BIN)/python -m portal.bench.run --seconds $(BENCH_SECONDS)
	$(BENCH_ENV) $(BIN)/python -m portal.bench.jobs
