# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The project's Node 24 (package.json) and CLIs come first: jsii, cdk and ask use the pinned versions.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup test synth diff bench demo deploy credentials show-credentials render clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt lambda_src/requirements.txt bridge_src/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run every test (snapshots, nag, cfn-lint, both services, the local rehearsal). PYTEST_ARGS=--snapshot-update to accept template changes.
test: setup nginx-light
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian's nginx-light, when missing: tests/bridge/test_nginx.py runs the bridge's .platform/nginx files in it.
.PHONY: nginx-light
nginx-light:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { echo "installing nginx-light (apt-get) for the bridge's nginx test"; \
	  $$(test "$$(id -u)" = 0 || echo sudo) apt-get install -y -q nginx-light >/dev/null; }

## Synthesize the CloudFormation templates into cdk.out/ (CDK_ARGS="-c key=value ...").
synth: setup
	cdk synth --quiet $(CDK_ARGS)

## Compare the synthesized stacks with what is deployed (needs AWS credentials).
diff: setup
	cdk diff $(CDK_ARGS)

## Print the benchmark figures (cold import, warm latency, SDM calls per intent, bridge requests/s).
bench: setup
	$(PY) bench/skill_bench.py
	$(PY) bench/bridge_bench.py

## The whole system deployed and exercised locally: moto, fake Google, the bridge, a scripted conversation.
demo: setup
	$(PY) -m sandbox.demo

## Deploy to a real AWS account and Alexa developer account (see README: Deploying).
deploy: setup
	$(PY) -m ops deploy $(CDK_ARGS)

## Store the OAuth client credentials in the secrets bucket (NEST_CLIENT_ID / NEST_CLIENT_SECRET or a prompt).
credentials: setup
	$(PY) -m ops credentials store $(CDK_ARGS)

## Print what the secrets bucket holds, with the secret and the state key redacted.
show-credentials: setup
	$(PY) -m ops credentials show $(CDK_ARGS)

## Render the deployable ASK CLI project under build/ask-project from build/cdk-outputs.json.
render: setup
	$(PY) -m ops render $(CDK_ARGS)

clean:
	rm -rf cdk.out build .pytest_cache
