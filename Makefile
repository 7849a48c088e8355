# Two commands do everything on a fresh machine with Python 3.11+ and no GPU:
#   make book   create .venv if missing, install, execute every notebook (full setting), build the HTML
#   make test   same set-up, then unit tests, every notebook (QUICK=True), nbval, and the -W book build
PYTHON ?= python3
# Let Python cache bytecode: without .pyc files every process recompiles torch's sources on import.
unexport PYTHONDONTWRITEBYTECODE
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
QUICK_DIR := _build/quick
FULL_DIR  := _build/full

.PHONY: all env lock book book-quick test test-slow unit notebooks nbval quickbook bench clean help

help:
	@echo "make book   - set up, execute every notebook (full setting), build _build/html"
	@echo "make test   - set up, run all tests: unit, notebooks (QUICK), nbval, book build with -W"
	@echo "make test-slow - tests marked slow (none at present: every learning test fits in CI)"
	@echo "make bench  - throughput benchmarks (agent-steps/s, batched vs per-agent loop)"

env: $(STAMP)

# Install: pip takes torch's local CPU wheel (an unpinned torch would pull CUDA packages); uv then
# installs the rest from requirements.txt, held to the exact versions of requirements-lock.txt
# (every transitive dependency pinned, so there is nothing to resolve: minutes, not an hour).
# Set MACROBOOK_INSTALLER=pip to do it all with pip.
MACROBOOK_INSTALLER ?= uv
UV_VERSION := 0.13.9

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml
	@echo "== $$(date +%T) set-up: $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --no-compile torch==2.13.0
ifeq ($(MACROBOOK_INSTALLER),uv)
	$(PY) -m pip install -q --no-compile uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --python $(PY) -r requirements.txt -c requirements-lock.txt
	$(VENV)/bin/uv pip install --python $(PY) --no-deps -e .
else
	$(PY) -m pip install -r requirements.txt -c requirements-lock.txt
	$(PY) -m pip install --no-deps -e .
endif
	$(PY) -m pip check
	@touch $(STAMP)
	@echo "== $$(date +%T) set-up done"

lock: env
	{ sed -n '1,3p' requirements-lock.txt; $(PY) -m pip freeze --exclude-editable | grep -v -E '^(torch|uv)=='; } > requirements-lock.txt.new
	mv requirements-lock.txt.new requirements-lock.txt

book: env
	$(PY) tools/build_book.py --full
	@echo "The book is at $(CURDIR)/_build/html/index.html"

book-quick: env
	$(PY) tools/build_book.py --quick
	@echo "The book (QUICK settings) is at $(CURDIR)/_build/html/index.html"

# `make test` = unit tests and the notebook runs (one pytest session: every notebook executed
# once by papermill with QUICK=True into $(QUICK_DIR)), then nbval re-executes those copies and
# checks that the cells marked NBVAL_CHECK_OUTPUT reproduce exactly, then the book is built from
# the same executed copies with -W -n (no third execution).
# Two pytest workers fill both cores; each process (and each notebook kernel) runs one thread.
test: export OMP_NUM_THREADS = 1
test: export MKL_NUM_THREADS = 1
# MKL's strict conditional-numerical-reproducibility mode (macrobook.train.REPRODUCIBLE_ENV, also
# set by tools/build_book.py for every kernel it starts): nbval's kernels must compute in the same
# mode as the papermill run whose outputs they are compared with, or the last digits differ.
test: export MKL_CBWR = AUTO,STRICT
test: export MKL_DYNAMIC = FALSE
test: export OMP_DYNAMIC = FALSE
test: env
	rm -rf $(QUICK_DIR)
	@echo "== $$(date +%T) the library's walls (import-linter contracts in pyproject.toml)"
	$(VENV)/bin/lint-imports --no-cache
	@echo "== $$(date +%T) unit tests and every notebook (QUICK=True)"
	$(PY) -m pytest tests -ra -n 2 --durations=15 -m "not slow"
	@echo "== $$(date +%T) nbval: marked cells reproduce"
	@if ls $(QUICK_DIR)/notebooks/*.ipynb >/dev/null 2>&1; then \
	  $(PY) -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env --nbval-kernel-startup-timeout=300 --nbval-cell-timeout=1800 -p no:cacheprovider $(QUICK_DIR)/notebooks; \
	else echo "no chapter notebooks in notebooks/: nothing for nbval to check"; fi
	@echo "== $$(date +%T) book build with -W from the executed copies"
	$(PY) tools/build_book.py --quick --no-execute
	@echo "== $$(date +%T) the built book in a browser, offline (tests/book_html_checks.py)"
	$(MAKE) --no-print-directory check-built
	@echo "== $$(date +%T) make test done"

unit: env
	$(PY) -m pytest tests -ra -m "not notebook and not slow"

# Learning-to-tolerance tests (PPO vs the closed form, firms vs Cournot-Nash, ...): minutes each.
test-slow: export OMP_NUM_THREADS = 1
test-slow: env
	$(PY) -m pytest tests -ra -n 2 -m slow --durations=15; rc=$$?; [ $$rc -eq 5 ] && echo "no tests are marked slow" && rc=0; exit $$rc

notebooks: env
	$(PY) -m pytest tests/test_notebooks.py -ra

bench: env
	$(PY) -m macrobook bench all --json

clean:
	rm -rf _build

# ---- What readers, students and instructors get (issue 17) -----------------------------------------
# make browser      Debian's chromium for the browser test (installed when missing and we are root)
# make check-built  the built HTML in headless chromium with the network cut: every chapter page loads,
#                   maths typeset by the MathJax the book ships, figures and widgets load, sliders move
#                   (`make test` runs it after its book build)
# make assignments  otter-grader student notebooks and autograder zips in _build/assignments/
# make wheel        the macrobook wheel in dist/
.PHONY: browser check-built assignments wheel
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "== $$(date +%T) installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else echo "no chromium, and no root apt-get to install it: the browser test will be skipped"; fi

check-built: env browser
	$(PY) -m pytest tests/book_html_checks.py -ra -p no:cacheprovider

assignments: env
	$(PY) tools/make_assignments.py

wheel: env
	$(PY) -m pip wheel --no-deps -q -w dist .
	@ls dist/macrobook-*.whl
