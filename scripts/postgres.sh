#!/usr/bin/env bash
# Makes sure a PostgreSQL server is running on 127.0.0.1:5432 with a role that may create
# databases (tests make one database per suite and drop it). Reuses a server already up.
# Prints the admin URL on stdout.
set -euo pipefail
PG_USER=${KILN_PG_USER:-kiln}
PG_PASS=${KILN_PG_PASSWORD:-kiln}
url="postgres://$PG_USER:$PG_PASS@127.0.0.1:5432/postgres"

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "kiln: installing PostgreSQL (apt-get install postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq postgresql >&2 || { apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2; }
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  read -r ver name _ < <(pg_lsclusters --no-header | head -n1)
  if [ -z "${ver:-}" ]; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -n1); name=main
    pg_createcluster "$ver" "$name" >&2
  fi
  echo "kiln: starting PostgreSQL cluster $ver/$name" >&2
  pg_ctlcluster "$ver" "$name" start >&2 || true
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "kiln: PostgreSQL did not start" >&2; exit 1; }
fi

# The role is created once; CREATEDB lets each test suite own a throwaway database.
su postgres -c "psql -qtAX -h /var/run/postgresql -c \"DO \\\$\\\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASS';
  END IF; END \\\$\\\$;\"" >&2
# Test suites drop their databases WITH (FORCE), which must end any backend connected to them,
# an autovacuum worker's included (it has no role, so only pg_signal_backend may end it).
su postgres -c "psql -qtAX -h /var/run/postgresql -c 'GRANT pg_signal_backend TO $PG_USER'" >/dev/null 2>&1 ||
  echo "kiln: could not grant pg_signal_backend to $PG_USER; test databases may be slow to drop" >&2
echo "$url"
