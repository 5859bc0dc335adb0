# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# `make test PYTHON=python3.12` after a set-up with another Python: the venv is recreated (--clear), not kept.
VENV_STALE := $(if $(filter command line,$(origin PYTHON)),$(shell test -x $(PY) && \
	[ "$$($(PY) -c 'import sys; print(sys.version_info[:2])' 2>&1)" != \
	  "$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])' 2>&1)" ] && echo FORCE))
# The project's Node 24 (package.json) and CLIs come first: jsii, cdk and ask use the pinned versions.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup lock test synth diff bench demo deploy destroy credentials show-credentials render mutation mutation-constants clean help docs docs-build FORCE

## Create .venv/ (pip, the pinned requirements) and node_modules/ (npm ci); every other target runs it first.
setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-lambda-tests.txt lambda_src/requirements.txt bridge_src/requirements.txt $(VENV_STALE)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "error: PYTHON=$(PYTHON) is not a Python 3.11 or newer on PATH: install one or name it, e.g. make test PYTHON=python3.12" >&2; exit 1; }
	@echo "== setting up $(VENV) with $$($(PYTHON) --version)$(if $(VENV_STALE), (recreated: it was made with $$($(PY) --version 2>&1)))"
	$(PYTHON) -m venv $(if $(VENV_STALE),--clear )$(VENV)
	@echo "== installing requirements-dev.txt, each file checked against its hash (aws-cdk-lib alone is over 400 MB: about a minute)"
	$(VENV)/bin/pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements-dev.txt
	touch $@

# The lock files: every package pinned with the hashes of all its release's files, resolved by uv (pinned in
# requirements-dev.in) for every platform and every Python from LOCK_PYTHON on (the tooling's, the Lambda runtime's,
# Beanstalk's). requirements-dev.txt is resolved first; the others are resolved within it, so each package has one
# version and one set of hashes everywhere and the tests run exactly what ships. No lock names an index host.
# LOCK_PYTHON is the oldest Python the locks install on (pymdown-extensions needs 3.11.5).
LOCK_PYTHON := 3.11.5
# uv reads metadata only (--no-build: no package's code runs) and uses the venv's Python (never downloads one).
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --python $(PY) --no-python-downloads --no-build \
	--universal --python-version $(LOCK_PYTHON) --generate-hashes --annotation-style line --custom-compile-command "make lock"

## Re-resolve the hash-pinned lock files (*.txt) from the *.in files after editing one; UPGRADE=1 takes the newest releases the .in pins allow.
lock: $(VENV)/.installed
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade )requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) -c requirements-dev.txt requirements.in -o requirements.txt
	$(UV_COMPILE) -c requirements-dev.txt requirements-lambda-tests.in -o requirements-lambda-tests.txt
	$(UV_COMPILE) -c requirements-dev.txt lambda_src/requirements.in -o lambda_src/requirements.txt
	$(UV_COMPILE) -c requirements-dev.txt bridge_src/requirements.in -o bridge_src/requirements.txt

node_modules/.installed: package.json package-lock.json
	@echo "== installing node_modules (npm ci: the CDK CLI, ask-cli, Node 24)"
	npm ci --no-audit --no-fund --loglevel=error --progress=true
	touch $@

## Run the static checks (`make check`), then every test (snapshots, nag, cfn-lint, both services, the local rehearsal). PYTEST_ARGS=--snapshot-update to accept template changes.
test: check nginx-light chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# mypy runs twice: the repository root with the skill's asset root (pyproject.toml's `files`), then the bridge's
# asset root, apart because both asset roots hold a `lambda_function` module and one run cannot hold two modules
# of one name (the bridge's run leaves the skill's per-module sections unused: no warning for those).
## Static checks, configured in pyproject.toml: ruff's linter and formatter, then mypy (strict on the skill's domain and the bridge). `.venv/bin/ruff check --fix .` and `.venv/bin/ruff format .` apply what can be fixed.
.PHONY: check
check: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --no-warn-unused-configs bridge_src

## Install Debian's nginx-light when nginx is missing: tests/bridge/test_nginx.py runs the bridge's .platform/nginx files in it.
.PHONY: nginx-light
nginx-light:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { echo "installing nginx-light (apt-get) for the bridge's nginx test"; \
	  sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$sudo apt-get install -y -q nginx-light >/dev/null 2>&1 || { $$sudo apt-get update -q >/dev/null && \
	  $$sudo apt-get install -y -q nginx-light >/dev/null; }; }

