# batchlake — `make help` lists every target. Targets set themselves up: a fresh clone needs only
# Python 3.11 and Java 17 (for Spark). pip's cache (~/.cache/pip) is reused when present.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
export SPARK_LOCAL_IP ?= 127.0.0.1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PACKAGES := -e src/core -e src/ingest -e src/transforms -e 'src/batchlake[dev]'
STAMP := $(VENV)/.installed

$(STAMP): requirements/constraints.txt src/core/pyproject.toml src/ingest/pyproject.toml src/transforms/pyproject.toml src/batchlake/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned dependencies into $(VENV) (first time builds pyspark, ~2 min)"
	$(PY) -m pip install -q pip==$(PIP_VERSION)
	$(PY) -m pip install -c requirements/constraints.txt $(PACKAGES) --progress-bar off
	@touch $@

.PHONY: help setup demo test lint clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the pinned dependencies and the four packages (editable), and the JVM class archive
	@$(VENV)/bin/batchlake class-archive || echo "warning: batchlake class-archive failed (above): local Spark starts without it" >&2

demo: setup ## run every demo dataset end to end on the local default (demo API, Spark, GX, DuckDB)
	$(VENV)/bin/batchlake demo

test: setup ## run the test suite (starts its own demo API and AWS emulator on 127.0.0.1)
	$(VENV)/bin/pytest

lint: setup ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean: ## remove the local lake, build outputs and caches (keeps .venv)
	rm -rf .lake build dist bench/work .pytest_cache .ruff_cache spark-warehouse

-include mk/*.mk
