# losslab: two commands do everything on a fresh machine (python3, pip, make):
#   make all    set up .venv, run every experiment on the offline data, write figures/ and report/
#   make test   set up .venv with the test extra and run pytest
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
# QUICK=1 runs every experiment's tiny preset (the tests use it) into folders of its own.
QUICK   ?=
# DATA_ROOT=path: real MNIST for the DNN experiments, from path/MNIST/raw (or downloaded by
# torchvision when the optional extra is installed); DATASET=mnist|digits|cifar10 picks explicitly.
DATA_ROOT ?=
DATASET ?=
# Each data choice gets its own result folders: a folder holds one configuration only.
TAG     := $(if $(QUICK),-quick)$(if $(DATASET),-$(DATASET))$(if $(DATA_ROOT),-root)
RESULTS ?= results$(TAG)
FIGURES ?= figures$(TAG)
REPORT  ?= report$(TAG)
JOBS    ?= -1
RUN      = $(PY) -m experiments.$@ --out $(RESULTS)/$@ --figures $(FIGURES) --jobs $(JOBS) $(if $(QUICK),--quick)
# DATA_ROOT alone means MNIST from that folder (explicitly: the --quick presets pin digits).
DNN_DATA = $(if $(DATA_ROOT),--data-root $(DATA_ROOT) --dataset $(or $(DATASET),mnist),$(if $(DATASET),--dataset $(DATASET)))

.PHONY: all test bench lint clean docs report trajectory gradnorm minratio surface spectrum \
	deepshallow generalization hw1-1 hw1-2 hw1-3

all: report

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Each experiment reuses the finished runs of the same configuration in its results folder.
trajectory gradnorm spectrum surface deepshallow generalization: $(VENV)/.installed
	$(RUN) $(DNN_DATA)

minratio: $(VENV)/.installed
	$(RUN)

# The homework's three parts, one by one: 1-1 deep vs shallow, 1-2 optimization, 1-3 generalization.
hw1-1: deepshallow
hw1-2: trajectory gradnorm minratio surface spectrum
hw1-3: generalization

report: hw1-1 hw1-2 hw1-3
	$(PY) -m experiments.report --results $(RESULTS) --figures $(FIGURES) --out $(REPORT)

# The README's gallery: small PNGs of the default run's figures under docs/.
docs: $(VENV)/.installed
	$(PY) -m experiments.report --results $(RESULTS) --figures $(FIGURES) --gallery docs

test: $(VENV)/.installed-test
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(PY) -m experiments.bench

clean:
	rm -rf results results-* figures figures-* report report-* .pytest_cache
