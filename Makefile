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
# The PostgreSQL and Redis servers the second test pass uses (the CI machine's).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: help install install-dev run serve migrate superuser test test-sqlite \
	test-postgres lint typecheck fmt migrations-check demo bench bench-connect bench-greeting up clean

help:
	@echo "make run      set up, migrate and serve on HOST:PORT (default 127.0.0.1:8000)"
	@echo "make test     set up and run lint, type check, migration check and the whole suite"
	@echo "make serve   the production server (uvicorn); WORKERS=2 for two processes (needs REDIS_URL)"
	@echo "make demo     one simulated call end to end, offline (ENGINE=openai-live for GPT-Live)"
	@echo "make bench    the bridge benchmark (see README, Performance)"
	@echo "make superuser   create an admin login"

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

superuser: migrate
	$(PY) manage.py createsuperuser

run: migrate
	@$(PY) manage.py serve_info --port $(PORT) --host $(HOST)
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) --websocket-max-message-size 262144 --proxy-headers voiceassistant.asgi:application

# The production server (manage.py serve: uvicorn); WORKERS=N runs N processes on
# consecutive ports, sharing Redis as the channel layer.
# Put a WebSocket-capable load balancer in front (see README, Scaling).
serve: migrate
	$(PY) manage.py serve --workers $(WORKERS) --port $(PORT) --server $(SERVER)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with the django-stubs plugin; strict for the protocol and call-state
# packages (pyproject.toml, [tool.mypy]).
typecheck: install-dev
	$(VENV)/bin/mypy

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install-dev
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: install-dev
	DATABASE_URL= REDIS_URL= $(PY) -m pytest

# PostgreSQL pass: only the tests that touch the database. Mandatory when CI=true;
# skipped with a message when no server answers on a developer's machine.
test-postgres: install-dev
	@if $(PY) -m voiceassistant.services_probe postgres "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" CONN_MAX_AGE=0 REDIS_URL= $(PY) -m pytest -m "not browser" -p no:cacheprovider; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is required when CI=true but $(TEST_POSTGRES_URL) does not answer"; exit 1; \
	else \
		echo "SKIPPED the PostgreSQL pass: no server at $(TEST_POSTGRES_URL)"; \
	fi

test: lint typecheck migrations-check test-sqlite test-postgres

demo: migrate
	$(PY) manage.py demo_call --site-url http://localhost:$(PORT) --engine $(ENGINE)

bench: install-dev
	$(PY) -m calls.tooling.bench $(BENCH_ARGS)

# Time to the greeting with the Realtime leg opened at the upgrade vs at `start`.
bench-connect: install-dev
	$(PY) -m calls.tooling.bench.connect $(BENCH_ARGS)

# Twilio's start to the first greeting audio, Realtime stand-in 300 ms to accept
# and 300 ms to first audio (README, Performance).
bench-greeting: install-dev
	$(PY) -m calls.tooling.bench.greeting $(BENCH_ARGS)

up:
	docker compose up --build

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
