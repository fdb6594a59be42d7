#!/usr/bin/env bash
# Installs npm dependencies when they are missing or older than the lockfile, then compiles
# the TypeScript into dist/ from scratch (so a deleted source leaves no stale test behind)
# and bundles the Lambda runtime daemon (dist/runtime/daemon.cjs).
set -euo pipefail
cd "$(dirname "$0")/.."
# The AWS Lambda runtime interface client (a test peer) builds its bundled curl with autotools and cmake.
if ! command -v autoreconf >/dev/null || ! command -v libtoolize >/dev/null || ! command -v cmake >/dev/null; then
  echo "kiln: installing build tools for aws-lambda-ric (autoconf automake libtool cmake)" >&2
  apt-get install -y autoconf automake libtool cmake >&2 || { apt-get update >&2 && apt-get install -y autoconf automake libtool cmake >&2; }
fi
# The AWS CLI v2 (a test peer: the Lambda Invoke API through a real client).
if [ ! -x /usr/bin/aws ]; then
  echo "kiln: installing the AWS CLI for the tests (awscli)" >&2
  apt-get install -y awscli >&2 || { apt-get update >&2 && apt-get install -y awscli >&2; }
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "kiln: installing npm dependencies (npm ci)" >&2
  npm ci --no-fund --no-audit >&2
fi
rm -rf dist
npm run --silent build >&2
