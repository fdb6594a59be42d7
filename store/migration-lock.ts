// One start-up at a time migrates a database. Knex's own lock is a row in a table knex first
// has to create, which two nodes starting together can both try to do (and leave the lock
// table with two rows, refusing every later start); and inspecting an Fn database before
// adopting it must not watch another node's adoption half-way. So a database-level lock is
// held around both, on a connection of its own: PostgreSQL's advisory lock (scoped to the
// database), MySQL's named lock (named after the database). SQLite has neither, and a lock on
// the database file itself would block knex's own writes, so two Kiln processes opening one
// SQLite file take an exclusive lock on a sidecar SQLite file next to it instead (or, when that
// cannot be written, a shared one: see HeldLock).
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { noticedStep, STEP_NOTICE_MS } from './start-notice.js';

/** PostgreSQL's advisory-lock key for Kiln's migrations ("kiln" in ASCII). */
export const PG_LOCK_KEY = 0x6b696c6e;
/** How long a start waits for another node's migration, in seconds. */
const WAIT_SECONDS = 120;
/** How a start waits for the lock; the defaults are the server's, tests shorten them. */
export interface LockWait {
  waitSeconds?: number;
  noticeMs?: number;
  /** Called once when the lock has not been had within noticeMs: what is waited for, and how long at most. */
  onWait?(lock: string, waitSeconds: number): void;
}

interface LockSql {
  /** What is waited for, in the server's own terms, for the log and the error, on the database named (if known). */
  name(database: string | undefined): string;
  /** The statements that take the lock, waiting at most `seconds`, on one connection; the last one's row says whether it was taken. */
  lock(seconds: number): string[];
  /** Statements run on the connection once the wait is over (won or not), to leave it as it was. */
  after: string[];
  unlock: string;
  /** Whether the lock query's first row says the lock was taken. */
  taken(row: Record<string, unknown> | undefined): boolean;
  /** Whether the lock query's error is its wait running out. */
  timedOut(err: unknown): boolean;
}

const LOCKS: Record<string, LockSql> = {
  // pg_advisory_lock waits without bound of its own; lock_timeout bounds any lock wait of the session.
  pg: {
    name: () => `PostgreSQL advisory lock ${PG_LOCK_KEY} (pg_locks: locktype advisory, objid ${PG_LOCK_KEY})`,
    lock: (seconds) => [`SET lock_timeout = '${seconds}s'`, `SELECT pg_advisory_lock(${PG_LOCK_KEY}) AS ok`],
    after: ['RESET lock_timeout'],
    unlock: `SELECT pg_advisory_unlock(${PG_LOCK_KEY}) AS ok`,
    taken: () => true,
    timedOut: (err) => (err as { code?: unknown } | undefined)?.code === '55P03', // lock_not_available
  },
  mysql2: {
    name: (database) => `MySQL named lock kiln_migrate:${database ?? '<database>'} (IS_USED_LOCK shows its holder's connection)`,
    lock: (seconds) => [`SELECT GET_LOCK(CONCAT('kiln_migrate:', DATABASE()), ${seconds}) AS ok`],
    after: [],
    unlock: "SELECT RELEASE_LOCK(CONCAT('kiln_migrate:', DATABASE())) AS ok",
    taken: (row) => Number(row?.ok) === 1,
    timedOut: () => false,
  },
};

/**
 * How the lock is held. On SQLite taking it exclusive writes the sidecar (its first page and a
 * journal), which a full disk refuses; a shared lock on it writes nothing and still excludes any
 * other start's exclusive one (and waits for one held), so a start with nothing to migrate, which
 * only reads, starts on a full disk. Its holder must write nothing: `reason` says why it cannot.
 */
export type HeldLock = { exclusive: true } | { exclusive: false; lock: string; reason: Error };

const EXCLUSIVE: HeldLock = { exclusive: true };

const stillMigrating = (seconds: number, lock: string): Error =>
  new Error(`another Kiln start has been migrating this database for over ${seconds} s (it holds the ${lock}); try again`);

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

