// Migrations run at start-up on every backend and are idempotent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openKnex } from '../../store/open.js';
import { migrations } from '../../migrations/index.js';
import { backends } from '../helpers/db.js';
import { createFnDatabase } from '../helpers/fn-database.js';

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

    // Several nodes share a PostgreSQL or MySQL database and may start together; on SQLite,
    // two processes may open one file (three knex instances in one process race the same way).
    for (const kind of ['an empty', 'an Fn'] as const) {
      test(`nodes starting together on ${kind} database: every start succeeds, the schema is made once`, async () => {
        for (let round = 0; round < 4; round++) {
          const db = await backend.create();
          try {
            if (kind === 'an Fn') await createFnDatabase(db.url);
            const starts = await Promise.allSettled([openKnex(db.url), openKnex(db.url), openKnex(db.url)]);
            const opened = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
            try {
              assert.deepEqual(starts.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok')), ['ok', 'ok', 'ok'], `round ${round}`);
              const knex = opened[0]!;
              const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
              assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
              assert.equal(((await knex('knex_migrations_lock').select('*')) as unknown[]).length, 1);
            } finally {
              await Promise.all(opened.map((k) => k.destroy()));
            }
          } finally {
            await db.cleanup();
          }
        }
      });
    }
  });
}
