// What a driver's error means, for the errors the Store turns into typed ones (store/errors.ts).
// Pure functions over the error objects better-sqlite3, pg, mysql2 and knex throw.
import { dbErrorForLog } from './db-log.js';
import { DatabaseConnectionLostError, DatabaseFullError, DatabaseTimeoutError, DatabaseUnavailableError } from './errors.js';

/** SQLite's, PostgreSQL's and MySQL's unique-constraint errors. */
export function isUniqueViolation(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
    || code === 'ER_DUP_ENTRY' || errno === 1062;
}

/**
 * A row written naming a parent row that is not there (a fn's app, a trigger's app or fn):
 * PostgreSQL's 23503, SQLite's SQLITE_CONSTRAINT_FOREIGNKEY, MySQL's 1452 (1216 before 5.1).
 * The API checks the parent first; this is the parent deleted between that check and the write.
 */
export function isForeignKeyViolation(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
    || code === 'ER_NO_REFERENCED_ROW_2' || code === 'ER_NO_REFERENCED_ROW' || errno === 1452 || errno === 1216;
}

/** A value longer than its column holds, as far as the error says. */
export interface TooLongValue {
  /** The column, when the error names it (MySQL does; PostgreSQL does not). */
  column?: string;
  /** The column's length, when the error gives it (PostgreSQL's message does). */
  maxLength?: number;
  /** The unique index whose row the values outgrew (PostgreSQL's b-tree row limit), when named. */
  index?: string;
}

/**
 * A value too long for its column, else undefined:
 * - MySQL and MariaDB (strict sessions): ER_DATA_TOO_LONG, 1406, "Data too long for column 'x' at row 1";
 * - PostgreSQL: SQLSTATE 22001 (string_data_right_truncation), "value too long for type character
 *   varying(256)": the error's column, table and constraint fields are empty, so only the length is known;
 * - PostgreSQL: SQLSTATE 54000, a unique index's row over the b-tree limit (about 2.7 KB);
 * - SQLite never: it stores any length in any column.
 */
export function tooLongValue(err: unknown): TooLongValue | undefined {
  const { code, errno, sqlMessage, message } = (err ?? {}) as {
    code?: unknown; errno?: unknown; sqlMessage?: unknown; message?: unknown;
  };
  if (code === 'ER_DATA_TOO_LONG' || errno === 1406) {
    const column = /column '([^']*)'/.exec(String(sqlMessage))?.[1];
    return column === undefined ? {} : { column };
  }
  // mysql2's `code` is the symbolic name (its SQLSTATE is `sqlState`), so '22001' here is pg's.
  if (code === '22001') {
    const length = /\((\d+)\)\s*$/.exec(String(message))?.[1];
    return length === undefined ? {} : { maxLength: Number(length) };
  }
  // 54000 (program_limit_exceeded), "index row size 6048 exceeds btree version 4 maximum 2704
  // for index "x"": an unbounded text column in a unique index (a trigger's source).
  if (code === '54000' && /index row size/i.test(String(message))) {
    const index = /for index "([^"]+)"/.exec(String(message))?.[1];
    return index === undefined ? {} : { index };
  }
  return undefined;
}

/**
 * The column of a value with characters its column's character set cannot hold, else undefined:
 * MySQL's 1366 (ER_TRUNCATED_WRONG_VALUE_FOR_FIELD), "Incorrect string value: '\\xF0\\x9F...' for
 * column `db`.`fns`.`image` at row 1" (MySQL 8 quotes it so, MariaDB as 'image'). Kiln's own
 * tables are utf8mb4; an Fn database made in latin1 keeps latin1 columns. Null: no column named.
 */
