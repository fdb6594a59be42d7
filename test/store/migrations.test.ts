// Migrations run at start-up on every backend and are idempotent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openKnex } from '../../store/open.js';
import { migrations } from '../../migrations/index.js';
import { backends } from '../helpers/db.js';

for (const backend of backends) {
  describe(`migrations on ${backend.name}`, () => {
    test('create every table, record each migration once, and run again as a no-op', async () => {
      const db = await backend.create();
      try {
        for (let round = 0; round < 3; round++) {
          const knex = await openKnex(db.url);
          try {
            for (const table of ['apps', 'fns', 'triggers', 'calls', 'call_logs']) {
              assert.ok(await knex.schema.hasTable(table), `${table} exists`);
            }
            const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
            assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
          } finally {
            await knex.destroy();
          }
        }
      } finally {
        await db.cleanup();
      }
    });
  });
}
