# losslab: two commands do everything on a fresh machine (python3, pip, make):
#   make all    set up .venv, run every experiment on the offline data, write figures/ and report/
#   make test   set up .venv with the test, cluster and docs extras and run pytest (notebooks too)
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
# QUICK=1 (or yes, true, on) runs every experiment's tiny preset (the tests use it) into folders
# of its own; QUICK=0, no, false, off or empty mean the full runs.
QUICK   ?=
QUICK_ON := $(filter-out 0 no No NO false False FALSE off Off OFF n N,$(strip $(QUICK)))
# DATA_ROOT=path: real MNIST for the DNN experiments, from path/MNIST/raw (or downloaded by
# torchvision when the optional extra is installed); DATASET=mnist|digits|cifar10 picks explicitly.
DATA_ROOT ?=
DATASET ?=
# Each data choice gets its own result folders: a folder holds one configuration only.
TAG     := $(if $(QUICK_ON),-quick)$(if $(DATASET),-$(DATASET))$(if $(DATA_ROOT),-root)
RESULTS ?= results$(TAG)
FIGURES ?= figures$(TAG)
REPORT  ?= report$(TAG)
JOBS    ?= -1
# an empty path variable would make --out "/trajectory" (the root folder): refused in one line,
# exit 2, by the recipes that read it only (expanded when such a recipe runs, also under make -n)
need     = $(if $(strip $($(1))),,$(error $(1) is empty; give a folder, e.g. $(1)=$(2), or leave \
	it out))
# paths in double quotes: a RESULTS, FIGURES, REPORT or DATA_ROOT with a space is one argument
RUN      = $(call need,RESULTS,results)$(call need,FIGURES,figures)$(PY) -m experiments.$@ --out "$(RESULTS)/$@" --figures "$(FIGURES)" --jobs $(JOBS) \
	$(if $(QUICK_ON),--quick)
# DATA_ROOT alone means MNIST from that folder (said explicitly, whatever the presets say).
DNN_DATA = $(if $(DATA_ROOT),--data-root "$(DATA_ROOT)" --dataset $(or $(DATASET),mnist),$(if $(DATASET),--dataset $(DATASET)))

.PHONY: all notebooks test test-extras test-min fuzz-readers bench lint clean docs report trajectory gradnorm minratio minratio_wd check-minratio census surface spectrum \
	deepshallow generalization hw1-1 hw1-2 hw1-3

all: report

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# the cluster and docs extras too: the tests run units on a real dask.distributed cluster and
# execute the notebooks
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,cluster,docs]'
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $@

# docs/notebooks: each jupytext *.py source → an executed .ipynb beside it (≈ 2 min on 2 cores)
notebooks: $(VENV)/.installed-docs
	$(PY) docs/notebooks/build.py

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

# A second environment pinned to the declared floors (setup.cfg): they stay true.
VENV_MIN := .venv-min
$(VENV_MIN)/.installed: setup.cfg pyproject.toml .ci/floors.py
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) .ci/floors.py test > $(VENV_MIN)/constraints.txt
	$(VENV_MIN)/bin/python -m pip install --quiet -c $(VENV_MIN)/constraints.txt -e '.[test]'
	touch $@

# The experiments of the registry (experiments/report/sections.py, one line each in the report's
# order, read here without Python): `make all` runs them all. Each reuses the finished runs of the
# same configuration in its results folder. The DNN experiments take the data flags; minratio_wd
# has a rule of its own below; any other runs as python -m experiments.<name> with the shared flags.
REGISTERED := $(shell sed -n 's/^    "\([a-z0-9_]*\)": Experiment.*/\1/p' experiments/report/sections.py)
DNN_EXPERIMENTS := trajectory gradnorm spectrum surface deepshallow generalization
.PHONY: $(REGISTERED)

$(DNN_EXPERIMENTS): $(VENV)/.installed
	$(RUN) $(DNN_DATA)

$(filter-out $(DNN_EXPERIMENTS) minratio_wd,$(REGISTERED)): $(VENV)/.installed
	$(RUN)

