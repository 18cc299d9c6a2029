# Infrastructure checks, included by the main Makefile (template root and generated repos).
#
# checkov pins an old boto3 that conflicts with sagemaker 3.x, so it lives in its own virtualenv
# built from requirements-checkov.lock. tests/infra finds it at $(CHECKOV_VENV)/bin/checkov (or
# $$CHECKOV_BIN). Regenerate the lock with:
#   uv pip compile --universal --generate-hashes --python-version 3.11 requirements-checkov.in -o requirements-checkov.lock

CHECKOV_VENV ?= .venv-checkov
CHECKOV_PYTHON ?= $(PYTHON)
UV_VERSION ?= 0.9.30

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	$(CHECKOV_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(CHECKOV_VENV)/bin/uv pip sync -q --python $(CHECKOV_VENV)/bin/python requirements-checkov.lock
	@touch $@

.PHONY: checkov-venv terraform-native

checkov-venv: $(CHECKOV_VENV)/.installed ## create .venv-checkov (checkov) from requirements-checkov.lock

# `fmt -check` needs no network and runs wherever terraform is on PATH. `init`, `validate` and
# `test` download the AWS provider and the pinned modules, so they run only when asked for with
# TERRAFORM_VALIDATE=1 (CI in a real account, with registry access); tests never reach the network.
terraform-native: ## terraform fmt -check over infra/ (plus init/validate/test with TERRAFORM_VALIDATE=1)
	@if ! command -v terraform >/dev/null 2>&1; then \
	  echo "terraform not on PATH: skipping fmt -check and validate (parse, schema and checkov checks still run)"; \
	  exit 0; \
	fi; \
	set -e; \
	terraform fmt -check -recursive infra; \
	echo "terraform fmt -check: infra/ is formatted"; \
	if [ "$${TERRAFORM_VALIDATE:-0}" != "1" ]; then \
	  echo "terraform validate: skipped (needs the provider registry; run with TERRAFORM_VALIDATE=1 where it is reachable)"; \
	  exit 0; \
	fi; \
	work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	cp -R infra "$$work/infra"; rm -rf "$$work/infra/.terraform"; \
	terraform -chdir="$$work/infra" init -backend=false -input=false -no-color; \
	terraform -chdir="$$work/infra" validate; \
	if [ -d "$$work/infra/tests" ]; then terraform -chdir="$$work/infra" test; fi
