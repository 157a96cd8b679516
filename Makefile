# Two things a new user runs:  `make train` (the MNIST CNN example) and `make test` (the test suite).
# Each installs only what it needs into .venv: `train` kerasish with plotting, `test` the test extra
# (Keras 3 as the reference, pytest, tfds, ...); `bench` the benchmark extra. A stamp per extra
# (.venv/.installed-NAME) reinstalls an extra when pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup train test bench
setup: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[$*]"
	touch $@

# `make train DOWNLOAD=1` fetches full MNIST from Keras's mirror when no local copy exists;
# `make train ARGS=--smoke` is a quick check (ARGS go to examples/mnist_cnn.py).
DOWNLOAD ?= 0
ARGS ?=
train: $(VENV)/.installed-plot
	KERASISH_DOWNLOAD=$(DOWNLOAD) $(BIN)/python examples/mnist_cnn.py $(ARGS)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py
