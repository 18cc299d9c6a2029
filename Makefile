# One Makefile for the template root and for every generated team repo (copied verbatim).
# In the template root (template_tests/ present) `test` also runs the template-only tests
# and `demo` renders a team repo into build/demo/ first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
CHECKOV_VENV ?= .venv-checkov
UV_VERSION := 0.9.30
BIN := $(VENV)/bin
IS_TEMPLATE := $(wildcard template_tests)
DEMO_DIR := build/demo
DEMO_ROWS ?= 20000
# explicit folders: ruff would otherwise try to parse the template's Jinja pyproject.toml
LINT_PATHS := $(wildcard pipelines seedcode tests bench infra hooks template_tests)

include infra/checkov.mk
include container.mk

.PHONY: help venv browser test lint demo bench lock clean ui update check-template

# each target once, as this repo defines it: of a target defined in both branches of
# `ifneq ($(IS_TEMPLATE),)`, only the branch that applies here (template root or team repo)
help: ## list the targets
	@awk -F':.*## ' -v template="$(IS_TEMPLATE)" -v ui_port="$(UI_PORT)" ' \
	  /^ifneq \(\$$\(IS_TEMPLATE\),\)/ { branch = "template"; next } \
	  /^else/ && branch == "template" { branch = "team"; next } \
	  /^endif/ { branch = ""; next } \
	  /^[a-zA-Z_-]+:.*## / && !(branch == "template" && template == "") && !(branch == "team" && template != "") \
	    && !seen[$$1]++ { gsub(/\$$\(UI_PORT\)/, ui_port, $$2); printf "  make %-17s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
	  { echo "ERROR: Python 3.11 is required ($(PYTHON) is $$($(PYTHON) --version 2>&1)); install it or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	@touch $@

venv: $(VENV)/.installed ## create the virtual environment from requirements.lock

lint: venv ## ruff over the code folders
	$(BIN)/ruff check $(LINT_PATHS)

# the first Chromium-family browser present (CodeBuild's standard images ship Google Chrome), else Debian's
CHROMIUM ?= $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome-stable \
  /usr/bin/google-chrome) /usr/bin/chromium)

browser: $(CHROMIUM) ## a headless Chromium for the report tests (Debian's chromium, apt-get installed when missing)

$(CHROMIUM):
	@[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null || { echo "ERROR: the report tests need Chromium at" \
	  "$(CHROMIUM); as root run: apt-get update && apt-get install -y chromium (Debian), then make test" >&2; exit 1; }
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

# pytest-xdist: one worker per core; a test file stays on one worker (module fixtures are shared, not rebuilt)
TEST_WORKERS ?= auto

# In the template root, tests/ run once, inside the day-one team repo that template_tests/test_generated_repo.py
# renders with non-default inputs and whose own `make test` it runs: the same files, a stricter config.
# `$(BIN)/python -m pytest tests` runs them against the reference project's config directly.
test: venv browser $(CHECKOV_VENV)/.installed $(CONTAINER_VENV)/.installed terraform-native ## ruff, then every test of this repo
	$(BIN)/ruff check $(LINT_PATHS)
	$(if $(IS_TEMPLATE),,$(CONTAINER_VENV)/bin/python -m pytest -q tests/seedcode)
	CHECKOV_BIN=$(abspath $(CHECKOV_VENV))/bin/checkov ML_FACTORY_VENV=$(abspath $(VENV)) ML_FACTORY_CHROMIUM=$(CHROMIUM) \
	  ML_FACTORY_CONTAINER_PYTHON=$(abspath $(CONTAINER_VENV))/bin/python \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(if $(IS_TEMPLATE),template_tests,tests)

ifneq ($(IS_TEMPLATE),)
demo: venv ## render a team repo into build/demo/<slug> and run it there
	@dir=$$($(BIN)/python -m hooks.render_demo $(DEMO_DIR)) && \
	  $(MAKE) --no-print-directory -C "$$dir" demo VENV=$(abspath $(VENV)) CHECKOV_VENV=$(abspath $(CHECKOV_VENV))
else
demo: venv ## run the whole pipeline on this machine on generated data (no AWS, no Docker), apart from real runs
	$(BIN)/python -m pipelines.run --local --demo --rows $(DEMO_ROWS)
	@echo "the demo keeps its own registry: $(BIN)/python -m pipelines.registry --local --demo list"
endif

STATE_DIR ?= .ml-factory
UI_PORT ?= 5000

ui: venv ## compare runs: the MLflow UI on the local tracking store, http://127.0.0.1:$(UI_PORT)
	$(BIN)/mlflow ui --host 127.0.0.1 --port $(UI_PORT) --workers 1 \
	  --backend-store-uri sqlite:///$(abspath $(STATE_DIR))/mlflow.db --default-artifact-root $(abspath $(STATE_DIR))/mlruns

bench: venv ## dry-run speed, then local pipeline vs bare xgboost at 100k and 1M rows (a few minutes)
	$(BIN)/python bench/dry_run.py
	$(BIN)/python bench/local_pipeline.py

update: venv ## take in the template's newest commit (cruft update; conflicts are named, exit 1), then run the tests
	$(BIN)/python -m pipelines.template_update update
	$(MAKE) --no-print-directory test

check-template: venv ## warn when the template has a newer commit than .cruft.json records (cruft check)
	$(BIN)/python -m pipelines.template_update check

lock: container-lock ## re-resolve requirements.in and requirements-container.in into their locks
	$(BIN)/uv pip compile -q --universal --generate-hashes --python-version 3.11 requirements.in -o requirements.lock

clean: ## remove environments, build output and local runs
	rm -rf $(VENV) $(CHECKOV_VENV) $(CONTAINER_VENV) build .ml-factory .pytest_cache .ruff_cache
