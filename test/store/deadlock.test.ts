// A write the server rolls back to break a deadlock runs again rather than failing: on MySQL/MariaDB
// and PostgreSQL, made deterministic with a second session that takes the rows the store's write
// needs in the other order (as a fn's delete does to a trigger moved off it, through ON DELETE CASCADE).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import knexFactory from 'knex';
import { idFactory } from '../../api/ids.js';
import { knexConfigFor, openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { App, Fn, Trigger } from '../../store/types.js';
import { backends } from '../helpers/db.js';

const newId = idFactory();
const TS = '2024-02-29T23:59:59.999Z';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const app = (name: string): App => ({ id: newId(), name, config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: TS, updated_at: TS });
const fnOf = (a: App, name: string): Fn => ({
  id: newId(), name, app_id: a.id, image: 'img', memory: 128, timeout: 30, idle_timeout: 30, format: 'http-stream',
  config: {}, annotations: {}, created_at: TS, updated_at: TS,
});

for (const backend of backends.filter((b) => b.name !== 'sqlite')) {
  describe(`deadlocks on ${backend.name}`, () => {
    test('a trigger moved to another fn, its transaction chosen as a deadlock\'s victim, is moved on its next run', async () => {
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      const other = knexFactory(knexConfigFor(db.url));
      try {
        const a = app('deadlock');
        const g = fnOf(a, 'g');
        const f1 = fnOf(a, 'f1');
        const t: Trigger = { id: newId(), name: 't', app_id: a.id, fn_id: g.id, type: 'http', source: '/t', annotations: {}, created_at: TS, updated_at: TS };
        await store.insertApp(a);
        await store.insertFn(g);
        await store.insertFn(f1);
        await store.insertTrigger(t);

        const trx = await other.transaction();
        try {
          // Rows changed make this transaction the heavier: InnoDB rolls back the lighter one, the store's.
          for (let i = 0; i < 20; i++) await trx('apps').insert({ ...app(`weight-${i}`), config: '{}', annotations: '{}' });
          // The fn the trigger moves to: the store's UPDATE checks its foreign key against this row, and waits.
          await trx('fns').where({ id: f1.id }).forUpdate().first();
          const moving = store.updateTrigger(t.id, (cur) => ({ ...cur, fn_id: f1.id }));
          await sleep(500);
          // The trigger row the store holds FOR UPDATE: a cycle, which the server breaks by rolling one back
          // (InnoDB at once, the lighter one; PostgreSQL the one that waited past deadlock_timeout first, the store's).
          await trx('triggers').where({ id: t.id }).forUpdate().first();
          await sleep(100);
          await trx.commit();
          const moved = await moving;
          assert.equal(moved.fn_id, f1.id);
          assert.equal((await store.getTrigger(t.id)).fn_id, f1.id);
        } finally {
          if (!trx.isCompleted()) await trx.rollback();
        }
      } finally {
        await other.destroy();
        await store.close();
        await db.cleanup();
      }
    });
  });
}
