# Two entry points that work on a fresh machine with Python 3.11+ and make: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install bytecode demo test test-all lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "qrun needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[run,test,plot,lint,dask,mlflow,browser]'
	@touch $(STAMP)

# An editable install ships no bytecode, and where PYTHONDONTWRITEBYTECODE is set (this team's machines) Python never
# writes any: every qrun command would compile qrun's modules again. compileall writes it regardless, forced (-f):
# unforced, it judges a .pyc fresh by its source's mtime in whole seconds, so a file changed in the second its .pyc
# was written (an edit, or `ruff format`, just after) kept a .pyc that the import system, which also compares the
# size, rejected and compiled again on every command.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -f qrun

install: $(STAMP)

demo: bytecode
	$(BIN)/qrun experiments/vqe.yaml

# The fast suite (under 3 minutes on 2 cores); test-all adds the tests marked slow. CI runs both.
# Two workers: the team's and CI's machines have two cores, and the suite is mostly single-threaded waiting.
test: bytecode
	$(BIN)/python -m pytest -q -n 2

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bytecode
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) results build *.egg-info
