# The README's two commands: `make demo` and `make test`. Each does its own setup,
# idempotently, and installs only what it runs. `make demo`: a venv with the service's pinned
# Python dependencies and, from package-lock.json, the chain node alone (anvil, the manifest's
# one `dependencies` entry: `npm ci --omit=dev`). `make test` adds the dev tools and the npm
# devDependencies (the Solidity compiler, OpenZeppelin, Hardhat and the packages the tests
# cross-check against). A full install satisfies the demo's, so neither undoes the other.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# --no-compile: a module compiles when first imported; byte-compiling every installed file up
# front costs CPU on files the demo never imports.
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile
PY_STAMP := $(VENV)/.chainarb-installed
PY_RUNTIME_STAMP := $(VENV)/.chainarb-runtime
NODE_STAMP := node_modules/.chainarb-installed
NODE_RUNTIME_STAMP := node_modules/.chainarb-runtime
# true when stamp $(1) is newer than every file after it: that install already covers this one
newer = [ $(1) -nt $(2) ] && [ $(1) -nt $(3) ]

.PHONY: system-packages setup runtime demo test test-slow lint compile serve bench clean check-install

setup: $(PY_STAMP) $(NODE_STAMP)
runtime: $(PY_RUNTIME_STAMP) $(NODE_RUNTIME_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade "pip>=24"

$(PY_RUNTIME_STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	@$(call newer,$(PY_STAMP),pyproject.toml,constraints.txt) || \
	  $(PIP) -c constraints.txt -e '.[service]'
	@touch $@

$(PY_STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -c constraints.txt -e '.[service,dev]'
	@touch $@

$(NODE_RUNTIME_STAMP): package.json package-lock.json
	@$(call newer,$(NODE_STAMP),package.json,package-lock.json) || \
	  npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: runtime
	$(BIN)/chainarb demo

# The fast set (minutes); the slow set (faults, fuzzing, browser, hardhat, slither, the
# PostgreSQL runs: tests/conftest.py's SLOW_MODULES) runs after it in CI (.ci/run). Both
# spread over TEST_WORKERS pytest-xdist processes, a test file per process at a time (a
# file's module fixtures are built once); TEST_WORKERS=0 runs them in this process. The slow
# set's real-process fault and crash tests (SERIAL_MODULES) then run alone, in one process:
# they must not share the machine's cores. Both runs of the slow set always run; it fails
# when either did.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# the files in collection order, the longest first (tests/conftest.py HEAVY_FIRST)
SLOW_ORDER = $(if $(filter 0,$(TEST_WORKERS)),,--no-loadscope-reorder)
# The suite's processes write their bytecode caches: a machine may set PYTHONDONTWRITEBYTECODE
# (ours do), and then every process of the suite (the xdist workers, each `chainarb` and
# `chainarb serve` the tests start) compiled each module it imports again from source, about
# 1.3 s of CPU for a process that imports the app on a clean clone. The caches are ignored by
# git (.gitignore) and never packaged (pyproject.toml's package data names no bytecode).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest
test: setup system-packages
	$(PYTEST) -m "not slow" $(XDIST) $(SLOW_ORDER)

test-slow: setup system-packages
	rc=0; \
	$(PYTEST) -m "slow and not serial" $(XDIST) $(SLOW_ORDER) || rc=$$?; \
	$(PYTEST) -m "slow and serial" || rc=$$?; \
	exit $$rc

# The Debian packages the tests run (chromium, a CJK font, poppler-utils, libfaketime):
# installed when missing and we are root, else named (scripts/system_packages.sh).
system-packages:
	@scripts/system_packages.sh

lint: setup
	$(BIN)/ruff check evidence backend tests scripts bench
	$(BIN)/lint-imports
	$(BIN)/mypy

compile: setup
	$(BIN)/python scripts/compile.py

serve: runtime
	$(BIN)/chainarb serve

bench: setup
	$(BIN)/python bench/gas.py

# The wheel, installed non-editable in throw-away venvs: evidence-only and with the service
# (scripts/check_install.sh; .ci/run runs it after `make test`).
check-install: $(NODE_RUNTIME_STAMP)
	scripts/check_install.sh

clean:
	rm -rf $(VENV) node_modules .chainarb
