// The ordered list of migrations. Listed statically (not read from a folder) so the compiled
// ESM build needs no file-system discovery; add each new migration at the end.
import type { Knex } from 'knex';
import * as m0001 from './0001_initial.js';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
}

export const migrations: readonly Migration[] = [m0001];

/** A knex migration source over the static list; forward-only (no `down`). */
export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: m.up, down: async () => { throw new Error(`${m.name}: migrations are forward-only`); } }),
};
