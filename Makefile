# Rightful — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export RIGHTFUL_DATA_DIR ?= var

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Rightful with its dev tools

demo: $(STAMP) ## Set up the demo company on SQLite and serve it at http://127.0.0.1:8000
	RIGHTFUL_DEMO_MODE=true $(BIN)/rightful demo setup
	RIGHTFUL_DEMO_MODE=true $(BIN)/rightful serve

serve: $(STAMP) ## Serve the privacy center and admin console (uses RIGHTFUL_* settings)
	$(BIN)/rightful db upgrade
	$(BIN)/rightful serve

worker: $(STAMP) ## Run a Celery worker (needs RIGHTFUL_BROKER_URL)
	$(BIN)/celery -A rightful.worker.celery_app:app worker --loglevel=info --concurrency=2

test: $(STAMP) ## Run the whole test suite on real services
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy and the import contracts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(STAMP) ## Build a large estate on PostgreSQL and time access requests
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var

.PHONY: help install demo serve worker test lint bench clean
