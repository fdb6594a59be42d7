// The ordered list of migrations. Listed statically (not read from a folder) so the compiled
// ESM build needs no file-system discovery; add each new migration at the end.
// Every migration after 0001 also runs on adopted Fn databases (store/fn-database.ts), whose
// apps, fns and triggers have Fn's column types and extra columns and no foreign keys.
//
// The rule: migrations only add. New tables, new columns that are nullable or have a default,
// new indexes; never a drop, a rename, a narrower type, or a constraint older code's writes could
// break. During a rolling upgrade a node not yet upgraded starts on a database a newer node
// migrated (store/open.ts skips the migrations it does not know, with a warning) and keeps
// reading and writing it as before; a migration that takes something away breaks that node.
import type { Knex } from 'knex';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_fns_by_name.js';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
}

export const migrations: readonly Migration[] = [m0001, m0002];

/** A knex migration source over a list; forward-only (no `down`). */
export function sourceOf(list: readonly Migration[]): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...list],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({ up: m.up, down: async () => { throw new Error(`${m.name}: migrations are forward-only`); } }),
  };
}

/** Kiln's migrations as knex runs them. */
export const migrationSource: Knex.MigrationSource<Migration> = sourceOf(migrations);
