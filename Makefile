# The README's two commands: `make demo` and `make test`. Each does its own setup,
# idempotently: a venv with the pinned Python dependencies and `npm ci` for the
# Solidity compiler, OpenZeppelin, anvil, Hardhat and the cross-check packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.chainarb-installed
NODE_STAMP := node_modules/.chainarb-installed

.PHONY: setup demo test lint compile serve bench clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[service,dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BIN)/chainarb demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check evidence backend tests scripts bench
	$(BIN)/lint-imports
	$(BIN)/mypy

compile: setup
	$(BIN)/python scripts/compile.py

serve: setup
	$(BIN)/chainarb serve

bench: setup
	$(BIN)/python bench/gas.py

clean:
	rm -rf $(VENV) node_modules .chainarb
