# The two commands a newcomer needs: `make lab` and `make test` (`make test-fast` while working).
# Both build .venv from nothing when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NB_STAMP := $(VENV)/.installed-notebook

.PHONY: lab test test-fast venv notebooks data release explore hub bench bench-grading clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[notebook,dev]'
	touch $(STAMP) $(NB_STAMP)

# A student needs only the notebook stack (no grading, test or hub tools).
$(NB_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	touch $(NB_STAMP)

venv: $(STAMP)

# A student's own copy of the course: new chapters are copied from course/ into workspace/
# (git-ignored), a notebook the student touched is never overwritten (dlcore/workspace.py),
# and workspace/.jupyter switches nbgrader's instructor tools off.
# (containers often run as root, where JupyterLab insists on --allow-root)
lab: $(NB_STAMP)
	$(BIN)/python -m dlcore.workspace --course course --workspace workspace
	JUPYTER_CONFIG_PATH=$(CURDIR)/workspace/.jupyter $(BIN)/jupyter lab --notebook-dir=workspace $(if $(filter 0,$(shell id -u)),--allow-root)

# `make test-fast` runs on two pytest-xdist workers, each test file whole on one (its module
# fixtures are built once). The full suite runs in one process: on two workers it took nearly as
# long (17 against 18.5 min), with every grading test's time limits under more load.
XDIST ?= -n 2 --dist loadfile

# One BLAS thread per process: the suite runs kernels side by side on 2 cores, where
# OpenBLAS's threads fight each other and small matrix products get 10-40x slower.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q --durations=15

# The tier a maintainer runs after every change (about 95 s on 2 cores): the
# library, its doctests, the chapters' claims, the explorers headless and every exercise's
# mistakes and stub graded by the trusted scorer; no notebook execution, no class grading, no
# hub, no browser (those are marked slow / browser; `make test` runs them).
test-fast: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow and not browser" $(XDIST)

# chapters/*.py (the text sources) -> solutions/*.ipynb -> course/ (see docs/authoring.md)
notebooks: $(STAMP)
	$(BIN)/python -m autograder build

# Every shipped data file that is computed (not downloaded): chapter 6's overfitting sweep.
data: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m dlcore.chapters.ch06 --rebuild-sweep

release: $(STAMP)
	$(BIN)/python -m autograder release

explore: $(STAMP)
	$(BIN)/python -m dlcore.explorers.app

hub: $(STAMP)
	$(BIN)/python deploy/jupyterhub/demo.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ops.py
	$(BIN)/python benchmarks/bench_explorers.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_claims.py

bench-grading: $(STAMP)
	$(BIN)/python benchmarks/bench_grading.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
