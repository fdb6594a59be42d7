#!/usr/bin/env bash
# Makes sure a MySQL-protocol server (MariaDB, from Debian's mariadb-server) is running on
# 127.0.0.1:3306 with a role that may create and drop databases (tests make one database per
# suite and drop it). Reuses a server already up. Prints the admin URL on stdout; it names no
# database, as the role may only use (create, drop, fill) databases named kiln_*.
set -euo pipefail
MY_USER=${KILN_MYSQL_USER:-kiln}
MY_PASS=${KILN_MYSQL_PASSWORD:-kiln}
log=${KILN_MYSQLD_LOG:-/var/log/kiln-mysqld.log}
url="mysql://$MY_USER:$MY_PASS@127.0.0.1:3306/"

if ! command -v mariadbd >/dev/null 2>&1 && ! command -v mysqld >/dev/null 2>&1; then
  echo "kiln: installing MariaDB (apt-get install mariadb-server)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq mariadb-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq mariadb-server >&2; }
fi
client=$(command -v mariadb || command -v mysql)
admin=$(command -v mariadb-admin || command -v mysqladmin)

# `ping` succeeds whenever the server answers, even when it refuses these credentials.
up() { "$admin" --no-defaults -h 127.0.0.1 -P 3306 -u "$MY_USER" --password="$MY_PASS" --connect-timeout=2 ping >/dev/null 2>&1; }

if ! up; then
  # No systemd here: mysqld_safe runs (and restarts) the server in the background; setsid
  # lets it outlive this script, and its output goes to the log, not to our stdout.
  echo "kiln: starting MariaDB in the background (log: $log)" >&2
  # The server runs as the mysql user, which must be able to write its socket directory and log.
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  touch "$log" && chown mysql:mysql "$log"
  safe=$(command -v mariadbd-safe || command -v mysqld_safe)
  # --skip-syslog: Debian's mysqld_safe config logs to syslog, which a container lacks.
  setsid "$safe" --user=mysql --skip-syslog --log-error="$log" --bind-address=127.0.0.1 --port=3306 \
    >/dev/null 2>&1 </dev/null &
  for _ in $(seq 1 120); do up && break; sleep 0.5; done
  up || { echo "kiln: MariaDB did not start; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
fi

# As root over the local socket (Debian's root logs in by unix_socket). A database-level grant on
# a name pattern lets the role create and drop the databases it matches, and nothing else.
"$client" --no-defaults -u root --protocol=socket -S /run/mysqld/mysqld.sock <<SQL >&2
CREATE USER IF NOT EXISTS '$MY_USER'@'localhost' IDENTIFIED BY '$MY_PASS';
CREATE USER IF NOT EXISTS '$MY_USER'@'127.0.0.1' IDENTIFIED BY '$MY_PASS';
GRANT ALL PRIVILEGES ON \`kiln\\_%\`.* TO '$MY_USER'@'localhost', '$MY_USER'@'127.0.0.1';
SQL
echo "$url"