export function unencodableColumn(err: unknown): string | null | undefined {
  const { code, errno, sqlMessage } = (err ?? {}) as { code?: unknown; errno?: unknown; sqlMessage?: unknown };
  if (code !== 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD' && errno !== 1366) return undefined;
  const m = /for column (?:`[^`]*`\.)*[`']([^`']*)[`']/.exec(String(sqlMessage));
  return m?.[1] ?? null;
}

/**
 * A wait on the database that ran out before it answered: knex's pool (KnexTimeoutError, a
 * connection not had within acquireConnectionTimeout), pg's connectionTimeoutMillis (a plain
 * Error, "timeout expired"), mysql2's connectTimeout and the OS's connect timeout (ETIMEDOUT).
 */
export function isTimeout(err: unknown): boolean {
  const { name, code, message } = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  return name === 'KnexTimeoutError' || code === 'ETIMEDOUT' || (code === undefined && message === 'timeout expired');
}

/**
 * Codes of a database that could not be reached, or is shutting down: nothing about what was
 * written. Not a connection reset or lost mid-statement: MariaDB drops the connection of a
 * statement over max_allowed_packet, which is one row's fault.
 */
const UNREACHABLE: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', // PostgreSQL shutting down, or not accepting connections yet
  '53300', // PostgreSQL: too many connections
  'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', // MySQL: too many connections, shutting down
  // Read-only (a hot standby, a failover's old primary): no write will do until it is writable
  // again, so calls are held and written then, and a REST write is a 503, not a 500.
  '25006', // PostgreSQL: read_only_sql_transaction
  'ER_OPTION_PREVENTS_STATEMENT', // MySQL/MariaDB: --read-only
]);

/** A driver's error saying the database could not be reached or would not serve (UNREACHABLE). */
export function isUnreachable(err: unknown): boolean {
  const { code } = (err ?? {}) as { code?: unknown };
  return typeof code === 'string' && UNREACHABLE.has(code);
}

/**
 * Codes of a database whose storage is full: any write fails until space is freed, and then the
 * same write works. PostgreSQL's 53100 (disk_full); SQLite's SQLITE_FULL (the disk, or
 * max_page_count); MySQL's and MariaDB's ER_RECORD_FILE_FULL (1114, "The table is full": its
 * tablespace cannot grow) and ER_DISK_FULL (1021). Not PostgreSQL's 53200 (out_of_memory): one
 * statement's own size may cause it, and held calls would then wait behind that one for ever.
 */
const FULL: ReadonlySet<string> = new Set(['53100', 'SQLITE_FULL', 'ER_RECORD_FILE_FULL', 'ER_DISK_FULL']);

/** A driver's error (or Kiln's DatabaseFullError) saying the database's storage is full (FULL). */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DatabaseFullError) return true;
  const { code } = (err ?? {}) as { code?: unknown };
  return typeof code === 'string' && FULL.has(code);
}

/** Codes of a connection that went (reset, or closed by the server) under a statement. */
const LOST: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
/** pg's and mysql2's words for a connection that went, which they give without a code. */
const LOST_MESSAGE = /^(?:Connection terminated(?: unexpectedly)?|Client was closed and is not queryable|Can't add new command when connection is in closed state)$/;

/**
 * A connection the database closed or lost: a pooled one whose server stopped (the first
 * requests after a restart meet those before the pool sees them go), or one cut mid-statement.
 * Not isUnavailable's: MariaDB also drops the connection of one statement over
 * max_allowed_packet, which writing row by row gets past.
 */
export function isConnectionLost(err: unknown): boolean {
  const { code } = (err ?? {}) as { code?: unknown };
  // The driver's words, after the statement knex puts before them.
  return (typeof code === 'string' && LOST.has(code)) || (code === undefined && LOST_MESSAGE.test(dbErrorForLog(err).message));
}

/**
 * The database did not answer in time (Kiln's own bound, DatabaseTimeoutError, or a driver's),
 * could not be reached or its storage is full: writing the same rows again one by one would wait
 * or fail as long again, row after row.
 */
export function isUnavailable(err: unknown): boolean {
  // Kiln's typed error says what its driver's error says (a lost connection is not unavailable here).
  if (err instanceof DatabaseUnavailableError) return isUnavailable(err.cause);
  return err instanceof DatabaseTimeoutError || isTimeout(err) || isUnreachable(err) || isDiskFull(err);
}

/**
 * A driver's error typed for the API's answer (api/errors.ts): a full database's as
 * DatabaseFullError, one that cannot be reached or will not serve as DatabaseUnavailableError,
 * one that closed the connection as DatabaseConnectionLostError (503s all); anything else as it
 * is. The message is the driver's, without any statement knex wrote into it.
 */
export function typedDbError(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError || err instanceof DatabaseTimeoutError) return err;
  if (isDiskFull(err)) return new DatabaseFullError(`the database is full: ${dbErrorForLog(err).message}`, { cause: err });
  if (isUnreachable(err)) return new DatabaseUnavailableError(`the database is unavailable: ${dbErrorForLog(err).message}`, { cause: err });
  return isConnectionLost(err)
    ? new DatabaseConnectionLostError(`the database is unavailable: ${dbErrorForLog(err).message}`, { cause: err })
    : err;
}

/**
 * A failed write of calls or logs as the call recorder (agent/call-recorder.ts) reads it, by type
 * alone: DatabaseTimeoutError, or a DatabaseUnavailableError other than a lost connection, for a
 * database that did not answer, could not be reached or is full (isUnavailable: the calls are
 * held); DatabaseConnectionLostError for a connection lost under the write; anything else as it is.
 */
export function callWriteError(err: unknown): unknown {
  const typed = typedDbError(err);
  // A driver's own timeout (knex's pool, pg's connect, ETIMEDOUT) is not typed above.
  if (isUnavailable(err) && !(typed instanceof DatabaseUnavailableError) && !(typed instanceof DatabaseTimeoutError)) {
    return new DatabaseUnavailableError(`the database is unavailable: ${dbErrorForLog(err).message}`, { cause: err });
  }
  return typed;
}

/**
 * The database rolled the transaction back to break a deadlock or a serialization conflict:
 * MySQL's and MariaDB's ER_LOCK_DEADLOCK (1213), PostgreSQL's 40P01 (deadlock_detected) and
 * 40001 (serialization_failure). Its whole transaction may run again. (mysql2's `code` is the
 * symbolic name, so the SQLSTATEs here are pg's.)
 */
export function isDeadlock(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  return code === 'ER_LOCK_DEADLOCK' || errno === 1213 || code === '40P01' || code === '40001';
}

/**
 * SQLite's answer that another connection holds a lock it needs: SQLITE_BUSY and its extended
 * codes (better-sqlite3 reports those): _SNAPSHOT (a read transaction's snapshot went stale before
 * it could write), _RECOVERY (another connection is recovering the WAL), _TIMEOUT. Each clears
 * by rolling back and running the whole write or transaction again, which is how Kiln retries.
 * Not SQLITE_LOCKED: a conflict within one connection, which waiting does not clear.
 */
export function isSqliteBusy(err: unknown): boolean {
  const { code } = (err ?? {}) as { code?: unknown };
  return code === 'SQLITE_BUSY' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
}

/**
 * The column that outgrew a unique index, from the values written: the longest string among the
 * columns the index's name lists (Kiln's indexes are named `<table>_<columns>_unique`).
 */
export function longestIndexed(row: Record<string, unknown>, index: string): string | undefined {
  let found: { column: string; length: number } | undefined;
  for (const [column, value] of Object.entries(row)) {
    if (typeof value !== 'string' || !index.includes(column)) continue;
    if (!found || value.length > found.length) found = { column, length: value.length };
  }
  return found?.column;
}
