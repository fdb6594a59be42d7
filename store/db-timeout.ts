// Bounds every wait on PostgreSQL or MySQL: a server that stops answering (SIGSTOPped, cut off
// by the network) leaves its TCP connections open, and without a bound a request waits on it
// for as long as the kernel keeps them (pg and mysql2 have no statement timeout by default).
// Connections are bounded by the drivers' own connect timeouts and knex's acquire timeout
// (store/open.ts); statements here, on every path (queries, a transaction's BEGIN and COMMIT).
// Not pg's query_timeout: it gives up on the statement but leaves the connection in the pool,
// still busy with it, for the next request to wait on; and mysql2 has no such default at all.
import type { Knex } from 'knex';
import { isTimeout } from './db-errors.js';
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
 * `work`, or a DatabaseTimeoutError once `ms` have passed without an answer; the connection is
 * then closed (its statement may still be queued on it) and marked so the pool never reuses it.
 */
function answeredWithin<T>(work: Promise<T>, ms: number, conn: Connection): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.__knex__disposed = 'the database did not answer in time';
      if (typeof conn.destroy === 'function') conn.destroy();
      else conn.connection?.stream?.destroy();
      reject(new DatabaseTimeoutError(ms));
    }, ms);
    // Also settles (and so handles) the statement's own late failure, once its socket is gone.
    work.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}

/**
 * Puts `ms` on every statement `knex` runs and turns its pool's timeouts into
 * DatabaseTimeoutError. knex makes a transaction's client from this client's class
 * (Object.create(client.constructor.prototype)), so the bound goes on a class of this knex's own,
 * put under the instance, rather than on the instance, where transactions would not see it.
 */
export function boundStatements(knex: Knex, ms: number): void {
  const client = knex.client as KnexClient;
  const Base = client.constructor as ClientClass;
  class Bounded extends Base {
    override async acquireConnection(): Promise<Connection> {
      try {
        return await super.acquireConnection();
      } catch (err) {
        throw isTimeout(err) ? new DatabaseTimeoutError(ms, undefined, { cause: err }) : err;
      }
    }

    override query(conn: Connection, obj: unknown): Promise<unknown> {
      return answeredWithin(super.query(conn, obj), ms, conn);
    }
  }
  Object.setPrototypeOf(client, Bounded.prototype);
}
