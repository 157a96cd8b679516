# Two things a new user runs:  `make train` (the MNIST CNN example) and `make test` (the test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: setup train test bench
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# `make train DOWNLOAD=1` fetches full MNIST from Keras's mirror when no local copy exists.
DOWNLOAD ?= 0
train: setup
	KERASISH_DOWNLOAD=$(DOWNLOAD) $(BIN)/python examples/mnist_cnn.py

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

bench: setup
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/run.py
