# The two commands of the README: `make run` and `make test`. Each sets up everything it needs
# (a virtual environment with the package and its test tools) on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= .demo/demo-clinic.db
DEMO_PATIENTS ?= 100000

.PHONY: run test lint setup screenshots clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Opens the console on an embedded demo database (made once, then reused).
run: setup
	@if [ ! -f $(DEMO_DB) ]; then \
		mkdir -p $(dir $(DEMO_DB)) && rm -f $(DEMO_DB).part && \
		$(BIN)/portal-console demo --db $(DEMO_DB).part --patients $(DEMO_PATIENTS) && \
		mv $(DEMO_DB).part $(DEMO_DB); \
	fi
	$(BIN)/portal-console --db $(DEMO_DB)

# Lint, format check, types, the layer contracts, then the whole test suite (offscreen); the
# suite fails a test that leaves a timer or a worker running (tests/qt_leaks.py).
test: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

lint: setup
	$(BIN)/ruff check console tests bench docs
	$(BIN)/ruff format --check console tests bench docs
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache build *.egg-info
