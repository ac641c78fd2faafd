# govflow: `make demo` and `make test` each do all the set-up they need on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.govflow-installed

.PHONY: help setup browser lint format test test-fast demo demo-monitor bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv and install govflow with its dev extras (fast when nothing changed)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "govflow needs Python 3.11+, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing govflow and its dev extras into $(VENV) ..."
	@# This machine's pip config names optional local indexes; silence their "ignored" noise only.
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 \
		| { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@touch $(STAMP)

browser: ## Install Debian's Chromium for the browser tests (needs root and apt)
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "the browser tests need /usr/bin/chromium: install Debian's chromium package (as root: apt-get install chromium), or run 'make browser' as root" >&2; \
		exit 1; \
	fi; \
	echo "installing Debian's chromium (for the browser tests) ..."; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: setup ## Run ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: setup browser lint ## Lint, then run the whole test suite
	$(BIN)/pytest

test-fast: setup ## Run the tests without the slow end-to-end ones
	$(BIN)/pytest -m "not slow"

demo: setup ## Run the quickstart demo on the bundled sample data
	$(BIN)/python -m demo.run

demo-monitor: setup ## After `make demo`: monitor both production batches, alert, open the intervention
	$(BIN)/python -m demo.monitor

bench: setup ## Run every benchmark (prints ratios against same-run baselines)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) .govflow .pytest_cache
