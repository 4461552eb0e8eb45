# Two commands do all set-up on a fresh machine:
#   make reproduce   -> .venv + pinned deps + the main job (smoke profile, demo data)
#   make test        -> .venv + pinned deps + lint + unit tests + nbval of every notebook
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PROFILE ?= smoke
STAMP  := $(VENV)/.installed

.PHONY: venv reproduce test unit nbval lint bench clean

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

lint: venv
	$(BIN)/ruff check pstmo tests tools benchmarks notebooks

unit: venv
	$(BIN)/pytest -q tests

nbval: venv
	$(BIN)/pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

test: lint
	$(BIN)/pytest -q tests
	$(BIN)/pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

bench: venv
	$(BIN)/pstmo bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
