// Real databases for tests: a SQLite file in a fresh temp dir, or a fresh PostgreSQL database
// on the server scripts/postgres.sh started (KILN_TEST_PG_URL), or a fresh MySQL database on
// the MariaDB server scripts/mysql.sh started (KILN_TEST_MYSQL_URL). Each is removed by its cleanup.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';

export interface TestDb {
  url: string;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres' | 'mysql';
  create(): Promise<TestDb>;
}

export async function sqliteDb(): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-test-'));
  return {
    url: `sqlite3://${join(dir, 'fn.db')}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function pgAdminUrl(): string {
  const url = process.env.KILN_TEST_PG_URL ?? process.env.KILN_BENCH_PG_URL;
  if (!url) throw new Error('KILN_TEST_PG_URL is not set: run the tests with `npm test`, which starts PostgreSQL');
  return url;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A database name no other suite or process uses (scripts/mysql.sh's role may only make kiln_*),
 * with `npm test`'s run prefix (KILN_TEST_DB_PREFIX), by which it finds what a run left.
 */
const testDbName = (): string =>
  `${process.env.KILN_TEST_DB_PREFIX ?? 'kiln_test_'}${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

/** SQLSTATEs a DROP may meet from a backend it cannot end: insufficient_privilege, object_in_use. */
const DROP_BUSY = new Set(['42501', '55006']);

/**
 * Drops a test database, ending its connections. FORCE ends only backends of roles the kiln
 * role may signal: an autovacuum worker that just started on the new tables (no role) made the
 * DROP fail in CI and left the database behind. scripts/postgres.sh grants pg_signal_backend;
 * a server set up before it did, or a worker caught between its checks, is waited out.
 */
async function dropPgDatabase(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= 50 || typeof code !== 'string' || !DROP_BUSY.has(code)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function postgresDb(): Promise<TestDb> {
  const name = testDbName();
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    cleanup: () => dropPgDatabase(name),
  };
}

function mysqlAdminUrl(): string {
  const url = process.env.KILN_TEST_MYSQL_URL;
  if (!url) throw new Error('KILN_TEST_MYSQL_URL is not set: run the tests with `npm test`, which starts MariaDB');
  return url;
}

async function mysqlAdmin(sql: string): Promise<void> {
  const conn = await mysql.createConnection(mysqlAdminUrl());
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

export async function mysqlDb(): Promise<TestDb> {
  const name = testDbName();
  await mysqlAdmin(`CREATE DATABASE \`${name}\``);
  const url = new URL(mysqlAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    cleanup: async () => {
      await mysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``);
    },
  };
}

export const backends: readonly Backend[] = [
  { name: 'sqlite', create: sqliteDb },
  { name: 'postgres', create: postgresDb },
  { name: 'mysql', create: mysqlDb },
];
