# The two commands: `make run` (whole suite on embedded defaults) and `make test` (all tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTO_SOURCES := $(shell find protos -name '*.proto')

.PHONY: install protos run test lint typecheck buflint breaking check clean bench bench-matching bench-load kubernetes

install: $(STAMP) node_modules/.installed

# Dependencies first (grpcio-tools generates the code), then the editable install of our packages.
$(STAMP): requirements.lock pyproject.toml $(PROTO_SOURCES) scripts/gen_protos.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python scripts/gen_protos.py
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

run: install
	$(BIN)/python scripts/run_local.py

# One pytest worker per core (pytest-xdist); a test file stays on one worker, so a module's suite
# stack is started once. PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node_modules/.bin/buf lint

# Each service's tests/ is its own `tests` package for mypy, so services are checked one by one.
typecheck: install
	$(BIN)/mypy libs tests scripts gateway bench examples
	for service in services/*/; do $(BIN)/mypy $$service || exit 1; done

# REST through Envoy vs direct gRPC vs an echo ceiling (bench/run.py; h2load from Debian).
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The whole suite on PostgreSQL + Redis under a realistic mix, REST vs gRPC vs echo, 1 vs 2 replicas
# (bench/load; JSON under var/bench/). BENCH_ARGS="--duration 20 --connections 8", or "--quick".
bench-load: install
	$(BIN)/python -m bench.load $(BENCH_ARGS)

# Compares the protos with those of the main branch (or BREAKING_AGAINST, a git ref).
breaking: install
	$(BIN)/python scripts/buf_breaking.py $(BREAKING_AGAINST)

check: lint typecheck test breaking

clean:
	rm -rf gen build $(VENV) node_modules var

# Matching scoring at scale: one company vs 100k targets, 10k x 10k pairs, vs a plain Python loop.
bench-matching: install
	$(BIN)/python -m bench.matching.run $(BENCH_ARGS)

# Regenerates the edge's Envoy ConfigMap of deploy/kubernetes (after a proto or gateway change;
# tests/deploy fails while it is stale).
kubernetes: install
	$(BIN)/python scripts/gen_kubernetes_gateway.py
