# The front door. `make run` and `make test` set themselves up on a fresh machine
# that has Python 3.11 and make; everything else they need is installed here.

PYTHON_BIN ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# make run binds here: this machine only, which tunnels (ngrok) reach. HOST=0.0.0.0
# accepts other machines too.
HOST ?= 127.0.0.1
WORKERS ?= 1
# The demo call's engine: openai-realtime or openai-live (`make demo ENGINE=openai-live`).
ENGINE ?= openai-realtime
SERVER ?= uvicorn
DOCS_ADDR ?= 127.0.0.1:8001
# The PostgreSQL and Redis servers the second test pass uses (the CI machine's).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: help install install-dev run serve migrate superuser test test-fast test-fast-sqlite test-fast-postgres test-sqlite test-bench docs docs-build \
	test-postgres test-sqlite-e2e test-sqlite-rest lint typecheck fmt migrations-check demo bench bench-connect bench-greeting up clean

help:
	@echo "make run              set up, migrate and serve on HOST:PORT (default 127.0.0.1:8000)"
	@echo "make serve            the production server (uvicorn); WORKERS=2 for two processes (needs REDIS_URL)"
	@echo "make demo             one simulated call end to end, offline (ENGINE=openai-live for GPT-Live)"
	@echo "make superuser        create an admin login"
	@echo "make test             set up and run lint, type check, migration check and the whole suite"
	@echo "make test-fast        unit and database levels, SQLite and PostgreSQL (when it answers) side by side: run between edits"
	@echo "make test-fast-sqlite     make test-fast's SQLite half: the unit and database levels"
	@echo "make test-fast-postgres   make test-fast's PostgreSQL half: the database level"
	@echo "make test-sqlite      every test level on SQLite (benchmark measurements left out)"
	@echo "make test-sqlite-e2e  make test's end-to-end pass on SQLite"
	@echo "make test-sqlite-rest make test's unit, database and browser pass on SQLite"
	@echo "make test-postgres    the database level and the end-to-end smoke tests on PostgreSQL (TEST_POSTGRES_URL)"
	@echo "make test-bench       the benchmark measurements that make test leaves out"
	@echo "make lint             ruff check and ruff format --check"
	@echo "make typecheck        mypy --strict over the whole tree"
	@echo "make fmt              ruff check --fix and ruff format"
	@echo "make migrations-check fail when a model change has no migration"
	@echo "make bench            the call-path benchmark (docs/performance.md); BASELINE='CMD' beside another bridge"
	@echo "make bench-connect    time to the greeting, engine leg opened at the upgrade vs at start"
	@echo "make bench-greeting   Twilio's start to the first greeting audio, greeting cache on vs off"
	@echo "make docs             serve the documentation site on http://127.0.0.1:8001"
	@echo "make docs-build       build the documentation site (mkdocs --strict: a broken link fails)"
	@echo "make install          create .venv and install the runtime requirements"
	@echo "make install-dev      the runtime and the development requirements"
	@echo "make migrate          apply the database migrations"
	@echo "make up               docker compose up --build"
	@echo "make clean            remove .venv, var/ and the tool caches"

$(PY):
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput

# Asks on a terminal; without one (a script, CI, docker exec without -t) it takes
# DJANGO_SUPERUSER_USERNAME, DJANGO_SUPERUSER_PASSWORD and DJANGO_SUPERUSER_EMAIL.
superuser: migrate
	@if [ -n "$$DJANGO_SUPERUSER_USERNAME" ] || [ ! -t 0 ]; then \
		if [ -z "$$DJANGO_SUPERUSER_USERNAME" ] || [ -z "$$DJANGO_SUPERUSER_PASSWORD" ]; then \
			echo "No terminal to ask on: set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD (and DJANGO_SUPERUSER_EMAIL), e.g. DJANGO_SUPERUSER_USERNAME=admin DJANGO_SUPERUSER_PASSWORD='a long passphrase' make superuser" >&2; \
			exit 2; \
		fi; \
		$(PY) manage.py createsuperuser --noinput; \
	else \
		$(PY) manage.py createsuperuser; \
	fi

run: migrate
	@$(PY) manage.py serve_info --port $(PORT) --host $(HOST)
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) --websocket-max-message-size 262144 --proxy-headers voiceassistant.asgi:application

# The production server (manage.py serve: uvicorn); WORKERS=N runs N processes on
# consecutive ports, sharing Redis as the channel layer.
# Put a WebSocket-capable load balancer in front (docs/operations.md).
serve: migrate
	$(PY) manage.py serve --workers $(WORKERS) --port $(PORT) --server $(SERVER)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy --strict with the django-stubs plugin over the whole tree
