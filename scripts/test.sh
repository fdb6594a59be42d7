#!/usr/bin/env bash
# `npm test`: everything the suite needs on a fresh machine, then the suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/docker.sh
node dist/images/build-base-cli.js >/dev/null
KILN_TEST_PG_URL=$(bash scripts/postgres.sh)
export KILN_TEST_PG_URL
# Only *.test.js: given a folder, node would run every file under a test/ directory as a test.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
exec node --test "$@" "${files[@]}"
