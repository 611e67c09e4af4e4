#!/usr/bin/env bash
# `make compose-test`: the compose stack for real, as users run it (README, "Run it in containers").
#   1. Docker from Debian's packages if absent, dockerd started if no engine answers (docker_engine.sh);
#   2. every image built offline (images.sh);
#   3. tests/compose: `docker-compose up -d` on fresh volumes and every container healthy, the e2e journeys
#      through the edge container, typed stubs against the containers, `--scale company=3` then a replica
#      stopped under load (no read may fail), events read back from the stack's RabbitMQ, `down -v`.
# Figures (start time, failed reads, image sizes, wall times): var/compose-test/figures.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/docker_engine.sh

started=$(date +%s)
ensure_docker_engine
mkdir -p var/compose-test
IMAGE_SIZES=var/compose-test/image-sizes.json scripts/images.sh
built=$(date +%s)
COMPOSE_TEST=1 .venv/bin/python -m pytest tests/compose ${PYTEST_ARGS:-}
finished=$(date +%s)
echo "compose-test: images $(( built - started )) s, stack tests $(( finished - built )) s," \
  "total $(( finished - started )) s"
.venv/bin/python - "$(( built - started ))" "$(( finished - built ))" <<'PY'
import json, sys
from pathlib import Path
figures = Path("var/compose-test/figures.json")
known = json.loads(figures.read_text()) if figures.exists() else {}
known |= {
    "images_seconds": int(sys.argv[1]),
    "stack_tests_seconds": int(sys.argv[2]),
    "image_bytes": json.loads(Path("var/compose-test/image-sizes.json").read_text()),
}
figures.write_text(json.dumps(known, indent=2))
PY
