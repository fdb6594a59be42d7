#!/usr/bin/env bash
# Makes sure a Docker Compose command is available (installs Debian's docker-compose, 1.29,
# when neither `docker-compose` nor the `docker compose` plugin is there) and prints it on
# stdout, as words to run: `docker-compose` or `docker compose`. The compose test uses it.
set -euo pipefail
if command -v docker-compose >/dev/null 2>&1; then echo docker-compose; exit 0; fi
if docker compose version >/dev/null 2>&1; then echo docker compose; exit 0; fi
echo "kiln: installing Docker Compose (apt-get install docker-compose)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq docker-compose >&2 || { apt-get update -qq >&2 && apt-get install -y -qq docker-compose >&2; }
echo docker-compose
