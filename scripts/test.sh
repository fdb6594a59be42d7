#!/usr/bin/env bash
# `npm test`: everything the suite needs on a fresh machine, then the suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
KILN_TEST_PG_URL=$(bash scripts/postgres.sh)
export KILN_TEST_PG_URL
exec node --test "$@" dist/test/
