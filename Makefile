# The README's commands. `make demo` and `make test` create the environment themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast lint typecheck unit demo serve smoke bench synth clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-checkov.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The console's browser tests (tests/console/) drive Debian's chromium; we run as root.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

unit: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest

test: lint typecheck unit

# While working: the domain, ingest, and the use cases on in-memory fakes (tests/fakes/,
# held to the real stores by a contract test), with the import graph; under a minute.
# `make test` runs these and everything else (the workflow, the API, the stack, Chromium,
# and the hostile workbook corpora, half a minute of CPU on their own).
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest tests/unit tests/ingest --ignore=tests/ingest/test_hostile_workbooks.py

demo: $(STAMP)
	$(BIN)/batch-calls demo

serve: $(STAMP)
	$(BIN)/batch-calls local up

# A deployment end to end with simulated calls: `make smoke API_URL=... API_KEY=...` (the
# key of `batch-calls admin create-smoke-workspace`); without API_URL, a local runtime.
smoke: $(STAMP)
	$(BIN)/batch-calls smoke $(if $(API_URL),--api-url $(API_URL) --api-key $(API_KEY),--local)

bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.orchestration
	$(BIN)/python -m bench.pacing
	$(BIN)/python -m bench.results

# The CloudFormation template and assets in cdk.out/, offline, bundling the functions
# without Docker (the first run downloads the Lambda wheels from PyPI into build/).
synth: $(STAMP)
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python app.py
	@echo "cdk.out/$$(ls cdk.out | grep template.json)"

clean:
	rm -rf $(VENV) cdk.out build/lambda-dependencies .pytest_cache .mypy_cache .ruff_cache .hypothesis
