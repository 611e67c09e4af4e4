# One image for the six services (compose picks the module per service): dependencies from the
# lock file, code generated from the protos, our packages installed (not editable).
FROM python:3.11-slim-bookworm
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 GRPC_HOST=0.0.0.0 LOG_JSON=true
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml ./
COPY protos ./protos
COPY scripts ./scripts
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
RUN python scripts/gen_protos.py && pip install --no-cache-dir --no-deps --no-build-isolation . \
    && groupadd --system --gid 10001 devinsider \
    && useradd --system --uid 10001 --gid 10001 --home /app devinsider && mkdir -p /app/var && chown devinsider /app/var
# Numeric, so that Kubernetes can verify runAsNonRoot (deploy/kubernetes sets runAsUser: 10001).
USER 10001
EXPOSE 50051 9100
