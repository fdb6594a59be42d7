// Turns FN_DB_URL into a knex instance and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from '../migrations/index.js';

export class DbUrlError extends Error {}

/** Parses `sqlite3://PATH` (relative or absolute, or `:memory:`) and `postgres://...`. */
export function knexConfigFor(url: string): Knex.Config {
  const at = url.indexOf('://');
  if (at <= 0) throw new DbUrlError(`FN_DB_URL "${url}" is not a URL (use sqlite3://PATH or postgres://...)`);
  const scheme = url.slice(0, at);
  switch (scheme) {
    case 'sqlite3':
    case 'sqlite': {
      const rest = url.slice(scheme.length + 3).split('?')[0] ?? '';
      if (rest === '') throw new DbUrlError(`FN_DB_URL "${url}" names no SQLite file`);
      const filename = rest === ':memory:' ? rest : resolve(rest);
      return {
        client: 'better-sqlite3',
        connection: { filename },
        useNullAsDefault: true,
        pool: {
          // WAL lets readers run beside a writer; the busy timeout rides out a second process's lock.
          afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, c: unknown) => void) => {
            conn.pragma('journal_mode = WAL');
            conn.pragma('busy_timeout = 5000');
            conn.pragma('foreign_keys = ON');
            conn.pragma('synchronous = NORMAL');
            done(null, conn);
          },
        },
      };
    }
    case 'postgres':
    case 'postgresql':
      return { client: 'pg', connection: url, pool: { min: 0, max: 10 } };
    default:
      throw new DbUrlError(`FN_DB_URL "${url}": unsupported scheme "${scheme}" (use sqlite3:// or postgres://)`);
  }
}

/** Opens the database and runs pending migrations (idempotent). */
export async function openKnex(url: string): Promise<Knex> {
  const config = knexConfigFor(url);
  const conn = config.connection as { filename?: string } | string;
  if (typeof conn === 'object' && conn.filename && conn.filename !== ':memory:') {
    mkdirSync(dirname(conn.filename), { recursive: true });
  }
  const knex = knexFactory(config);
  try {
    await knex.migrate.latest({ migrationSource });
  } catch (err) {
    await knex.destroy();
    throw err;
  }
  return knex;
}
