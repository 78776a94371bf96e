# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LINTED := twin tests benchmarks examples reference

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# the dev extras and the SimPy reference model (reference/), which tests and benchmarks import
$(VENV)/.installed-dev: pyproject.toml reference/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]' -e ./reference
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/twin run configs/houston.yaml

test: $(VENV)/.installed-dev
	$(BIN)/ruff check $(LINTED)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium could not be installed: the HTML page tests will skip"
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_engine.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(LINTED)

clean:
	rm -rf $(VENV) build *.egg-info reference/*.egg-info
