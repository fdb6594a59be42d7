// Turns FN_DB_URL into a knex instance and brings its schema up to date.
import { resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { dbErrorForLog } from './db-log.js';
import { isTimeout } from './db-errors.js';
import { boundStatements, DEFAULT_DB_TIMEOUT_MS } from './db-timeout.js';
import { DatabaseTimeoutError } from './errors.js';
import { redactDbUrl } from './redact-db-url.js';
import { splitDsn } from './mysql-dsn.js';
import { migrationSourceFor } from './fn-database.js';
import { withMigrationLock, type HeldLock } from './migration-lock.js';
import { appliedMigrations, newerDatabaseMessage, unknownMigrations } from './newer-migrations.js';
import { migrations } from '../migrations/index.js';
import { SQLITE_BUSY_MS, SQLITE_START_BUSY_MS } from './sqlite-busy.js';
import { withSqliteConnection } from './sqlite-connection.js';
import { prepareSqliteFile } from './sqlite-file.js';
import { noticedStep, STEP_NOTICE_MS } from './start-notice.js';

export class DbUrlError extends Error {}

const SCHEMES = 'sqlite3://PATH, postgres://... or mysql://...';

/** Where and how to reach a MySQL or MariaDB server, as mysql2 takes it. */
export interface MysqlConnection {
  host?: string;
  port?: number;
  socketPath?: string;
  user: string;
  password: string;
  database: string;
  ssl?: { rejectUnauthorized: boolean };
}

const MYSQL_PORT = 3306;

/**
 * Parses a MySQL FN_DB_URL in either form:
 * - a URL, `mysql://user:pass@host:port/db` (user and password percent-encoded, port 3306 by default);
 * - Fn's form, `mysql://` and a Go MySQL driver DSN, `user:pass@tcp(host:port)/db` or
 *   `user:pass@unix(/path/to.sock)/db` (`user:pass@/db` is tcp to 127.0.0.1:3306).
 * Query options are tolerated and ignored (Kiln always uses utf8mb4 and UTC), except `tls`:
 * `true` (verify the server), `skip-verify` (encrypt only) or `false`.
 */
export function parseMysqlUrl(url: string): MysqlConnection {
  const bad = (why: string): DbUrlError => new DbUrlError(`FN_DB_URL "${redactDbUrl(url)}": ${why}`);
  if (!url.startsWith('mysql://')) throw bad('not a mysql:// URL');
  const dsn = url.slice('mysql://'.length);
  const { slash, at, address } = splitDsn(dsn);
  if (slash < 0) throw bad('names no database (mysql://user:pass@host:3306/db)');
  const net = /^(\w*)\((.*)\)$/s.exec(address);
  let conn: MysqlConnection;
  let dbAndQuery: string;
  if (net || address === '') {
    const userInfo = at < 0 ? '' : dsn.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
    const password = colon < 0 ? '' : userInfo.slice(colon + 1);
    const [, protocol = 'tcp', addr = ''] = net ?? [];
    if (protocol === 'unix') {
      if (addr === '') throw bad('unix() names no socket');
      conn = { socketPath: addr, user, password, database: '' };
    } else if (protocol === 'tcp' || protocol === 'tcp4' || protocol === 'tcp6' || protocol === '') {
      conn = { ...hostPort(addr || '127.0.0.1', bad), user, password, database: '' };
    } else {
      throw bad(`unsupported protocol "${protocol}" (use tcp(host:port) or unix(/path))`);
    }
    dbAndQuery = dsn.slice(slash + 1);
  } else {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw bad('is not a valid URL (mysql://user:pass@host:3306/db)');
    }
    if (u.hostname === '') throw bad('names no host');
    if (u.hash !== '') throw bad('has a #fragment');
    conn = {
      ...hostPort(u.host, bad),
      user: decode(u.username, bad),
      password: decode(u.password, bad, 'the password'),
      database: '',
    };
    dbAndQuery = u.pathname.slice(1) + u.search;
  }
  const q = dbAndQuery.indexOf('?');
  const database = decode(q < 0 ? dbAndQuery : dbAndQuery.slice(0, q), bad);
  if (database === '') throw bad('names no database (mysql://user:pass@host:3306/db)');
  if (database.includes('/')) throw bad(`database name "${database}" contains '/'`);
  conn.database = database;
  const tls = new URLSearchParams(q < 0 ? '' : dbAndQuery.slice(q + 1)).get('tls');
  switch (tls) {
    case null: case 'false': break;
    case 'true': conn.ssl = { rejectUnauthorized: true }; break;
    case 'skip-verify': conn.ssl = { rejectUnauthorized: false }; break;
    default: throw bad(`tls=${tls} is not supported (use tls=true, tls=skip-verify or tls=false)`);
  }
  return conn;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`, port 3306 by default. */
function hostPort(s: string, bad: (why: string) => DbUrlError): { host: string; port: number } {
  const m = /^(?:\[([\w:.%]+)\]|([\w.-]+))(?::([^:]*))?$/.exec(s);
  const host = m?.[1] ?? m?.[2];
  if (!m || !host) throw bad(`"${s}" is not a host or host:port`);
  if (m[3] === undefined) return { host, port: MYSQL_PORT };
  const port = /^\d{1,5}$/.test(m[3]) ? Number(m[3]) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`port "${m[3]}" is not a number from 1 to 65535`);
  return { host, port };
}

/** Percent-decoded `s`; `secret` names it in the error instead of quoting it (a password). */
function decode(s: string, bad: (why: string) => DbUrlError, secret?: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(`${secret ?? `"${s}"`} is not valid percent-encoding`);
  }
}

/** A pooled MySQL connection as knex's afterCreate hands it over (mysql2's callback API). */
interface MysqlPoolConnection {
  query(sql: string, cb: (err: Error | null) => void): unknown;
}

/**
 * Every MySQL session is strict, whatever the server's default: a value too long for its column
 * is an error, never silently cut (MySQL 5.7+ and MariaDB 10.2+ are strict unless told otherwise).
 * And never NO_BACKSLASH_ESCAPES: mysql2 writes values into the SQL text escaping quotes with a
 * backslash, which that mode makes an ordinary character, so a quote in a value would end the
 * string and the rest run as SQL.
 */
export const MYSQL_SESSION_SQL =
  "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), " +
  "',NO_BACKSLASH_ESCAPES,', ',')), ''), 'STRICT_ALL_TABLES')";

/** SQLite's busy timeout for each connection the pool makes; openKnex shortens it once migrated. */
export interface SqliteBusyTimeout {
  ms: number;
}

/**
 * Parses `sqlite3://PATH` (relative or absolute, or `:memory:`), `postgres://...` and `mysql://...`.
 * A server's connections are bounded by `timeoutMs` (connecting, and waiting for one from the
 * pool); TCP keep-alive finds idle ones whose server went away. A SQLite connection gets
 * `sqliteBusy`'s timeout as it stands when the pool makes it.
 */
