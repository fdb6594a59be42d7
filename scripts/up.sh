#!/usr/bin/env bash
# `npm run up`: install, then run Kiln in the foreground on SQLite (./data/fn.db) at port 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export FN_PORT=${FN_PORT:-8080}
export FN_DB_URL=${FN_DB_URL:-sqlite3://./data/fn.db}
echo "kiln: starting on http://localhost:$FN_PORT (database $FN_DB_URL); Ctrl-C stops it" >&2
echo "kiln: try  curl -s -X POST localhost:$FN_PORT/v2/apps -d '{\"name\":\"myapp\"}'" >&2
exec node dist/api/main.js
