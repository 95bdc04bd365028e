# The front door. Every target bootstraps .venv from the pinned requirements first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.txt requirements/lambda.txt pyproject.toml functions/core/pyproject.toml | sha256sum | cut -c1-16)
# The functions' runtime is CPython 3.13: the local stack runs them on one where it is installed (on PATH or pyenv's),
# in .venv-runtime with only what the Lambda runtime provides (requirements/runtime.txt); else on $(PY).
RUNTIME_VENV := .venv-runtime
PYTHON313 ?= $(shell for p in $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13.*/bin/python3.13 2>/dev/null | sort -rV) \
	$$(command -v python3.13); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && echo "$$p" && break; done)
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed-$(shell cat requirements/runtime.txt | sha256sum | cut -c1-16)
# The CDK's jsii engine runs on Node.js 24 (the newest LTS that the pinned jsii supports: it calls 26 untested),
# installed from the npm registry into .venv/node; a .pth file in .venv points JSII_NODE at it, so every synth by
# .venv's python (make, pytest, cdk.json's app) uses it. If it cannot install: the node on PATH.
NODE_VERSION := 24.22.3
NODE_PACKAGE := node-linux-$(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
NODE_STAMP := $(VENV)/.node-$(NODE_PACKAGE)-$(NODE_VERSION)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint typecheck synth bench cost storm diagram local-up acceptance clean lock venv

venv: $(STAMP) $(RUNTIME_STAMP) $(NODE_STAMP)

$(STAMP): requirements/dev.txt requirements/lambda.txt pyproject.toml functions/core/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned dev requirements into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e functions/core -e .  # the core, the `faceswap` CLI
	@rm -f $(VENV)/.installed-* && touch $@

$(RUNTIME_STAMP): requirements/runtime.txt
	@rm -rf $(RUNTIME_VENV)
	@if [ -n "$(PYTHON313)" ]; then \
	  echo "==> the local stack runs the functions on $(PYTHON313) ($(RUNTIME_VENV), requirements/runtime.txt)"; \
	  $(PYTHON313) -m venv $(RUNTIME_VENV) && \
	  $(RUNTIME_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/runtime.txt && \
	  touch $@; \
	else \
	  echo "==> no CPython 3.13 found (python3.13 on PATH, pyenv): the local stack runs the functions on $(PY)"; \
	fi

$(NODE_STAMP): | $(STAMP)
	@rm -rf $(VENV)/node $(VENV)/.node-* "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/faceswap-jsii-node.pth"
	@echo "==> installing Node.js $(NODE_VERSION) ($(NODE_PACKAGE) from the npm registry) into $(VENV)/node for jsii"
	@if npm install --silent --no-save --no-package-lock --prefix $(VENV)/node $(NODE_PACKAGE)@$(NODE_VERSION) \
	    && $(VENV)/node/node_modules/$(NODE_PACKAGE)/bin/node --version; then \
	  echo 'import os; os.environ.setdefault("JSII_NODE", "$(abspath $(VENV))/node/node_modules/$(NODE_PACKAGE)/bin/node")' \
	    > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/faceswap-jsii-node.pth"; \
	  touch $@; \
	else \
	  echo "==> Node.js $(NODE_VERSION) did not install: jsii runs on $$(node --version 2>/dev/null || echo 'no node')"; \
	fi

demo: venv  ## local end to end: moto + vendor emulator, leaves a swapped MP4 in demo-output/
	$(PY) -m local.demo

test: venv lint typecheck  ## what CI runs
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy

synth: venv  ## cdk.out/FaceSwap.template.json, then cfn-lint
	CDK_OUTDIR=cdk.out $(PY) -m infra.app
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/FaceSwap.template.json || test $$? -eq 4  # 4: warnings only

local-up: venv  ## the local stack for `faceswap --local` (moto :7790, emulator :7791, webhook API :7792); Ctrl-C stops
	$(PY) -m local.serve

acceptance: venv  ## after `cdk deploy`: doctor + the user-visible scenarios on STACK (spends ~2 units), or locally
	$(PY) -m pytest -q tests/acceptance $(if $(STACK),--acceptance-stack=$(STACK))

diagram: venv  ## the generated docs: the Mermaid diagram (README, docs/architecture.md) from the synthesized template, docs/configuration.md's table from infra/config.py
	CDK_OUTDIR=cdk.out $(PY) -m infra.app
	$(PY) -m docs.diagram
	$(PY) -m docs.config_table

bench: venv  ## benchmarks with ratios against baselines measured in the same run (exit 1 = a target not met)
	$(PY) -m bench

cost: venv  ## AWS cost per 1,000 jobs: this design vs polling-only Step Functions and a sleeping Lambda
	$(PY) -m bench --only cost

storm: venv  ## the full-size reliability storms (CI runs them scaled down)
	FACESWAP_FULL_STORMS=1 $(PY) -m pytest -q -m slow tests/e2e

lock:  ## re-pin requirements/dev.txt from requirements/dev.in
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install -q -r requirements/dev.in
	(echo "# Exact pins of the dev/test/local-stack environment (generated by make lock from dev.in)."; \
	 .lock-venv/bin/pip freeze) > requirements/dev.txt && rm -rf .lock-venv

clean:
	rm -rf cdk.out .build demo-output .pytest_cache .mypy_cache .ruff_cache
