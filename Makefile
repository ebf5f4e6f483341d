# Set-up and everyday commands. `make demo` and `make test` are all a new machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
  openjdk-17-jre-headless  # Java for Spark, one of the evaluation's engines
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck pytest assets system-packages clean

## demo: install, load the demo trial into SQLite and serve it at http://127.0.0.1:8000
demo: $(VENV)/.installed assets
	$(BIN)/aftercrisis demo --reset
	$(BIN)/aftercrisis serve 127.0.0.1:8000

## test: install the test tools (Debian's chromium included) and run every check and test
test: system-packages $(VENV)/.installed-test assets lint typecheck pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test assets
	$(BIN)/pytest -n auto $(PYTEST_ARGS)  # one worker per core

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

## assets: the NHS.UK frontend, compiled into src/aftercrisis/static (never committed)
assets: src/aftercrisis/static/nhsuk/app.css

src/aftercrisis/static/nhsuk/app.css: node_modules/.package-lock.json assets/app.scss assets/build.mjs assets/init.js
	npm run -s build

## system-packages: Debian's chromium (for browser tests), poppler and Pango (for PDFs), Java (for Spark), if missing
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf build src/aftercrisis/static var .mypy_cache .ruff_cache .import_linter_cache
