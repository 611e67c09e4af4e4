#!/bin/sh
# The broker's config from the environment (the default user is created on the first start only), then
# RabbitMQ in the foreground.
set -eu
cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 5672
loopback_users = none
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
CONF
exec rabbitmq-server
