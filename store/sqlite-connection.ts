// SQLite's one pooled better-sqlite3 connection, borrowed from knex for work knex's query layer
// does not do: prepared batches (sqlite-call-writer.ts) and pragmas (open.ts).
import type { Database } from 'better-sqlite3';
import type { Knex } from 'knex';

/** knex's client exposes its pool; the SQLite pool holds one better-sqlite3 Database. */
interface PooledClient {
  acquireConnection(): Promise<Database>;
  releaseConnection(conn: Database): Promise<unknown>;
}

/** Runs `use` on the pooled connection, given back to the pool whatever happens. */
export async function withSqliteConnection<T>(knex: Knex, use: (db: Database) => T): Promise<T> {
  const client = knex.client as unknown as PooledClient;
  const conn = await client.acquireConnection();
  try {
    return use(conn);
  } finally {
    await client.releaseConnection(conn);
  }
}
