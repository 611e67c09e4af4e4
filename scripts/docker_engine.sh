#!/usr/bin/env bash
# A Docker engine and docker-compose on this machine, from Debian's packages (sourced by images.sh and
# compose_test.sh). Installs docker.io, docker-compose and debootstrap when absent and starts dockerd as
# root when no engine answers (its log: var/dockerd.log).
ensure_docker_engine() {
  local missing=()
  command -v dockerd > /dev/null || missing+=(docker.io)
  command -v docker-compose > /dev/null || missing+=(docker-compose)
  command -v debootstrap > /dev/null || missing+=(debootstrap)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "docker: installing ${missing[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
  fi
  if ! docker info > /dev/null 2>&1; then
    echo "docker: starting dockerd"
    mkdir -p var
    (dockerd > var/dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do docker info > /dev/null 2>&1 && return 0; sleep 1; done
    echo "docker: the engine did not answer within 60 s (var/dockerd.log)" >&2
    return 1
  fi
}
