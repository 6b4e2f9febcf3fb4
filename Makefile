# One place for set-up: every target creates the virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= ../shared/data

.PHONY: setup demo test lint bench clean

$(BIN)/hcr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[train,serve,dev]'
	touch $@

setup: $(BIN)/hcr

demo: $(BIN)/hcr                      ## the main job on the real data
	$(BIN)/hcr data inspect --data-dir $(DATA) --out out/inspect

test: $(BIN)/hcr                      ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: $(BIN)/hcr
	$(BIN)/python bench/data_load.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
