# Two commands do all set-up on a fresh machine:
#   make reproduce   -> .venv + pinned deps + the main job: every notebook on the demo data, models
#                       trained to a plateau (demo profile; resumable, parallel on a local Dask cluster)
#   make test        -> .venv + pinned deps + lint + unit tests + every notebook executed once
#   make quick       -> a first look in minutes: every notebook with the smoke profile (results/smoke/)
#   make lab         -> JupyterLab on the notebooks, with the project's kernel
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PROFILE ?= demo
TEST_WORKERS ?= 2
STAMP  := $(VENV)/.installed

.PHONY: venv reproduce quick test unit nbval lint bench gpu-check clean lab notebooks viz-baselines

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

reproduce: venv
	$(BIN)/pstmo reproduce --profile $(PROFILE)

quick: venv
	$(BIN)/pstmo reproduce --profile smoke

lint: venv
	$(BIN)/ruff check pstmo tests tools benchmarks notebooks
	$(BIN)/ruff format --check notebooks

unit: venv
	$(BIN)/pytest -q tests

# nbval's own run of every notebook (in place: writes to results/ and figures/); `make test`
# does the same checks and more in tests/test_notebooks_run.py, one execution per notebook
nbval: venv
	$(BIN)/pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks/*.ipynb

# two workers (pytest-xdist): the smoke runs and notebooks use one torch thread each
test: lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) tests

# JupyterLab on the repository, opened at notebooks/; jupytext (installed) keeps each
# notebooks/NAME.ipynb and its NAME.py in sync on save. LAB_ARGS e.g. --no-browser --port 8890 (--allow-root as root)
LAB_ARGS ?=
lab: venv
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

# after editing notebooks/*.py (or *.ipynb) outside JupyterLab: format the .py, bring each pair
# in sync (the newer file wins) and strip the outputs that are not stored (tools/clean_notebooks.py)
notebooks: venv
	$(BIN)/ruff format notebooks
	cd notebooks && $(abspath $(BIN))/jupytext --sync [0-9][0-9]_*.py
	$(BIN)/python tools/clean_notebooks.py

# rewrite tests/baseline_images/ after an intended change of pstmo/report/viz.py (look at them first)
viz-baselines: venv
	$(BIN)/pytest -q -p no:cacheprovider --mpl-generate-path=tests/baseline_images -k matches_baseline tests/test_viz.py

# speed against the official code: make bench OFFICIAL=/path/to/P-STMO [BENCH_ARGS=--quick] (benchmarks/README.md)
bench: venv
	$(BIN)/python -m benchmarks.bench $(if $(OFFICIAL),--official-repo $(OFFICIAL)) $(BENCH_ARGS)

# one-shot GPU check (< 5 min, writes results/bench/gpu_check.json; exit code 3 without CUDA)
gpu-check: venv
	$(BIN)/python -m benchmarks.gpu_check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
