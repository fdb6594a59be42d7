#!/usr/bin/env bash
# Installs npm dependencies when they are missing or older than the lockfile, then compiles
# the TypeScript into dist/ from scratch (so a deleted source leaves no stale test behind)
# and bundles the Lambda runtime daemon (dist/runtime/daemon.cjs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "kiln: installing npm dependencies (npm ci)" >&2
  npm ci --no-fund --no-audit >&2
fi
rm -rf dist
npm run --silent build >&2
