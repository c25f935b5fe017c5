# Every target bootstraps .venv itself: a fresh machine needs only python3 and make.
# `make run` installs what the app needs; `make test` and `make lint` add the test, lint,
# Spark and database extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := sample_data/shop.xlsx
PIP := $(BIN)/python -m pip install -qq --disable-pip-version-check
DEV_EXTRAS := test,lint,spark,db

.PHONY: run test lint bench bench-spark sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[$(DEV_EXTRAS)]'
	touch $(VENV)/.app $@

# mypy checks the packages under their installed names: a view of symlinks, made here.
.typecheck/segscope:
	mkdir -p $@
	ln -sfn ../../core $@/core
	ln -sfn ../../tui $@/tui

run: $(VENV)/.app
	$(BIN)/segscope $(SAMPLE)

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=10

lint: $(VENV)/.dev .typecheck/segscope
	$(BIN)/ruff check core tui tests benchmarks sample_data
	$(BIN)/ruff format --check core tui tests benchmarks sample_data
	$(BIN)/mypy -p segscope.core -p segscope.tui
	$(BIN)/lint-imports

bench: $(VENV)/.dev
	$(BIN)/python -m benchmarks.run

bench-spark: $(VENV)/.dev
	$(BIN)/python -m benchmarks.spark

sample: $(VENV)/.app
	$(BIN)/python -m sample_data.generate

clean:
	rm -rf $(VENV) .typecheck .pytest_cache .mypy_cache .ruff_cache build