# the same searches on MSE + (λ/2)‖θ‖²: no critical point at infinity (figures minratio_wd*)
minratio_wd: $(VENV)/.installed
	$(call need,RESULTS,results)$(call need,FIGURES,figures)$(PY) -m experiments.minratio \
		--weight-decay 1e-5 --out "$(RESULTS)/$@" --figures "$(FIGURES)" \
		--jobs $(JOBS) $(if $(QUICK_ON),--quick)

# Dauphin's census (issue 23): index against training error of critical points of a 2,410-parameter
# net on all 1797 digits; 100 searches, ≈ 10 min on 2 cores. Not in `make all` (its time aim) nor
# in the report: a target of its own, its figure in the README's gallery (make docs)
census: $(VENV)/.installed
	$(RUN)

# the minratio folders present, recomputed independently (loss, ∇L, spectrum, n₋, labels; exit 1
# on a disagreement) and their headline numbers against the targets; reads only, reruns nothing
check-minratio: $(VENV)/.installed
	$(call need,RESULTS,results)set --; for d in minratio minratio_wd; do [ -d "$(RESULTS)/$$d" ] && set -- "$$@" "$(RESULTS)/$$d"; \
	done; $(PY) -m experiments.minratio.check "$$@"

# The homework's three parts, one by one: 1-1 deep vs shallow, 1-2 optimization, 1-3 generalization.
hw1-1: deepshallow
hw1-2: trajectory gradnorm minratio minratio_wd surface spectrum
hw1-3: generalization

report: $(REGISTERED)
	$(call need,RESULTS,results)$(call need,FIGURES,figures)$(call need,REPORT,report)$(PY) \
		-m experiments.report --results "$(RESULTS)" --figures "$(FIGURES)" --out "$(REPORT)"

# The README's gallery (small PNGs of the default run's figures under docs/) and its measured
# minratio table, written from the results with the versions that produced them.
docs: $(VENV)/.installed
	$(if $(QUICK_ON),$(error make docs rewrites README.md's measured tables and docs/*.png from \
	the default run; run it without QUICK=1))$(call need,RESULTS,results)$(call need,FIGURES,figures)$(PY) -m experiments.report \
		--results "$(RESULTS)" --figures "$(FIGURES)" --gallery docs
	$(PY) -m experiments.minratio.readme_table "$(RESULTS)" --readme README.md
	if [ -d "$(RESULTS)/census" ]; then $(PY) -m experiments.census.readme "$(RESULTS)" \
		--figures "$(FIGURES)" --readme README.md --gallery docs; fi

# two pytest-xdist workers, a file at a time (a file's fixtures are built once), the longest
# files first, one BLAS thread each (tests/conftest.py); `pytest` alone runs the same tests one
# by one
XDIST   := -n 2 --dist loadfile --no-loadscope-reorder
test: $(VENV)/.installed-test
	$(PY) -m pytest $(XDIST)

# engine.adapters against the real libraries: PyTorch (2.13.0, the CPU build this machine keeps on
# disk; a bare `torch` would pull a CUDA build of gigabytes) and JAX on the CPU. Neither is needed
# by `make all` or `make test`, whose adapter tests skip the routes of a missing extra.
$(VENV)/.installed-extras: $(VENV)/.installed-test
	$(PY) -m pip install --quiet torch==2.13.0 jax
	touch $@

test-extras: $(VENV)/.installed-extras
	$(PY) -m pytest -p no:cacheprovider tests/engine/adapters/test_adapters.py tests/engine/adapters/test_twin.py \
		tests/contract/test_own_model.py \
		tests/experiments/minratio/test_classify_torch.py \
		tests/experiments/test_bench_kernels.py tests/experiments/test_bench_spectra.py

# the fast tests (no end-to-end runs) on the oldest versions setup.cfg allows
test-min: $(VENV_MIN)/.installed
	$(VENV_MIN)/bin/python -m pytest $(XDIST) -m "not slow" -p no:cacheprovider

# every value each plots reader reads damaged one at a time, and drawn: each must draw or be refused
# in one line (tests/fuzz_readers.py; an hour or more on one core, too slow for `make test`)
fuzz-readers: $(VENV)/.installed-test
	$(PY) tests/fuzz_readers.py --jobs $(if $(filter -1,$(JOBS)),2,$(JOBS))

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed-bench
	$(PY) -m experiments.bench

clean:
	rm -rf results results-* figures figures-* report report-* .pytest_cache .venv-min
