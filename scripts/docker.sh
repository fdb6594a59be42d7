#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock (or DOCKER_HOST): installs the
# Debian package docker.io when missing and starts dockerd in the background when not running.
set -euo pipefail
log=${KILN_DOCKERD_LOG:-/var/log/kiln-dockerd.log}

if docker info >/dev/null 2>&1; then exit 0; fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "kiln: installing the Docker engine (apt-get install docker.io)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq docker.io >&2 || { apt-get update -qq >&2 && apt-get install -y -qq docker.io >&2; }
fi

if [ -n "${DOCKER_HOST:-}" ]; then
  echo "kiln: DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local engine" >&2
  exit 1
fi

echo "kiln: starting dockerd in the background (log: $log)" >&2
# setsid: the engine outlives this script and the shell that ran it.
setsid dockerd >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "kiln: dockerd did not come up; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
