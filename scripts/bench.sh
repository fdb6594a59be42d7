#!/usr/bin/env bash
# `npm run bench`: prints figures; never a pass/fail gate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
KILN_BENCH_PG_URL=${KILN_BENCH_PG_URL:-$(bash scripts/postgres.sh)}
export KILN_BENCH_PG_URL
exec node dist/bench/store-list.js
