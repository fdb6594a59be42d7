// Bounds every wait on PostgreSQL or MySQL: a server that stops answering (SIGSTOPped, cut off
// by the network) leaves its TCP connections open, and without a bound a request waits on it
// for as long as the kernel keeps them (pg and mysql2 have no statement timeout by default).
// Connections are bounded by the drivers' own connect timeouts and knex's acquire timeout
// (store/open.ts); statements here, on every path (queries, a transaction's BEGIN and COMMIT).
// Not pg's query_timeout: it gives up on the statement but leaves the connection in the pool,
// still busy with it, for the next request to wait on; and mysql2 has no such default at all.
import type { Knex } from 'knex';
import { isConnectionLost, isTimeout, isUnreachable, typedDbError } from './db-errors.js';
import { DatabaseTimeoutError } from './errors.js';

/** KILN_DB_TIMEOUT_MSECS's default: the longest wait on PostgreSQL or MySQL, for a connection or a statement. */
export const DEFAULT_DB_TIMEOUT_MS = 30_000;

/** A pooled connection, pg's Client or mysql2's Connection, as far as this needs it. */
interface Connection {
  /** knex's mark: the pool destroys such a connection rather than hand it out again. */
  __knex__disposed?: unknown;
  /** mysql2 */
  destroy?(): void;
  /** pg: its socket */
  connection?: { stream?: { destroy(): void } };
}

interface KnexClient {
  acquireConnection(): Promise<Connection>;
  query(conn: Connection, obj: unknown): Promise<unknown>;
}

// A constructor of any arguments (a class to extend must have one): knex's clients take a config.
type ClientClass = new (...args: any[]) => KnexClient;

/**
 * The timeout each connection closed by answeredWithin met. Whatever knex runs on it afterwards
 * fails with that same error: a transaction's ROLLBACK on the dead connection would otherwise
 * fail with the driver's own error ("Connection terminated"), which knex's Transaction puts in
 * place of the statement's, and the caller would get a 500 rather than the timeout's 503.
 */
const timedOut = new WeakMap<Connection, DatabaseTimeoutError>();

/**
 * `work`, or a DatabaseTimeoutError once `ms` have passed without an answer; the connection is
 * then closed (its statement may still be queued on it) and marked so the pool never reuses it.
 */
function answeredWithin<T>(work: Promise<T>, ms: number, conn: Connection): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new DatabaseTimeoutError(ms);
      timedOut.set(conn, err);
      conn.__knex__disposed = 'the database did not answer in time';
      if (typeof conn.destroy === 'function') conn.destroy();
      else conn.connection?.stream?.destroy();
      reject(err);
    }, ms);
    // Also settles (and so handles) the statement's own late failure, once its socket is gone.
    work.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}

/** PostgreSQL's largest statement_timeout (an int of milliseconds). */
const PG_MAX_MS = 2_147_483_647;

/** How much longer the server's own bounds are than Kiln's: Kiln's timer fires first and answers. */
const SERVER_MARGIN_MS = 1000;

/**
 * The statement that bounds a session's waits in the server itself, per knex client, for `ms`.
 * Kiln closing a connection does not stop its statement there: PostgreSQL goes on waiting on a
 * lock (it notices the socket gone only when it next writes to it), as does MySQL, up to its
 * innodb_lock_wait_timeout (50 s); and a transaction whose client was cut off by the network
 * keeps its row locks until TCP gives up (hours). 30 such requests used up PostgreSQL's
 * connections (a review). PostgreSQL: every statement, lock wait and idle transaction.
 * MySQL/MariaDB, in whole seconds: row and metadata lock waits, and on MariaDB (its /*M!
 * comment, which MySQL skips) every statement; MySQL's max_execution_time bounds only SELECTs.
 */
function serverBoundsSql(client: string, ms: number): string | undefined {
  // PostgreSQL's settings are int milliseconds: a KILN_DB_TIMEOUT_MSECS near the top of its range
  // plus the margin would be refused, and every statement with it.
  const serverMs = Math.min(ms + SERVER_MARGIN_MS, PG_MAX_MS);
  if (client === 'pg') {
    const settings = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'];
    return `SELECT ${settings.map((name) => `set_config('${name}', '${serverMs}', false)`).join(', ')}`;
  }
  if (client === 'mysql2') {
    const s = Math.ceil(serverMs / 1000);
    return `SET SESSION innodb_lock_wait_timeout = ${s}, SESSION lock_wait_timeout = ${s} /*M! , SESSION max_statement_time = ${s} */`;
  }
  return undefined;
}

/**
 * Puts `ms` on every statement `knex` runs and turns its pool's timeouts into
 * DatabaseTimeoutError; the server bounds each session's statements a little longer
 * (serverBoundsSql), set on each connection before its first statement from now on: those
 * made before (migrations, which are not cut off) included. knex makes a transaction's client from this client's class
 * (Object.create(client.constructor.prototype)), so the bound goes on a class of this knex's own,
 * put under the instance, rather than on the instance, where transactions would not see it.
 */
export function boundStatements(knex: Knex, ms: number, onRefused?: (err: unknown) => void): void {
  const client = knex.client as KnexClient;
  const Base = client.constructor as ClientClass;
  const sessionSql = serverBoundsSql(String((knex.client as Knex.Client).config.client), ms);
  const sessionBounded = new WeakSet<Connection>();
  class Bounded extends Base {
    override async acquireConnection(): Promise<Connection> {
      try {
        return await super.acquireConnection();
      } catch (err) {
        throw isTimeout(err) ? new DatabaseTimeoutError(ms, undefined, { cause: err }) : typedDbError(err);
      }
    }

    override async query(conn: Connection, obj: unknown): Promise<unknown> {
      const lost = timedOut.get(conn);
      if (lost) throw lost;
      try {
        if (sessionSql !== undefined && !sessionBounded.has(conn)) {
          try {
            await answeredWithin(super.query(conn, sessionSql), ms, conn);
          } catch (err) {
            // A server (or a pooling proxy) that refuses a setting: Kiln's own bound still holds,
            // and the statement goes on. A connection that failed is the statement's failure too.
            if (err instanceof DatabaseTimeoutError || isUnreachable(err) || isConnectionLost(err)) throw err;
            onRefused?.(err);
          }
          sessionBounded.add(conn);
        }
        return await answeredWithin(super.query(conn, obj), ms, conn);
      } catch (err) {
        throw typedDbError(err);
      }
    }
  }
  Object.setPrototypeOf(client, Bounded.prototype);
}
