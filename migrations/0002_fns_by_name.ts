// Fns looked up by name alone, in any app: the Lambda Invoke API names a fn without its app
// (api/invoke-lookup.ts byFnName). Fns' only other keys start with app_id, so such a lookup
// scanned the table. Ordered as the lookup pages, by (name, id).
import type { Knex } from 'knex';

export const name = '0002_fns_by_name';

export const FNS_BY_NAME_INDEX = 'fns_name_id_index';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('fns', (t) => {
    t.index(['name', 'id'], FNS_BY_NAME_INDEX);
  });
}