# (pyproject.toml, [tool.mypy]).
typecheck: install-dev
	$(VENV)/bin/mypy

# The documentation site (docs/, mkdocs.yml). --strict: a broken link fails.
docs-build: install-dev
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Serves the site with live reload on DOCS_ADDR (default 127.0.0.1:8001).
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr $(DOCS_ADDR)

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install-dev
	$(PY) manage.py makemigrations --check --dry-run

# The test levels: <app>/tests/unit, db, e2e and browser. The benchmark
# measurements (marked bench) stay out of make test; make test-bench runs them.
UNIT_LEVEL := assistants/tests/unit calls/tests/unit voiceassistant/tests/unit
DB_LEVEL := assistants/tests/db calls/tests/db voiceassistant/tests/db
# What the PostgreSQL pass runs: the database level, and of the end-to-end level the
# smoke tests (also_daphne: a plain call, SIGTERM, a tool flow) with their servers
# on PostgreSQL; the rest of e2e runs once, on SQLite.
PG_TESTS ?= $(DB_LEVEL) calls/tests/e2e
PG_SELECT ?= not browser and not bench and (not e2e or also_daphne)
# The tests run outside make's job server: some run make themselves.
PYTEST := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(PY) -m pytest

test-sqlite: install-dev
	DATABASE_URL= REDIS_URL= $(PYTEST) -m "not bench"

# What a developer runs between edits: no server processes, no browser. The two
# databases' passes run side by side (two jobs); each prints when it is done.
test-fast: install-dev
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-fast-sqlite test-fast-postgres

test-fast-sqlite: install-dev
	DATABASE_URL= REDIS_URL= $(PYTEST) -p no:cacheprovider -q $(UNIT_LEVEL) $(DB_LEVEL)

test-fast-postgres: install-dev
	@$(MAKE) --no-print-directory test-postgres PG_TESTS="$(DB_LEVEL)"

test-bench: install-dev
	DATABASE_URL= REDIS_URL= $(PYTEST) -p no:cacheprovider -m bench

# PostgreSQL pass: PG_TESTS selected by PG_SELECT. Mandatory when CI=true;
# skipped with a message when no server answers on a developer's machine.
test-postgres: install-dev
	@if $(PY) -m voiceassistant.services_probe postgres "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" CONN_MAX_AGE=0 REDIS_URL= $(PYTEST) -m "$(PG_SELECT)" -p no:cacheprovider -q $(PG_TESTS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is required when CI=true but $(TEST_POSTGRES_URL) does not answer"; exit 1; \
	else \
		echo "SKIPPED the PostgreSQL pass: no server at $(TEST_POSTGRES_URL)"; \
	fi

# The full gate (CI): the checks, every level on SQLite, then the PostgreSQL pass,
# one after the other. Running the passes side by side took about half the time,
# but the end-to-end latency tests then measure a loaded machine and can fail.
test: lint typecheck migrations-check docs-build test-sqlite test-postgres

test-sqlite-e2e: install-dev
	DATABASE_URL= REDIS_URL= TEST_DATABASE_NAME=var/test-e2e.sqlite3 $(PYTEST) -p no:cacheprovider -q -m "not bench" calls/tests/e2e

test-sqlite-rest: install-dev
	DATABASE_URL= REDIS_URL= TEST_DATABASE_NAME=var/test-rest.sqlite3 $(PYTEST) -p no:cacheprovider -q -m "not bench" $(UNIT_LEVEL) $(DB_LEVEL) calls/tests/browser

demo: migrate
	$(PY) manage.py demo_call --site-url http://localhost:$(PORT) --engine $(ENGINE)

# BASELINE: another bridge's start command, measured in the same run (docs/performance.md).
bench: install-dev
	$(PY) -m calls.tooling.bench $(if $(BASELINE),--baseline "$(BASELINE)") $(BENCH_ARGS)

# Time to the greeting with the Realtime leg opened at the upgrade vs at `start`.
bench-connect: install-dev
	$(PY) -m calls.tooling.bench.connect $(BENCH_ARGS)

# Twilio's start to the first greeting audio, Realtime stand-in 300 ms to accept
# and 300 ms to first audio (docs/performance.md).
bench-greeting: install-dev
	$(PY) -m calls.tooling.bench.greeting $(BENCH_ARGS)

up:
	docker compose up --build

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
