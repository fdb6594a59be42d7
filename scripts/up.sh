#!/usr/bin/env bash
# `npm run up`: install, start the Docker engine, build the base image, then run Kiln in the
# foreground on SQLite (./data/fn.db) at port 8080 with a demo function deployed and invoked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/docker.sh
node dist/images/build-base-cli.js >/dev/null
export FN_PORT=${FN_PORT:-8080}
export FN_DB_URL=${FN_DB_URL:-sqlite3://./data/fn.db}
exec node dist/scripts/up.js
