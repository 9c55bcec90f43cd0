# The README's two commands: `make run` (the main job) and `make test` (the whole suite).
# Both set everything up on a fresh machine: a virtualenv with the project and its
# dev extras, the npm ASL validators, and (for the UI's browser tests) Debian's Chromium.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stratoflow-installed
# The main job needs only the core package (pydantic, rich) and the examples extra
# (scikit-learn, numpy): no CDK, moto or linters.
RUN_STAMP := $(VENV)/.stratoflow-core

.PHONY: run test check lint typecheck tests bench clean test-aws

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# --no-compile: byte-compiling all of scipy and scikit-learn up front costs more than
# compiling, on first import, the few modules the example uses (~8 s of a fresh run).
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -e ".[examples]"
	touch $(RUN_STAMP)

# The web UI's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
# CI runs as root; anyone else is asked for sudo. Without it the browser tests skip, saying why.
CHROMIUM := /usr/bin/chromium
APT := DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo -n )apt-get -q
$(CHROMIUM):
	$(APT) install -y chromium || ($(APT) update && $(APT) install -y chromium) \
		|| echo "warning: could not install chromium: the browser tests (tests/ui) will skip"

tools/asl/node_modules/.installed: tools/asl/package.json tools/asl/package-lock.json
	npm ci --prefix tools/asl --no-audit --no-fund --loglevel=error
	touch $@

# The digits pipeline (examples/digits.py): prints the test accuracy and the report's path.
run: $(RUN_STAMP)
	STRATOFLOW_HOME=$${STRATOFLOW_HOME:-.stratoflow} $(BIN)/stratoflow run examples/digits.py digits

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

tests: $(STAMP) tools/asl/node_modules/.installed $(CHROMIUM)
	$(BIN)/python -m pytest -n auto -q

check test: lint typecheck tests

# Real AWS (opt-in, never in CI): deploys a throw-away stage with your credentials, runs the
# examples there, compares with local runs, destroys it (README: "The real-AWS smoke suite").
test-aws: $(STAMP)
	STRATOFLOW_AWS_TESTS=1 $(BIN)/python -m pytest -m aws -p no:xdist -q -rs tests/aws

bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) tools/asl/node_modules .stratoflow .pytest_cache .mypy_cache .ruff_cache