export function knexConfigFor(
  url: string, timeoutMs = DEFAULT_DB_TIMEOUT_MS, sqliteBusy: SqliteBusyTimeout = { ms: SQLITE_START_BUSY_MS },
): Knex.Config {
  const at = url.indexOf('://');
  if (at <= 0) throw new DbUrlError(`FN_DB_URL "${redactDbUrl(url)}" is not a URL (use ${SCHEMES})`);
  const scheme = url.slice(0, at);
  switch (scheme) {
    case 'sqlite3':
    case 'sqlite': {
      const rest = url.slice(scheme.length + 3).split('?')[0] ?? '';
      if (rest === '') throw new DbUrlError(`FN_DB_URL "${redactDbUrl(url)}" names no SQLite file`);
      const filename = rest === ':memory:' ? rest : resolve(rest);
      return {
        client: 'better-sqlite3',
        connection: { filename },
        useNullAsDefault: true,
        pool: {
          // The busy timeout rides out a second process's lock (synchronously, so past start-up
          // only briefly: store/sqlite-busy.ts). WAL is the file's, set by openKnex once it accepts it.
          afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, c: unknown) => void) => {
            conn.pragma(`busy_timeout = ${sqliteBusy.ms}`);
            conn.pragma('foreign_keys = ON');
            conn.pragma('synchronous = NORMAL');
            done(null, conn);
          },
        },
      };
    }
    case 'postgres':
    case 'postgresql':
      return {
        client: 'pg',
        connection: { connectionString: url, connectionTimeoutMillis: timeoutMs, keepAlive: true },
        acquireConnectionTimeout: timeoutMs,
        pool: { min: 0, max: 10 },
      };
    case 'mysql':
      return {
        client: 'mysql2',
        // Timestamps are stored as RFC 3339 text; UTC here too keeps any date mysql2 converts in UTC.
        connection: { ...parseMysqlUrl(url), charset: 'utf8mb4', timezone: 'Z', connectTimeout: timeoutMs, enableKeepAlive: true },
        acquireConnectionTimeout: timeoutMs,
        pool: {
          min: 0,
          max: 10,
          afterCreate: (conn: MysqlPoolConnection, done: (err: Error | null, c: unknown) => void) => {
            conn.query(MYSQL_SESSION_SQL, (err) => done(err, conn));
          },
        },
      };
    default:
      throw new DbUrlError(`FN_DB_URL "${redactDbUrl(url)}": unsupported scheme "${scheme}" (use ${SCHEMES})`);
  }
}

