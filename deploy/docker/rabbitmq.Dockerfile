# RabbitMQ from Debian's packages, with the interface of the official image that docker-compose.yml uses
# (RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, rabbitmq-diagnostics). Stands in for rabbitmq:3.13-management
# where no registry is reachable (scripts/images.sh). Context: the repository root.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d
COPY deploy/docker/rabbitmq-entrypoint.sh /usr/local/bin/rabbitmq-entrypoint.sh
# The node is rabbit@<hostname>: compose gives the container a fixed hostname, so the data volume stays its own.
ENV HOME=/var/lib/rabbitmq RABBITMQ_CONFIG_FILE=/tmp/rabbitmq.conf
USER rabbitmq
EXPOSE 5672
ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint.sh"]