## Install Debian's chromium, chromium-driver and libnss3-tools (certutil) when missing: tests/browser/ drive the linking
## flow in headless Chromium through /usr/bin/chromedriver, trusting the sandbox CA through an NSS database.
.PHONY: chromium
chromium:
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && command -v certutil >/dev/null 2>&1; } || { \
	  echo "installing chromium, chromium-driver and libnss3-tools (apt-get) for the real-browser tests"; \
	  sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$sudo apt-get install -y -q chromium chromium-driver libnss3-tools >/dev/null 2>&1 || { $$sudo apt-get update -q >/dev/null && \
	  $$sudo apt-get install -y -q chromium chromium-driver libnss3-tools >/dev/null; }; }

## Mutation testing (mutmut, not part of `make test`): MODULE="lambda_src/nest_skill/temperatures.py ..." or SERVICE=skill|bridge; prints each module's score and writes docs/generated/mutation.json and mutation.md.
mutation: setup
	$(PY) -m tools.mutation $(foreach m,$(MODULE),--module $(m)) $(if $(SERVICE),--service $(SERVICE)) $(if $(JOBS),--jobs $(JOBS)) $(if $(RECHECK),--recheck)

## Mutants of the module-level constants mutmut leaves alone, one per constant, each run against its unit tests in a scratch copy: MODULE=... or SERVICE=skill|bridge; lists the survivors.
mutation-constants: setup
	$(PY) -m tools.mutation constants $(foreach m,$(MODULE),--module $(m)) $(if $(SERVICE),--service $(SERVICE))

## Synthesize the CloudFormation templates into cdk.out/ (CDK_ARGS="-c key=value ...").
synth: setup
	cdk synth --quiet $(CDK_ARGS)

## Compare the synthesized stacks with what is deployed (needs AWS credentials).
diff: setup
	cdk diff $(CDK_ARGS)

## Measure the benchmark figures (cold import, warm latency, SDM calls per intent, bridge requests/s) into docs/generated/bench.json and bench.md.
bench: setup
	$(PY) bench/skill_bench.py
	$(PY) bench/bridge_bench.py
	$(PY) bench/events_bench.py

## The whole system deployed and exercised locally: moto, fake Google, the bridge, a scripted conversation.
demo: setup
	$(PY) -m sandbox.demo

## Deploy to a real AWS account and Alexa developer account (docs/deploy/deploy.md).
deploy: setup
	$(PY) -m ops deploy $(CDK_ARGS)

## Remove the skill and bridge stacks and the Alexa skill; lists what it keeps and how to remove that. DESTROY_ARGS=--yes skips the question (CI).
destroy: setup
	$(PY) -m ops destroy $(DESTROY_ARGS) $(CDK_ARGS)

## Store the OAuth client credentials in the secrets bucket (NEST_CLIENT_ID / NEST_CLIENT_SECRET or a prompt).
credentials: setup
	$(PY) -m ops credentials store $(CDK_ARGS)

## Rotate the OAuth client secret everywhere it is used (bucket, and Alexa's account linking in auth_code mode), then say when the old one may be disabled at Google; NEST_CLIENT_SECRET or a prompt.
.PHONY: rotate-secret
rotate-secret: setup
	$(PY) -m ops credentials rotate $(CDK_ARGS)

## Print what the secrets bucket holds, with the secret and the state key redacted.
show-credentials: setup
	$(PY) -m ops credentials show $(CDK_ARGS)

## Run the project's pinned ask-cli (node_modules/.bin/ask), never npm's unrelated `ask` package: make ask ARGS="configure --no-browser".
.PHONY: ask
ask: node_modules/.installed
	$(CURDIR)/node_modules/.bin/ask $(ARGS)

## Render the deployable ASK CLI project under build/ask-project from build/cdk-outputs.json.
render: setup
	$(PY) -m ops render $(CDK_ARGS)

## Serve the docs site on http://127.0.0.1:8000, rebuilt on every change (Ctrl-C stops it).
docs: setup
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

## Build the docs site into build/site with --strict: a broken link or anchor fails it.
docs-build: setup
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

## List every target with what it does (from the `##` comment above each).
help:
	@awk '/^## /{doc = doc (doc ? " " : "") substr($$0, 4); next} /^\.PHONY:/{next} \
		/^[a-z][a-z-]*:/ && doc {split($$0, name, ":"); printf "  %-20s %s\n", name[1], doc} {doc = ""}' \
		$(firstword $(MAKEFILE_LIST))

## Remove cdk.out/, build/ (the docs site too), .pytest_cache/, mutants/ and the static checkers' caches; never nest-skill.json, where the deploy keeps the skill ID.
clean:
	rm -rf cdk.out build .pytest_cache mutants .mypy_cache .ruff_cache
