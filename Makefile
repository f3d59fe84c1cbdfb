# 矛盾纠纷调处研判系统 — developer commands. The README documents these.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := var/dev.env
# -qq: errors only (a machine-wide pip configuration may name package locations that do not exist
# here; pip warns about each one on every install)
PIP := PIP_DISABLE_PIP_VERSION_CHECK=1 $(PY) -m pip -qq

.PHONY: run test test-postgres bench lint mutate install dev-env demo clean-db loadtest soak backup

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -r requirements-dev.txt
	touch $@

# Front-end libraries (package.json, exact versions in package-lock.json) are installed locally
# and served by Django under static/vendor/ — never from a CDN.
NODE_STAMP := $(if $(wildcard package.json),node_modules/.installed)

node_modules/.installed: package.json package-lock.json platform/integrations/frontend/gdt_auth.js
	npm ci --no-audit --no-fund --loglevel=error
	# gdt-jsapi ships CommonJS modules only: bundle the calls the 政钉 免登 page needs (served as vendor/mdtj-bundles/)
	node_modules/.bin/esbuild platform/integrations/frontend/gdt_auth.js --bundle --minify --format=iife \
		--outfile=node_modules/mdtj-bundles/gdt-auth.js --log-level=warning
	touch $@

install: $(VENV)/.installed $(NODE_STAMP)

# Development keys (never committed): SECRET_KEY, SM4_KEY, BLIND_INDEX_KEY, AUDIT_HMAC_KEY for this checkout.
$(DEV_ENV):
	mkdir -p var
	$(PYTHON) -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(40)); print('SM4_KEY=' + secrets.token_hex(16)); print('BLIND_INDEX_KEY=' + secrets.token_hex(32)); print('AUDIT_HMAC_KEY=' + secrets.token_hex(32))" > $@
	chmod 600 $@

# A var/dev.env written before the audit chain existed gains its key (the other keys are kept).
dev-env: $(DEV_ENV)
	grep -q '^AUDIT_HMAC_KEY=' $(DEV_ENV) || $(PYTHON) -c "import secrets; print('AUDIT_HMAC_KEY=' + secrets.token_hex(32))" >> $(DEV_ENV)

WITH_ENV = set -a && . ./$(DEV_ENV) && set +a && DEBUG=$${DEBUG:-1}

demo: install dev-env
	@$(WITH_ENV) $(PY) manage.py migrate --noinput -v0
	@$(WITH_ENV) $(PY) manage.py load_metadata
	@$(WITH_ENV) $(PY) manage.py seed_demo
	@$(WITH_ENV) $(PY) manage.py import_addresses fixtures/addresses/demo_addresses.csv

# The background worker (django-q2 qcluster: uploads, pulls, scheduled checks) runs beside the
# dev server; platform/demo/devrun.py stops both, with every process they started, on Ctrl+C or
# SIGTERM.
run: demo
	@echo "系统地址：http://$(HOST):$(PORT)/  （Ctrl+C 停止；后台任务进程 qcluster 同时启动）"
	@$(WITH_ENV) exec $(PY) platform/demo/devrun.py $(HOST):$(PORT)

lint: install
	PYTHONPATH=platform:. $(VENV)/bin/lint-imports .importlinter

# The whole suite on SQLite. Browser tests run when Chromium is installed (or are required
# when E2E_REQUIRED=1, as in CI). DATABASE_URL=postgres://… runs the tests marked backend/postgres
# on PostgreSQL (ALL_TESTS=1: all of them). TEST_WORKERS processes (pytest-xdist, one test
# database each; an idle process takes tests from a busy one); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
test: install lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

bench: install
	$(PY) tests/perf/bench.py; a=$$?; $(PY) tests/perf/bench_ingest.py; b=$$?; $(PY) tests/perf/bench_dedup.py; c=$$?; $(PY) tests/perf/bench_thirdparty.py; d=$$?; $(PY) tests/perf/bench_escalation.py; e=$$?; $(PY) tests/perf/bench_warnings_unseen.py; wu=$$?; $(PY) tests/perf/bench_analysis.py; an=$$?; $(PY) tests/perf/bench_library.py; f=$$?; $(PY) tests/perf/bench_dedup_list.py; dl=$$?; $(PY) tests/perf/bench_assessment.py; as=$$?; test $$wu -eq 0 -a $$as -eq 0 -a $$dl -eq 0 -a $$an -eq 0 -a $$a -eq 0 -a $$b -eq 0 -a $$c -eq 0 -a $$d -eq 0 -a $$e -eq 0 -a $$f -eq 0

# Mutation testing, not in CI (about half an hour): each critical line of tests/mutate.py's list is
# broken in turn and its tests must fail. K=masking runs only the mutations whose name contains it.
mutate: install
	$(PY) tests/mutate.py $(if $(K),-k "$(K)")

clean-db:
	rm -f var/db.sqlite3

# Issue #17 load test on PostgreSQL (tests/load/run.py: 200k cases / 1M logs / 1,000 accounts,
# gunicorn with deploy/gunicorn.conf.py, locust at each user count). Not in CI.
LOAD_DB ?= postgres://postgres@127.0.0.1:5432/mdtj_load
LOAD_USERS ?= 50 100 200
LOAD_MINUTES ?= 3
loadtest: install
	$(PY) tests/load/run.py --database-url $(LOAD_DB) --users "$(LOAD_USERS)" --minutes $(LOAD_MINUTES)

# Bounded soak: the same scenario at a steady 100 users for SOAK_MINUTES with gunicorn's
# max-requests recycling OFF (a leak must show as the RSS slope, not be hidden by recycling).
SOAK_MINUTES ?= 120
soak: install
	GUNICORN_MAX_REQUESTS=0 $(PY) tests/load/run.py --database-url $(LOAD_DB) --users 100 --minutes $(SOAK_MINUTES)

# Backup of this checkout's database and media (ops/backup.py; production: mdtj-backup.timer).
BACKUP_DIR ?= var/backups
backup: install dev-env
	$(WITH_ENV) $(PY) manage.py backup $(BACKUP_DIR)
