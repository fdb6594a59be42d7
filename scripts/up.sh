#!/usr/bin/env bash
# `npm run up`: install, start the Docker engine, build the base image, then run Kiln in the
# foreground on SQLite (./data/fn.db) at port 8080 with a demo function deployed and invoked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/docker.sh
node dist/scripts/build-base.js >/dev/null
# FN_PORT, FN_DB_URL and the rest: the server's defaults (api/config.ts) unless set.
exec node dist/scripts/up.js
