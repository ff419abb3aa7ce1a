# Rightful — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the demo needs Rightful's runtime only; tests, lint and bench add the dev extras.
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
# The demo keeps its data in the repository (the CLI's own default is the user's data folder).
export RIGHTFUL_DATA_DIR ?= var

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

# Bytecode written ahead (incremental): a start then skips compiling Rightful's modules, even where
# PYTHONDONTWRITEBYTECODE keeps Python from caching them itself.
COMPILE := $(BIN)/python -m compileall -q src

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(DEV) $(RUNTIME)

install: $(DEV) ## Create .venv and install Rightful with its dev tools

demo: $(RUNTIME) ## Set up the demo company on SQLite and serve it at http://127.0.0.1:8000
	@$(COMPILE)
	RIGHTFUL_DEMO_MODE=true $(BIN)/rightful demo setup
	RIGHTFUL_DEMO_MODE=true $(BIN)/rightful serve

demo-reset: $(RUNTIME) ## Start the demo over (remove its requests, erasures and e-mails) and serve it
	@$(COMPILE)
	RIGHTFUL_DEMO_MODE=true $(BIN)/rightful demo setup --fresh
	RIGHTFUL_DEMO_MODE=true $(BIN)/rightful serve

serve: $(RUNTIME) ## Serve the privacy center and admin console (uses RIGHTFUL_* settings)
	@$(COMPILE)
	$(BIN)/rightful db upgrade
	$(BIN)/rightful serve

worker: $(RUNTIME) ## Run a Celery worker (needs RIGHTFUL_BROKER_URL)
	@$(COMPILE)
	$(BIN)/celery -A rightful.worker.celery_app:app worker --loglevel=info --concurrency=2

test: $(DEV) ## Run the whole test suite on real services
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV) ## ruff, mypy and the import contracts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

# Where Python code marks consumer text (core/i18n.py): translate(lang, "..."), translate_plural,
# and N_("...") (a default keyword) for text translated where it is shown.
BABEL_KEYWORDS := -k translate:2 -k translate_plural:2,3
LOCALES := src/rightful/locale

translations: $(DEV) ## Update the catalogues from the code and templates (NEW=fr starts a language)
	@pot=$$(mktemp --suffix=.pot) && trap 'rm -f $$pot' EXIT && \
	$(BIN)/pybabel --quiet extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-by-file \
		--project=Rightful --copyright-holder="Rightful contributors" -o $$pot src && \
	if [ -n "$(NEW)" ]; then $(BIN)/pybabel --quiet init -i $$pot -d $(LOCALES) -l $(NEW); fi && \
	$(BIN)/pybabel --quiet update -i $$pot -d $(LOCALES) --ignore-obsolete

bench: $(DEV) ## Build a large estate on PostgreSQL and time access requests (consent load: apt-get install -y wrk)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var

.PHONY: help install demo demo-reset serve worker test lint translations bench clean
