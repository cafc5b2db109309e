# losslab: two commands do everything on a fresh machine (python3, pip, make):
#   make all    set up .venv, run every experiment on the offline data, write figures/ and report/
#   make test   set up .venv with the test extra and run pytest
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
RESULTS ?= results
FIGURES ?= figures
# DATASET=mnist DATA_ROOT=path uses real MNIST for the DNN experiments; QUICK=1 runs the tiny presets.
DATASET ?=
DATA_ROOT ?=
QUICK ?=
EXP_FLAGS := $(if $(QUICK),--quick) $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(DATASET),--dataset $(DATASET))

.PHONY: all test bench lint clean trajectory gradnorm minratio surface spectrum report docs

all: trajectory gradnorm minratio surface spectrum report

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

test: $(VENV)/.installed-test
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(PY) -m experiments.bench

clean:
	rm -rf $(RESULTS) $(FIGURES) report/report.md report/report.pdf .pytest_cache
