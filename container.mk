# The step runtime, included by the main Makefile (template root and generated repos).
#
# requirements-container.in records the SageMaker XGBoost image the steps and the endpoint run in: its
# Python and the versions of the libraries the step code uses, with their source. .venv-container is
# built from requirements-container.lock with that Python, so `make test` runs the seedcode tests and
# one local-engine run (tests/engine/test_engine_container_runtime.py) on the image's versions.

CONTAINER_VENV ?= .venv-container
CONTAINER_RECORD := requirements-container.in
CONTAINER_LOCK := requirements-container.lock
# the image's Python (`# python: 3.12` in the record): CONTAINER_PYTHON=..., else python3.12 on PATH, else pyenv's,
# else one installed by uv (.venv's uv, into its own folder of Pythons)
CONTAINER_PYTHON_VERSION := $(shell sed -n 's/^\# python: *//p' $(CONTAINER_RECORD))
CONTAINER_PYTHON ?= $(shell for candidate in python$(CONTAINER_PYTHON_VERSION) \
  "$$(pyenv prefix $(CONTAINER_PYTHON_VERSION) 2>/dev/null)/bin/python$(CONTAINER_PYTHON_VERSION)"; do \
  "$$candidate" -c 'import sys; sys.exit(0 if "%d.%d" % sys.version_info[:2] == "$(CONTAINER_PYTHON_VERSION)" else 1)' \
  2>/dev/null && { command -v "$$candidate"; break; }; done)
UV_VERSION ?= 0.9.30

$(CONTAINER_VENV)/.installed: $(CONTAINER_LOCK) | $(VENV)/.installed
	@python="$(CONTAINER_PYTHON)"; \
	if [ -z "$$python" ]; then \
	  echo "Python $(CONTAINER_PYTHON_VERSION) (the SageMaker image's, see $(CONTAINER_RECORD)) not found: installing it with uv"; \
	  $(BIN)/uv python install -q $(CONTAINER_PYTHON_VERSION) && \
	    python=$$($(BIN)/uv python find --managed-python $(CONTAINER_PYTHON_VERSION)); \
	fi; \
	[ -n "$$python" ] || { echo "ERROR: Python $(CONTAINER_PYTHON_VERSION) is required for $(CONTAINER_VENV) and uv could not install it; install it (e.g. pyenv install $(CONTAINER_PYTHON_VERSION)) or run make CONTAINER_PYTHON=/path/to/python$(CONTAINER_PYTHON_VERSION)" >&2; exit 1; }; \
	echo "$$python -m venv --clear $(CONTAINER_VENV)"; \
	"$$python" -m venv --clear $(CONTAINER_VENV)
	$(CONTAINER_VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(CONTAINER_VENV)/bin/uv pip sync -q --compile-bytecode --python $(CONTAINER_VENV)/bin/python $(CONTAINER_LOCK)
	@touch $@

.PHONY: container-venv container-lock

container-venv: $(CONTAINER_VENV)/.installed ## create .venv-container (the step runtime) from requirements-container.lock

container-lock: | $(BIN)/python ## re-resolve requirements-container.in into requirements-container.lock
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile -q --universal --generate-hashes --no-python-downloads \
	  --python-version $(CONTAINER_PYTHON_VERSION) $(CONTAINER_RECORD) -o $(CONTAINER_LOCK)
