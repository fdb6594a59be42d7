// One start-up at a time migrates a database. Knex's own lock is a row in a table knex first
// has to create, which two nodes starting together can both try to do (and leave the lock
// table with two rows, refusing every later start); and inspecting an Fn database before
// adopting it must not watch another node's adoption half-way. So a database-level lock is
// held around both, on a connection of its own: PostgreSQL's advisory lock (scoped to the
// database), MySQL's named lock (named after the database). SQLite has neither, and a lock on
// the database file itself would block knex's own writes, so two Kiln processes opening one
// SQLite file take an exclusive lock on a sidecar SQLite file next to it instead.
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Knex } from 'knex';

/** PostgreSQL's advisory-lock key for Kiln's migrations ("kiln" in ASCII). */
const PG_LOCK_KEY = 0x6b696c6e;
/** How long a start waits for another node's migration, in seconds (MySQL's GET_LOCK bound). */
const WAIT_SECONDS = 120;

interface LockSql {
  lock: string;
  unlock: string;
  /** Whether the lock query's first row says the lock was taken. */
  taken(row: Record<string, unknown> | undefined): boolean;
}

const LOCKS: Record<string, LockSql> = {
  pg: {
    lock: `SELECT pg_advisory_lock(${PG_LOCK_KEY}) AS ok`,
    unlock: `SELECT pg_advisory_unlock(${PG_LOCK_KEY}) AS ok`,
    taken: () => true, // pg_advisory_lock waits until it has the lock
  },
  mysql2: {
    lock: `SELECT GET_LOCK(CONCAT('kiln_migrate:', DATABASE()), ${WAIT_SECONDS}) AS ok`,
    unlock: "SELECT RELEASE_LOCK(CONCAT('kiln_migrate:', DATABASE())) AS ok",
    taken: (row) => Number(row?.ok) === 1,
  },
};

/** The rows of a raw query, whichever driver answered (pg: {rows}, mysql2: [rows, fields]). */
function firstRow(result: unknown): Record<string, unknown> | undefined {
  const rows = Array.isArray(result) ? result[0] : (result as { rows?: unknown } | undefined)?.rows;
  return Array.isArray(rows) ? (rows[0] as Record<string, unknown> | undefined) : undefined;
}

/** The sidecar lock file of an SQLite database (none for `:memory:`, which no other process sees). */
export function sqliteLockFile(filename: string): string | undefined {
  return filename === ':memory:' || filename === '' ? undefined : `${filename}-migrate.lock`;
}

const RETRY_MS = 25;

/**
 * Holds an exclusive lock on SQLite's sidecar file around `fn`. SQLite's locks are the OS's
 * file locks, so they order processes and connections alike and go when a process dies. The
 * lock is tried without waiting and retried on a timer: better-sqlite3 waits synchronously,
 * which would stall a process that opens the same file twice.
 */
async function withSqliteLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  // A start that fails (a database Kiln refuses) takes away the sidecar it made, so nothing of
  // Kiln's is left beside a file it did not open. One another start made stays: it may be waiting on it.
  const made = !existsSync(lockFile);
  let done = false;
  const lock = new Database(lockFile, { timeout: 0 });
  try {
    for (const giveUp = Date.now() + WAIT_SECONDS * 1000; ; ) {
      try {
        lock.exec('BEGIN EXCLUSIVE');
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        if (Date.now() > giveUp) throw new Error(`another Kiln process has been migrating this database for over ${WAIT_SECONDS} s; try again`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    const result = await fn();
    done = true;
    return result;
  } finally {
    lock.close(); // ends the transaction, and with it the lock
    if (made && !done) rmSync(lockFile, { force: true });
  }
}

/** Runs `fn` holding the database's migration lock. */
export async function withMigrationLock<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  const client = String(knex.client.config.client);
  if (client === 'better-sqlite3') {
    const lockFile = sqliteLockFile(String((knex.client.config.connection as { filename?: string }).filename ?? ''));
    return lockFile ? withSqliteLock(lockFile, fn) : fn();
  }
  const sql = LOCKS[client];
  if (!sql) return fn();
  const pool = knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown> };
  const conn = await pool.acquireConnection();
  try {
    if (!sql.taken(firstRow(await knex.raw(sql.lock).connection(conn)))) {
      throw new Error(`another Kiln node has been migrating this database for over ${WAIT_SECONDS} s; try again`);
    }
    try {
      return await fn();
    } finally {
      await knex.raw(sql.unlock).connection(conn);
    }
  } finally {
    await pool.releaseConnection(conn);
  }
}
