// Migrations a database has that this Kiln does not know: a newer node ran them (a rolling
// upgrade). Kiln's migrations only add (migrations/index.ts), so this node runs on such a schema.
import type { Knex } from 'knex';

/** The names in `applied` that are not in `known`, in the order they were applied. */
export function unknownMigrations(applied: readonly string[], known: readonly string[]): string[] {
  const ours = new Set(known);
  return applied.filter((name) => !ours.has(name));
}

/** What a node says when it starts on a database a newer Kiln migrated. */
export function newerDatabaseMessage(unknown: readonly string[]): string {
  return `this database was migrated by a newer Kiln: ${unknown.join(', ')}; Kiln's migrations only add, so this node runs on it`;
}

/** The names of the migrations recorded in the database (knex's table), oldest first. */
export async function appliedMigrations(knex: Knex): Promise<string[]> {
  const rows = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
  return rows.map((r) => r.name);
}
