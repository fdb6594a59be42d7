// A fn or trigger written while its app or fn is being deleted: the API checks the parent, the
// delete lands, then the write hits the foreign key. Fn's datastore answers 404 App not found /
// Fn not found there; so must Kiln, not 500. Here the delete really races the request: a
// transaction holds it until the request's write waits on its lock (PostgreSQL and MySQL; the
// store's own mapping, on every backend, is in backend-parity.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { openKnex } from '../../store/open.js';
import { backends, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

/** Whether a statement of this test's database is waiting on a row lock another transaction holds. */
const LOCK_WAIT_SQL: Record<string, string> = {
  postgres: "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  // Without the PROCESS privilege a role sees its own threads: the server's write, blocked.
  mysql: "SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND (INFO LIKE 'insert into%' OR INFO LIKE 'update%')",
};

for (const backend of backends.filter((b) => b.name in LOCK_WAIT_SQL)) {
  describe(`a write racing its parent's delete, through the API on ${backend.name}`, () => {
    let db: TestDb;
    let srv: TestServer;
    let knex: Knex;
    const req = (method: string, path: string, body?: unknown) => call(srv.url, method, path, body);

    before(async () => {
      db = await backend.create();
      srv = await startServer(db.url);
      knex = await openKnex(db.url);
    });
    after(async () => {
      await knex?.destroy();
      await srv?.stop();
      await db?.cleanup();
    });

    const rows = (result: unknown): { n: unknown }[] =>
      (Array.isArray(result) ? result[0] : (result as { rows: unknown }).rows) as { n: unknown }[];

    async function waitForLockWait(): Promise<void> {
      for (const giveUp = Date.now() + 10_000; Date.now() < giveUp; await new Promise((r) => setTimeout(r, 10))) {
        if (Number(rows(await knex.raw(LOCK_WAIT_SQL[backend.name]!))[0]?.n) > 0) return;
      }
      throw new Error('the request never waited on the delete');
    }

    /**
     * `request` starts while a transaction has deleted `table`'s row `id` but not committed: the
     * API still sees the row, the write waits on the delete's lock, the delete commits under it.
     */
    async function racingDelete<T>(table: string, id: string, request: () => Promise<T>): Promise<T> {
      const trx = await knex.transaction();
      try {
        await trx(table).where({ id }).delete();
        const answer = request();
        await waitForLockWait();
        await trx.commit();
        return await answer;
      } finally {
        if (!trx.isCompleted()) await trx.rollback();
      }
    }

    test('POST /v2/fns while its app is deleted: 404 App not found', async () => {
      const a = (await req('POST', '/v2/apps', { name: 'racing-fn' })).body;
      const r = await racingDelete('apps', a.id, () => req('POST', '/v2/fns', { name: 'f', app_id: a.id, image: 'img' }));
      assert.deepEqual([r.status, r.body], [404, { message: 'App not found' }]);
    });

    test('POST /v2/triggers while its fn is deleted: 404 Fn not found', async () => {
      const a = (await req('POST', '/v2/apps', { name: 'racing-trigger' })).body;
      const f = (await req('POST', '/v2/fns', { name: 'f', app_id: a.id, image: 'img' })).body;
      const r = await racingDelete('fns', f.id, () =>
        req('POST', '/v2/triggers', { name: 't', app_id: a.id, fn_id: f.id, type: 'http', source: '/t' }));
      assert.deepEqual([r.status, r.body], [404, { message: 'Fn not found' }]);
    });

    test('POST /v2/triggers while its app is deleted: 404 App not found', async () => {
      const a = (await req('POST', '/v2/apps', { name: 'racing-trigger-app' })).body;
      const f = (await req('POST', '/v2/fns', { name: 'f', app_id: a.id, image: 'img' })).body;
      const r = await racingDelete('apps', a.id, () =>
        req('POST', '/v2/triggers', { name: 't', app_id: a.id, fn_id: f.id, type: 'http', source: '/t' }));
      assert.deepEqual([r.status, r.body], [404, { message: 'App not found' }]);
    });

    test('PUT of a trigger moved to a fn being deleted: 404 Fn not found, the trigger unchanged', async () => {
      const a = (await req('POST', '/v2/apps', { name: 'racing-move' })).body;
      const f1 = (await req('POST', '/v2/fns', { name: 'f1', app_id: a.id, image: 'img' })).body;
      const f2 = (await req('POST', '/v2/fns', { name: 'f2', app_id: a.id, image: 'img' })).body;
      const t = (await req('POST', '/v2/triggers', { name: 't', app_id: a.id, fn_id: f1.id, type: 'http', source: '/t' })).body;
      const r = await racingDelete('fns', f2.id, () => req('PUT', `/v2/triggers/${t.id}`, { fn_id: f2.id }));
      assert.deepEqual([r.status, r.body], [404, { message: 'Fn not found' }]);
      assert.equal((await req('GET', `/v2/triggers/${t.id}`)).body.fn_id, f1.id);
    });
  });
}
