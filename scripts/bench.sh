#!/usr/bin/env bash
# `npm run bench`: prints figures from one run on this machine; never a pass/fail gate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/docker.sh
node dist/scripts/build-base.js >/dev/null
KILN_BENCH_PG_URL=${KILN_BENCH_PG_URL:-$(bash scripts/postgres.sh)}
export KILN_BENCH_PG_URL
node dist/bench/invoke.js
node dist/bench/store-list.js
