# Collaboration Atlas. On a fresh machine with Python 3.11+:
#   make run     virtualenv + dependencies + demo database (if none) + serve on PORT (default 8501)
#   make test    the whole test suite
#   make lint    ruff over the whole repository (pyproject.toml); .ci/run runs it before the tests
#   make bench   benchmarks on both demo profiles (docs/benchmarks.md); not part of make test. Quicker:
#                make bench BENCH_ARGS="--scales 100k,1m" (dense) or BENCH_ARGS="--scales continuum"
PYTHON ?= python3
PORT ?= 8501
VENV := .venv
BIN := $(VENV)/bin
DB := $(or $(ATLAS_DB),data/atlas.duckdb)
export ATLAS_DB := $(DB)

.PHONY: run test lint bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DB): | $(VENV)/.installed
	$(BIN)/python -m atlas demo --db $(DB)

run: $(VENV)/.installed $(DB)
	$(BIN)/python -m atlas upgrade --db $(DB)
	$(BIN)/python -m atlas serve --port $(PORT)

demo: $(VENV)/.installed
	$(BIN)/python -m atlas demo --db $(DB)

# axe-core for the accessibility tests (tests/test_accessibility.py), pinned by tests/a11y/package-lock.json
AXE := tests/a11y/node_modules/axe-core/axe.min.js
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.installed-dev $(AXE)
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
