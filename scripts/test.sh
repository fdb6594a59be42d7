#!/usr/bin/env bash
# `npm test`: everything the suite needs on a fresh machine, then the suite itself, then a
# check that it left no container, socket directory, temp file or test database behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Types, and imports against DESIGN.md's layout (.dependency-cruiser.cjs): a violation fails the run.
npm run --silent typecheck >&2
bash scripts/docker.sh
node dist/scripts/build-base.js >/dev/null
KILN_TEST_PG_URL=$(bash scripts/postgres.sh)
export KILN_TEST_PG_URL
KILN_TEST_MYSQL_URL=$(bash scripts/mysql.sh)
export KILN_TEST_MYSQL_URL
# The compose test (test/compose/) runs docker-compose.yml with this command.
KILN_TEST_COMPOSE=$(bash scripts/compose.sh)
export KILN_TEST_COMPOSE

tmp=${TMPDIR:-/tmp}
leftovers() { find "$tmp" -maxdepth 1 -name 'kiln-*' ! -name 'kiln-iofs' ! -name 'kiln-build-*.lock' ! -name 'kiln-runtime-*' 2>/dev/null | sort; }
# test/helpers/db.ts names the databases it makes on the shared servers with this run's
# prefix, so a test run elsewhere at the same time (its own prefix) is not taken for ours.
export KILN_TEST_DB_PREFIX="kiln_test_r$$_"
like=${KILN_TEST_DB_PREFIX//_/\\_}%
# -X and --no-defaults: a ~/.psqlrc or ~/.my.cnf must change neither the output nor the login.
pg_test_dbs() {
  psql -X "$KILN_TEST_PG_URL" -Atc "SELECT 'postgres ' || datname FROM pg_database WHERE datname LIKE '$like'"
}
mysql_test_dbs() {
  [[ $KILN_TEST_MYSQL_URL =~ ^mysql://([^:]+):([^@]+)@([^:/]+):([0-9]+)/ ]] || return 1
  local out
  out=$(mysql --no-defaults -N -u "${BASH_REMATCH[1]}" --password="${BASH_REMATCH[2]}" -h "${BASH_REMATCH[3]}" -P "${BASH_REMATCH[4]}" \
    -e "SHOW DATABASES LIKE '$like'") || return 1
  [ -z "$out" ] || echo "$out" | sed 's/^/mysql /'
}
# What this run left on each server; a client that cannot list one says so, and that server's
# check is skipped (a run whose tests passed is not failed by it), the other's kept.
test_dbs() {
  local pg my
  pg=$(pg_test_dbs) || { echo "kiln: could not list the test databases on PostgreSQL; their check is skipped" >&2; pg=''; }
  my=$(mysql_test_dbs) || { echo "kiln: could not list the test databases on MariaDB; their check is skipped" >&2; my=''; }
  printf '%s\n%s\n' "$pg" "$my" | grep . || true
}
before=$(leftovers)

# Only *.test.js: given a folder, node would run every file under a test/ directory as a test.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
status=0
node --test "$@" "${files[@]}" || status=$?

# Test servers use node ids starting with "test-"; their containers must all be gone.
containers=$(docker ps -a --filter label=io.kiln.node --format '{{.Label "io.kiln.node"}} {{.Names}}' | grep '^test-' || true)
# Networks the tests make are labelled io.kiln.test.
networks=$(docker network ls --filter label=io.kiln.test --format '{{.Name}}' || true)
new_files=$(comm -13 <(echo "$before") <(leftovers) | grep . || true)
# A client that cannot list them must not fail a run whose tests passed: said, and skipped.
new_dbs=$(test_dbs)
if [ -n "$containers" ] || [ -n "$networks" ] || [ -n "$new_files" ] || [ -n "$new_dbs" ]; then
  echo "kiln: the tests left things behind:" >&2
  [ -n "$containers" ] && echo "$containers" | sed 's/^/  container: /' >&2
  [ -n "$networks" ] && echo "$networks" | sed 's/^/  network: /' >&2
  [ -n "$new_files" ] && echo "$new_files" | sed 's/^/  file: /' >&2
  [ -n "$new_dbs" ] && echo "$new_dbs" | sed 's/^/  database: /' >&2
  status=1
fi
exit $status
