# The book's commands. Each sets up what it needs from nothing, and is quick when
# everything is already there: a virtual environment in .venv with the tested,
# pinned package set (constraints.txt) and cnnbook installed in editable mode.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The environment as the Jupyter kernel "cnnbook", for any JupyterLab or VS Code of this user.
REGISTER_KERNEL = $(BIN)/python -m ipykernel install --user --name cnnbook --display-name "Python (cnnbook)"

.PHONY: book test lint lab workspace kernel execute benchmark student clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(REGISTER_KERNEL)
	touch $(STAMP)

## kernel: register the kernel "cnnbook" again (make does it once, when it sets up .venv)
kernel: $(STAMP)
	$(REGISTER_KERNEL)

# The website's scripts (RequireJS, the widget manager, MathJax), pinned, from npm (cnnbook/book/website.py).
VENDOR := _vendor/VERSIONS
$(VENDOR): cnnbook/book/website.py $(STAMP)
	$(BIN)/python -m cnnbook.book.website
	touch $@

## book: build the website into _build/html from the committed, executed chapters (offline)
book: $(STAMP) $(VENDOR)
	$(BIN)/jupyter-book build --warningiserror --keep-going .

## test: unit tests, nbval of every chapter in quick mode, text twins, website build; on every core
## (pytest-xdist: each file, so each chapter with its kernel, runs on one worker)
test: $(STAMP) $(VENDOR)
	CNNBOOK_QUICK=1 $(BIN)/python -m pytest -n auto --dist loadfile tests chapters --nbval --nbval-current-env \
		--nbval-sanitize-with tests/sanitize.cfg

## lint: ruff on the code that is clean so far (cnnbook/models and cnnbook/widgets are not yet)
LINTED := $(wildcard cnnbook/*.py) cnnbook/analysis cnnbook/book cnnbook/exercises tests benchmarks
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

## lab: open the book in JupyterLab, in your own copy of it in $(WORKSPACE)/ (see workspace), so the
## committed chapters stay as they are. Its chapters/ and text/ are paired: save either twin and the
## other follows. Authors edit the book itself with `make lab WORKSPACE=.`; LAB_OPTIONS go to JupyterLab.
WORKSPACE ?= workspace
LAB_OPTIONS ?=
lab: $(STAMP) workspace
	$(BIN)/jupyter lab --ServerApp.root_dir=$(WORKSPACE) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPTIONS)

## workspace: copy the chapters, their text twins and the pairing config into $(WORKSPACE)/; only what
## is missing there is copied, so a reader's own runs and edits are never overwritten
workspace:
	mkdir -p $(WORKSPACE)/chapters $(WORKSPACE)/text
	test -e $(WORKSPACE)/jupytext.toml || cp jupytext.toml $(WORKSPACE)/
	for notebook in chapters/*.ipynb; do \
		name=$$(basename $$notebook .ipynb); \
		test -e $(WORKSPACE)/$$notebook || test -e $(WORKSPACE)/text/$$name.md || { \
			cp $$notebook $(WORKSPACE)/chapters/ && cp text/$$name.md $(WORKSPACE)/text/; } || exit 1; \
	done

## execute: run every chapter in full mode and save it with its outputs (for authors)
CHAPTERS ?= $(wildcard chapters/*.ipynb)
execute: $(STAMP)
	for notebook in $(CHAPTERS); do \
		$(BIN)/jupytext --sync $$notebook && \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=1200 $$notebook && \
		$(BIN)/jupytext --sync $$notebook || exit 1; \
	done

## student: the student edition (no solutions, exercise cells empty) in _build/student, its website
## in _build/student/_build/html (no launch buttons to the full edition) and the cnnbook wheel students
## install (the package alone: no chapters, no solutions) in _build/student/dist; grade students'
## notebooks with `python -m cnnbook grade NOTEBOOK...`
student: $(STAMP) $(VENDOR)
	$(BIN)/python -m cnnbook student _build/student --force
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir _build/student/dist . && rm -rf build
	$(BIN)/jupyter-book build --warningiserror --keep-going _build/student

## benchmark: the trainer's speed against a plain PyTorch loop
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf _build