/** A read transaction on the sidecar: SQLite holds its shared lock until the transaction ends. */
function takeShared(lock: Database.Database): void {
  lock.exec('BEGIN');
  try {
    lock.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    lock.exec('ROLLBACK'); // to BEGIN again on the next try
    throw err;
  }
}

/**
 * Holds an exclusive lock on SQLite's sidecar file around `fn` (a shared one when the sidecar
 * cannot be written: HeldLock). SQLite's locks are the OS's
 * file locks, so they order processes and connections alike and go when a process dies. The
 * lock is tried without waiting and retried on a timer: better-sqlite3 waits synchronously,
 * which would stall a process that opens the same file twice.
 */
async function withSqliteLock<T>(lockFile: string, fn: (held: HeldLock) => Promise<T>, { waitSeconds, noticeMs, onWait }: Required<Pick<LockWait, 'waitSeconds' | 'noticeMs'>> & LockWait): Promise<T> {
  // The sidecar stays, also beside a database Kiln refuses: removing it under a start waiting on
  // it broke that start (an I/O error on the unlinked file) and the lock itself (a review).
  const lock = new Database(lockFile, { timeout: 0 });
  try {
    const name = `exclusive lock on ${lockFile}`;
    const started = performance.now();
    let held = EXCLUSIVE;
    for (let noticed = false; ; ) {
      try {
        if (held.exclusive) lock.exec('BEGIN EXCLUSIVE');
        else takeShared(lock);
        break;
      } catch (err) {
        const { code } = err as { code?: string };
        if (held.exclusive && code === 'SQLITE_FULL') {
          held = { exclusive: false, lock: lockFile, reason: err as Error };
          continue;
        }
        if (code !== 'SQLITE_BUSY') throw err;
        const waited = performance.now() - started;
        if (waited > waitSeconds * 1000) throw stillMigrating(waitSeconds, name);
        if (!noticed && waited >= noticeMs) {
          noticed = true;
          onWait?.(name, waitSeconds);
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    return await fn(held);
  } finally {
    lock.close(); // ends the transaction, and with it the lock
  }
}

/** Runs `fn` holding the database's migration lock, waiting for it as `wait` says; `fn` learns how it is held. */
export async function withMigrationLock<T>(knex: Knex, fn: (held: HeldLock) => Promise<T>, wait: LockWait = {}): Promise<T> {
  const { waitSeconds = WAIT_SECONDS, noticeMs = STEP_NOTICE_MS, onWait } = wait;
  const client = String(knex.client.config.client);
  if (client === 'better-sqlite3') {
    const lockFile = sqliteLockFile(String((knex.client.config.connection as { filename?: string }).filename ?? ''));
    return lockFile ? withSqliteLock(lockFile, fn, { waitSeconds, noticeMs, ...(onWait && { onWait }) }) : fn(EXCLUSIVE);
  }
  const sql = LOCKS[client];
  if (!sql) return fn(EXCLUSIVE);
  const pool = knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown> };
  const name = sql.name((knex.client.config.connection as { database?: string } | undefined)?.database);
  const conn = await pool.acquireConnection();
  try {
    let row: Record<string, unknown> | undefined;
    try {
      // Said once a while has passed, so a start held up by another node's long migration is not silent.
      row = await noticedStep(async () => {
        let last: Record<string, unknown> | undefined;
        for (const statement of sql.lock(waitSeconds)) last = firstRow(await knex.raw(statement).connection(conn));
        return last;
      }, () => onWait?.(name, waitSeconds), noticeMs);
    } catch (err) {
      if (sql.timedOut(err)) throw stillMigrating(waitSeconds, name);
      throw err;
    } finally {
      // A connection the failed wait broke cannot be reset; the wait's own error says more.
      for (const statement of sql.after) await knex.raw(statement).connection(conn).catch(() => undefined);
    }
    if (!sql.taken(row)) throw stillMigrating(waitSeconds, name);
    try {
      return await fn(EXCLUSIVE);
    } finally {
      await knex.raw(sql.unlock).connection(conn);
    }
  } finally {
    await pool.releaseConnection(conn);
  }
}
