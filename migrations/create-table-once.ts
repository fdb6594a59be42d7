// Creating a table so that a start killed part-way through it is finished by the next start.
// MySQL commits each DDL statement on its own, and knex makes a table there as CREATE TABLE and
// then one ALTER TABLE per foreign key, unique and index: a start killed between them (an OOM
// kill, a crash) leaves the table without the rest and knex's record of the migration unwritten,
// so the next start runs the migration again. It finds the table and adds only what is missing,
// in knex's order, so the schema ends as a clean start's. (PostgreSQL and SQLite roll a failed
// migration back whole; the same code serves them.)
import type { Knex } from 'knex';

/** What each statement after CREATE TABLE adds, by name: knex's ALTER TABLE ... ADD, or CREATE INDEX. */
const PART = /^(?:alter table \S+ add (?:constraint|unique|index)|create (?:unique )?index) [`"]([^`"]+)[`"]/i;

/** Per knex client: rows when table :table has an index or constraint named :name. */
const PART_QUERY: Record<string, string> = {
  // A foreign key is a constraint with an index of its name, unless an index it could use was there.
  mysql2:
    'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table AND INDEX_NAME = :name ' +
    'UNION ALL SELECT 1 FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :table AND CONSTRAINT_NAME = :name',
  pg:
    'SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :table AND indexname = :name ' +
    'UNION ALL SELECT 1 FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace ' +
    'WHERE n.nspname = current_schema() AND r.relname = :table AND c.conname = :name',
  // Foreign keys are part of CREATE TABLE here; only indexes come after it.
  'better-sqlite3': "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = :table AND name = :name",
};

/** Rows of a raw select as each driver answers: mysql2 [rows, fields], pg {rows}, better-sqlite3 rows. */
function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result)) return Array.isArray(result[0]) ? (result[0] as unknown[]) : result;
  return (result as { rows: unknown[] }).rows;
}

async function partExists(knex: Knex, table: string, name: string): Promise<boolean> {
  const client = String(knex.client.config.client);
  const sql = PART_QUERY[client];
  if (!sql) throw new Error(`finishing table ${table}: not implemented for the "${client}" client`);
  return rowsOf(await knex.raw(sql, { table, name })).length > 0;
}

/**
 * knex.schema.createTable(table, build), or, when the table is already there (made by a start
 * killed before the migration was recorded), each of its later statements whose index or
 * constraint is missing. The caller has checked that an existing table has the columns `build` makes.
 */
export async function createTableOnce(knex: Knex, table: string, build: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  if (!(await knex.schema.hasTable(table))) {
    await knex.schema.createTable(table, build);
    return;
  }
  const [, ...parts] = knex.schema.createTable(table, build).toSQL();
  for (const part of parts) {
    const name = PART.exec(part.sql)?.[1];
    // An unforeseen statement is not guessed at: the start fails, naming it.
    if (name === undefined) throw new Error(`table ${table} exists, and its statement "${part.sql}" cannot be checked for`);
    if (!(await partExists(knex, table, name))) await knex.raw(part.sql, part.bindings);
  }
}
