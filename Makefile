# carecite — the README's two commands are `make demo` and `make test`; both install first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# CPU torch wheel lives here on our machines; elsewhere uv resolves torch from PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
STAMP := $(VENV)/.installed
# --compile-bytecode: uv skips it by default and PYTHONDONTWRITEBYTECODE=1 (set on these machines)
# stops Python caching it, so every fresh process recompiled spaCy, chromadb, SQLAlchemy… from
# source: most of a cold `carecite ask` (docs/benchmarks.md). pip compiles at install too.

PORT ?= 8501

.PHONY: install demo demo-full shell test lint typecheck unit bench clean e2e-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@test -x $(UV) || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --python $(BIN)/python $(FIND_LINKS) --compile-bytecode -e '.[dev]'
	$(BIN)/python -m compileall -q src app > /dev/null
	@touch $(STAMP)

# `make demo PORT=8502` picks the port. The demo loads the coverage policies its gold questions cite;
# `make demo-full` adds all 352 CMS policies from ../shared/data (minutes of embedding).
demo: install
	$(BIN)/carecite demo --port $(PORT)

demo-full: install
	$(BIN)/carecite demo --port $(PORT) --all-policies

# A shell with the venv's bin first on PATH, so the README's `carecite ...` examples work as written.
shell: install
	@echo "carecite is on PATH in this shell (exit to leave)"
	@PATH="$(CURDIR)/$(BIN):$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" $${SHELL:-/bin/sh}

lint: install
	$(BIN)/ruff check src tests app
	$(BIN)/ruff format --check src tests app

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest -n 2 -q

test: lint typecheck unit

bench: install
	$(BIN)/carecite bench ingest --patients 60,240
	$(BIN)/carecite bench query

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
