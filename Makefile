# Every target bootstraps .venv itself: a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := sample_data/shop.xlsx

.PHONY: run test lint bench bench-spark sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint,spark]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/segscope $(SAMPLE)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check core tui tests benchmarks sample_data
	$(BIN)/ruff format --check core tui tests benchmarks sample_data
	$(BIN)/mypy core
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.run

bench-spark: $(VENV)/.installed
	$(BIN)/python -m benchmarks.spark

sample: $(VENV)/.installed
	$(BIN)/python -m sample_data.generate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
