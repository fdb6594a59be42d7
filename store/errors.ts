// Typed store failures; api/errors.ts maps them to HTTP in one place.

export type Entity = 'app' | 'fn' | 'trigger' | 'call' | 'log';

export class NotFoundError extends Error {
  constructor(readonly entity: Entity, message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(readonly entity: Entity, message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * A value its column cannot hold (too long for it, or with characters outside its character set:
 * PostgreSQL, MySQL; see SqlStore's unstorable): bad input, stored nowhere.
 */
export class UnstorableValueError extends Error {
  constructor(readonly entity: Entity, message: string) {
    super(message);
    this.name = 'UnstorableValueError';
  }
}

/**
 * PostgreSQL or MySQL did not answer in time (a connection, a statement; KILN_DB_TIMEOUT_MSECS):
 * the server is stopped, overloaded or cut off. Nothing is known of a write's fate.
 */
export class DatabaseTimeoutError extends Error {
  constructor(readonly timeoutMs: number, message = `the database did not answer within ${timeoutMs} ms`, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseTimeoutError';
  }
}

/**
 * PostgreSQL or MySQL could not be reached or would not serve (refused, shutting down or
 * starting up, out of connections): nothing was written, and trying again later may work.
 * The message, for the log, names the driver's reason (its host too); the answer names neither.
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * The connection went under a statement (reset, or closed by the server: a restart the pool had
 * not seen yet). A kind of unavailable database for the API (503), but a write it cut may have
 * committed, so the call recorder writes such a batch again row by row, a row already there kept.
 */
export class DatabaseConnectionLostError extends DatabaseUnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseConnectionLostError';
  }
}

/**
 * The database's storage is full (SQLite's SQLITE_FULL, PostgreSQL's 53100 disk_full, MySQL's
 * and MariaDB's 1114 table full and 1021 disk full): nothing was written, and the same write may
 * work once space is freed. A kind of unavailable database, so calls are held and written again
 * and a REST write gets a 503 to retry, as while it is read-only.
 */
export class DatabaseFullError extends DatabaseUnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseFullError';
  }
}

/**
 * The database answers but would refuse every write (a PostgreSQL hot standby, MySQL's
 * `read_only`), as GET /health finds it (SqlStore.ping): reads and invokes work, writes do not.
 * A kind of unavailable database, answered with a 503 to try again elsewhere or later.
 */
export class DatabaseReadOnlyError extends DatabaseUnavailableError {
  constructor(message = 'the database is read-only: it would refuse writes', options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseReadOnlyError';
  }
}

/**
 * A write's transaction was rolled back by the database each time it ran, as a deadlock's victim
 * (MySQL/MariaDB 1213, PostgreSQL 40P01) or a serialization failure (40001): another write took
 * the same rows in the other order. Nothing of it was written; it may be sent again at once.
 */
export class DatabaseConflictError extends Error {
  constructor(readonly attempts: number, options?: ErrorOptions) {
    super(`the write was rolled back as a deadlock's victim ${attempts} times`, options);
    this.name = 'DatabaseConflictError';
  }
}
