// Database errors as logged: the driver's message and codes, without the statement and values
// knex writes into them (a write's values are a fn's config, with its secrets). Apart from
// db-errors.ts so the agent can log the store's errors without its driver-code decoding.
import { DatabaseTimeoutError, DatabaseUnavailableError } from './errors.js';

/** A statement knex put before a driver's message (`SQL - message`): how such a message begins. */
const KNEX_STATEMENT = /^\s*(?:insert|update|delete|select|with|create|alter|drop|set|begin|commit|rollback|savepoint|release|lock|pragma|replace)\b/i;
/** A driver's own messages are short; one that echoes data is cut here. */
const MAX_LOGGED_MESSAGE = 1000;

/** An error as logged: the driver's message, type and codes. */
export interface LoggedDbError {
  type?: string;
  message: string;
  code?: string | number;
  errno?: number;
}

/**
 * A database error for a log line, without the statement knex writes into its message and stack
 * (MySQL's with every bound value: a batch of call logs made each line tens of MB): mysql2's own
 * message (sqlMessage), else what follows knex's `SQL - `; no stack, which repeats the message.
 * Logged under `error`, not `err`: pino's error serializer would add an empty stack and type.
 */
export function dbErrorForLog(err: unknown): LoggedDbError {
  if (typeof err !== 'object' || err === null) return { message: String(err) };
  const { message, sqlMessage, code, errno } = err as { message?: unknown; sqlMessage?: unknown; code?: unknown; errno?: unknown };
  let text = typeof sqlMessage === 'string' ? sqlMessage : String(message ?? '');
  if (typeof sqlMessage !== 'string' && KNEX_STATEMENT.test(text)) {
    // The driver's message is the last part: the statement's values may hold ' - ' too.
    const at = text.lastIndexOf(' - ');
    text = at < 0 ? '' : text.slice(at + 3);
  }
  if (text.length > MAX_LOGGED_MESSAGE) text = `${text.slice(0, MAX_LOGGED_MESSAGE)}…`;
  return {
    ...(err instanceof Error && { type: err.constructor.name }),
    message: text,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(typeof errno === 'number' && { errno }),
  };
}

/**
 * Whether `err` came from a database driver (through knex): its message or fields may hold the
 * statement and its values (a fn's config, with its secrets), so it is logged as dbErrorForLog.
 */
export function isDatabaseError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { message?: unknown; sqlMessage?: unknown; sql?: unknown; code?: unknown; severity?: unknown; routine?: unknown };
  if (typeof e.sqlMessage === 'string' || typeof e.sql === 'string') return true; // mysql2
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) return true; // better-sqlite3
  if (typeof e.severity === 'string' && typeof e.routine === 'string') return true; // pg
  return typeof e.message === 'string' && KNEX_STATEMENT.test(e.message) && e.message.includes(' - ');
}

/**
 * An error's fields for a log line: a database's without its statement and values (knex writes
 * both into the message and the stack, and a write's values are a fn's config), anything else
 * whole. A timeout's cause is the driver's error, so it goes the same way.
 */
export function loggedError(err: unknown): { err: unknown } | { error: LoggedDbError } {
  return err instanceof DatabaseTimeoutError || err instanceof DatabaseUnavailableError || isDatabaseError(err)
    ? { error: dbErrorForLog(err) } : { err };
}
