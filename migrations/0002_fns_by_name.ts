// Fns looked up by name alone, in any app: the Lambda Invoke API names a fn without its app
// (api/invoke-lookup.ts byFnName). Fns' only other keys start with app_id, so such a lookup
// scanned the table. Ordered as the lookup pages, by (name, id).
import type { Knex } from 'knex';

export const name = '0002_fns_by_name';

export const FNS_BY_NAME_INDEX = 'fns_name_id_index';

/** Index lookups by dialect: (sql, bindings) whose rows are non-empty when the index exists. */
const INDEX_QUERY: Record<string, string> = {
  mysql2: 'SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1',
  pg: 'SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname = ? LIMIT 1',
  'better-sqlite3': "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ? LIMIT 1",
};

/**
 * MySQL commits DDL as it runs, and finishes an ALTER whose client was killed: a start killed
 * here leaves the index made and 0002 not recorded, and the next start must not fail on it.
 */
async function indexExists(knex: Knex): Promise<boolean> {
  const sql = INDEX_QUERY[String(knex.client.config.client)];
  if (!sql) return false;
  const result: unknown = await knex.raw(sql, ['fns', FNS_BY_NAME_INDEX]);
  // mysql2: [rows, fields]; pg: {rows}; better-sqlite3: rows.
  const rows = Array.isArray(result) ? (Array.isArray(result[0]) ? result[0] : result) : (result as { rows: unknown[] }).rows;
  return rows.length > 0;
}

export async function up(knex: Knex): Promise<void> {
  if (await indexExists(knex)) return;
  await knex.schema.alterTable('fns', (t) => {
    t.index(['name', 'id'], FNS_BY_NAME_INDEX);
  });
}