export interface OpenOptions {
  /** KILN_DB_TIMEOUT_MSECS: the longest wait on PostgreSQL or MySQL, for a connection or a statement. */
  timeoutMs?: number;
  /** Where knex's own messages go (a lost connection, say); by default its console lines. */
  log?: DbLogger;
}

/** The part of the server's logger (pino) knex's messages need. */
export interface DbLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * knex's logger functions over the server's: its messages become JSON lines, at their level.
 * While `opening`, its warnings (a failed connection, with the driver's stack) are debug: the
 * start's own failure says it, naming FN_DB_URL, and a warn line before it said it again unnamed.
 */
function knexLog(log: DbLogger, opening: () => boolean): NonNullable<Knex.Config['log']> {
  const fields = (m: unknown): object => (m instanceof Error ? { err: m } : { detail: m });
  return {
    warn: (m: unknown) => (opening() ? log.debug(fields(m), 'database client') : log.warn(fields(m), 'database client')),
    error: (m: unknown) => log.error(fields(m), 'database client'),
    deprecate: (m: unknown) => log.warn(fields(m), 'database client: deprecated'),
    debug: (m: unknown) => log.debug(fields(m), 'database client'),
  };
}

/** Where a server database is, for a message (no credentials). */
function serverOf(url: string): string {
  try {
    if (url.startsWith('mysql://')) {
      const c = parseMysqlUrl(url);
      return c.socketPath ?? `${c.host}:${c.port}`;
    }
    return new URL(url).host;
  } catch {
    return 'FN_DB_URL';
  }
}

/**
 * Opens the database and runs pending migrations (idempotent). On PostgreSQL and MySQL every
 * connection is bounded by `timeoutMs`, and once migrated every statement too: a migration's
 * statement may take long on a large table, and is not cut off (MySQL commits DDL as it goes).
 */
export async function openKnex(url: string, { timeoutMs = DEFAULT_DB_TIMEOUT_MS, log }: OpenOptions = {}): Promise<Knex> {
  const sqliteBusy: SqliteBusyTimeout = { ms: SQLITE_START_BUSY_MS };
  let opening = true;
  const config = { ...knexConfigFor(url, timeoutMs, sqliteBusy), ...(log && { log: knexLog(log, () => opening) }) };
  const conn = config.connection as { filename?: string } | string;
  const exposed = typeof conn === 'object' && conn.filename && conn.filename !== ':memory:' ? prepareSqliteFile(conn.filename) : undefined;
  const knex = knexFactory(config);
  const warn = (fields: object, message: string): void => {
    if (log) log.warn(fields, message);
    else knex.client.logger.warn?.(message);
  };
  if (exposed !== undefined) warn({}, exposed);
  // Each step of start-up that waits long is named: a lock another session holds on knex's
  // tables, or a database that stopped answering, held a start silently (a review).
  const step = <T>(what: string, work: () => Promise<T>): Promise<T> => noticedStep(work, () => warn(
    { step: what, waited_ms: STEP_NOTICE_MS },
    `start-up has waited ${STEP_NOTICE_MS / 1000} s on the database at ${serverOf(url)} ${what}; still waiting (is a table locked by another session, or the database not answering?)`,
  ));
  try {
    // An Fn server's database is adopted in place of the first migration; see fn-database.ts.
    // The lock orders nodes starting together (migration-lock.ts).
    // knex refuses a database with migrations it was not given ("the migration directory is
    // corrupt"); one a newer node ran must not stop an older node during a rolling upgrade. The
    // check off, knex still runs this node's pending migrations, and skips those it does not know.
    await withMigrationLock(knex, async (held) => {
      const migrationSource = await step("inspecting its tables (Kiln's, or an Fn server's to adopt)", () => migrationSourceFor(knex));
      // WAL lets readers run beside a writer. It is stored in the file, so it is set only on a
      // database Kiln accepts: a refused one is left byte for byte as it was.
      if (config.client === 'better-sqlite3') await withSqliteConnection(knex, (conn) => conn.pragma('journal_mode = WAL'));
      // knex's own lock is a row set for the run; on MySQL a start killed mid-migration leaves it
      // set (DDL commits it), refusing every later start. Ours is held, so no one else migrates.
      // Freed only once the database is accepted: a refused one stays as it was.
      // Nothing is written when nothing is to be done (the lock free, every migration run), so a
      // node starts on a read-only database (a hot standby, a failover's old primary).
      const migrateConfig = { migrationSource, disableMigrationsListValidation: true };
      const [pending, lockSet] = await step('reading knex_migrations and knex_migrations_lock', async () => {
        const [, todo] = (await knex.migrate.list(migrateConfig)) as [unknown[], unknown[]];
        return [todo, await knexLockSet(knex)] as const;
      });
      // A shared lock (SQLite's sidecar on a full disk) keeps others from migrating, not this start: it may only read.
      if (!held.exclusive && (lockSet || pending.length > 0)) throw cannotMigrate(held, pending.length);
      if (lockSet) await step("freeing knex's lock row in knex_migrations_lock", () => knex.migrate.forceFreeMigrationsLock());
      if (pending.length > 0) {
        await step(`running ${pending.length} migration(s), whose statements are not cut off`, () => knex.migrate.latest(migrateConfig));
      }
    }, {
      onWait: (lock, seconds) => warn(
        { lock, wait_seconds: seconds },
        `waiting for another Kiln start to finish migrating this database (it holds the ${lock}); giving up after ${seconds} s`,
      ),
    });
    const newer = unknownMigrations(await appliedMigrations(knex), migrations.map((m) => m.name));
    if (newer.length > 0) {
      const message = newerDatabaseMessage(newer);
      if (log) log.warn({ migrations: newer }, message);
      else knex.client.logger.warn?.(message);
    }
    if (config.client === 'better-sqlite3') await shortenBusyTimeout(knex, sqliteBusy);
  } catch (err) {
    await knex.destroy();
    if (!isTimeout(err)) throw err;
    throw new DatabaseTimeoutError(timeoutMs, `the database at ${serverOf(url)} did not answer within ${timeoutMs} ms (KILN_DB_TIMEOUT_MSECS)`, { cause: err });
  }
  opening = false;
  if (config.client !== 'better-sqlite3') {
    let told = false;
    boundStatements(knex, timeoutMs, (err) => {
      if (told) return;
      told = true;
      warn({ error: dbErrorForLog(err) }, "the database refused the session's own statement and lock timeouts: only KILN_DB_TIMEOUT_MSECS bounds statements, and a timed-out one may go on running there");
    });
  }
  return knex;
}

/** Why a start that could not take the migration lock exclusively stops, when it has something to write. */
function cannotMigrate(held: Extract<HeldLock, { exclusive: false }>, pending: number): Error {
  const work = pending > 0 ? `${pending} migration(s) to run` : "knex's lock row in knex_migrations_lock to free";
  return new Error(`this start has ${work}, but the migration lock ${held.lock} cannot be written (${held.reason.message})`, { cause: held.reason });
}

/**
 * Whether knex's lock table is other than its one free row (knex.migrate.list has made it): set
 * by a start killed mid-migration, or with two rows (two first starts made it together).
 */
async function knexLockSet(knex: Knex): Promise<boolean> {
  const rows = (await knex('knex_migrations_lock').select('is_locked')) as { is_locked: unknown }[];
  return rows.length !== 1 || Number(rows[0]?.is_locked) !== 0;
}

/**
 * Past migrations SQLite waits out a lock only briefly on the event loop; SqlStore retries a
 * write that still finds it locked, asynchronously. The pool's one connection gets the short
 * timeout now, and any the pool makes later (it may replace it) from afterCreate.
 */
async function shortenBusyTimeout(knex: Knex, sqliteBusy: SqliteBusyTimeout): Promise<void> {
  sqliteBusy.ms = SQLITE_BUSY_MS;
  await withSqliteConnection(knex, (conn) => conn.pragma(`busy_timeout = ${SQLITE_BUSY_MS}`));
}
