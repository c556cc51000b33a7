# The Quickstart's two commands (`make demo`, `make test`) work on a machine with
# only Python 3.11, pip and make: each creates the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck conformance bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# requirements.lock pins every transitive version, so a fresh install is reproducible.
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,postgres,redis]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/mcpgov demo

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

conformance: install
	bash tests/conformance/run.sh

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mcpgov
