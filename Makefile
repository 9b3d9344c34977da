# aerolake — the two commands that matter:
#   make demo [DATE=YYYY-MM-DD]   run every source's pipeline offline for one day, print what landed
#   make test                     lint and run the tests
#   make up / make down           the production-like stack as local processes (Airflow UI on :8080)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STATE := $(CURDIR)/.aerolake
DATE ?= $(shell date -u -d yesterday +%F)
STACK_DIR ?= $(STATE)/stack

export AIRFLOW_HOME ?= $(STATE)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__LOGGING__LOGGING_LEVEL ?= INFO

.PHONY: help setup system airflow-db demo report offline-up offline-down up down stack-status test lint unit e2e stack-test bench lock clean serve

help:
	@sed -n '1,5p' Makefile

system:
	@bash scripts/ensure-system.sh

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@$(MAKE) --no-print-directory system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

setup: $(BIN)/.installed

$(AIRFLOW_HOME)/.migrated: $(BIN)/.installed
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	@touch $@

airflow-db: $(AIRFLOW_HOME)/.migrated

offline-up: setup
	@$(BIN)/aerolake offline up --state-dir $(STATE)

offline-down:
	@$(BIN)/aerolake offline down --state-dir $(STATE)

up: setup system
	@$(BIN)/aerolake stack up --state-dir $(STACK_DIR)

down:
	@$(BIN)/aerolake stack down --state-dir $(STACK_DIR)

stack-status:
	@$(BIN)/aerolake stack status --state-dir $(STACK_DIR)

demo: setup system airflow-db offline-up
	@echo "== aerolake demo for $(DATE), offline (mock API, local S3, in-process MongoDB, MariaDB) =="
	@$(BIN)/aerolake migrate
	@$(BIN)/airflow pools import include/pools.json > /dev/null
	@$(BIN)/aerolake demo --date $(DATE) --log-dir $(STATE)

report: setup
	@$(BIN)/aerolake report --date $(DATE)

lint: setup
	$(BIN)/ruff check .

unit: setup system
	$(BIN)/pytest -m "not e2e and not stack" -n 2 -q

e2e: setup system
	$(BIN)/pytest -m e2e -q

stack-test: setup system
	$(BIN)/pytest -m stack -q --durations=10

# the stack tests start the whole stack once and drive it in order: after the others, on their own
test: setup system
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 -q --durations=15 -m "not stack"
	$(BIN)/pytest -q --durations=10 -m stack

serve: setup system
	$(BIN)/python -m aerolake.api

bench: setup system
	$(BIN)/python bench/bench_lufthansa.py

# requirements.txt (runtime, the image's) from requirements.in; requirements-dev.txt from requirements-dev.in
lock:
	$(BIN)/python scripts/lock.py

clean: offline-down down
	rm -rf $(STATE)
