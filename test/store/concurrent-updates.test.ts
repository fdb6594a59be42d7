// Updates racing each other on one row, from two nodes on one database: each reads the row as
// the one before it left it, so none is lost. On every backend, through the store and through
// two servers' HTTP API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { idFactory } from '../../api/ids.js';
import { ApiError } from '../../api/errors.js';
import { NotFoundError } from '../../store/errors.js';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { App, Fn, Trigger } from '../../store/types.js';
import { backends, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const newId = idFactory();
const TS = '2024-02-29T23:59:59.999Z';
const UPDATES = 24;

/** `n` keys, K00 ... */
const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `K${String(i).padStart(2, '0')}`);
const withKey = (m: Record<string, string>, k: string): Record<string, string> => ({ ...m, [k]: `v-${k}` });
const allKeys = (n: number): Record<string, string> => Object.fromEntries(keys(n).map((k) => [k, `v-${k}`]));

for (const backend of backends) {
  describe(`concurrent updates through two stores on one ${backend.name} database`, () => {
    let db: TestDb;
    let stores: SqlStore[] = [];
    let app: App;
    let fn: Fn;
    let trigger: Trigger;

    before(async () => {
      db = await backend.create();
      // Opened one after the other: two nodes starting at once is migration-lock.ts's concern.
      stores.push(new SqlStore(await openKnex(db.url)));
      stores.push(new SqlStore(await openKnex(db.url)));
      const [s] = stores;
      app = { id: newId(), name: 'race', config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: TS, updated_at: TS };
      fn = {
        id: newId(), name: 'f', app_id: app.id, image: 'img', memory: 128, timeout: 30, idle_timeout: 30, format: 'http-stream',
        config: {}, annotations: {}, created_at: TS, updated_at: TS,
      };
      trigger = { id: newId(), name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/t', annotations: {}, created_at: TS, updated_at: TS };
      await s!.insertApp(app);
      await s!.insertFn(fn);
      await s!.insertTrigger(trigger);
    });
    after(async () => {
      for (const s of stores) await s.close();
      stores = [];
      await db?.cleanup();
    });

    /** Each key's update, all at once, alternately through each store. */
    const race = <T>(update: (s: SqlStore, k: string) => Promise<T>): Promise<T[]> =>
      Promise.all(keys(UPDATES).map((k, i) => update(stores[i % stores.length]!, k)));

    test('an app: every config key added survives', async () => {
      await race((s, k) => s.updateApp(app.id, (a) => ({ ...a, config: withKey(a.config, k) })));
      assert.deepEqual((await stores[0]!.getApp(app.id)).config, allKeys(UPDATES));
    });

    test('a fn: every config key added survives', async () => {
      await race((s, k) => s.updateFn(fn.id, (f) => ({ ...f, config: withKey(f.config, k) })));
      assert.deepEqual((await stores[1]!.getFn(fn.id)).config, allKeys(UPDATES));
    });

    test('a trigger: every annotation added survives', async () => {
      await race((s, k) => s.updateTrigger(trigger.id, (t) => ({ ...t, annotations: { ...t.annotations, [k]: 1 } })));
      assert.deepEqual(Object.keys((await stores[0]!.getTrigger(trigger.id)).annotations).sort(), keys(UPDATES));
    });

    test("a change that throws writes nothing and is thrown as it is; the others in the race are kept", async () => {
      const before_ = await stores[0]!.getFn(fn.id);
      const refused = new ApiError('refused');
      const results = await Promise.allSettled(keys(6).map((k, i) => stores[i % 2]!.updateFn(fn.id, (f) => {
        if (i % 3 === 0) throw refused;
        return { ...f, annotations: { ...f.annotations, [k]: i } };
      })));
      assert.deepEqual(results.map((r) => (r.status === 'rejected' ? r.reason : 'ok')), [refused, 'ok', 'ok', refused, 'ok', 'ok']);
      assert.deepEqual((await stores[1]!.getFn(fn.id)).annotations, { K01: 1, K02: 2, K04: 4, K05: 5 });
      assert.deepEqual((await stores[1]!.getFn(fn.id)).config, before_.config);
    });

    test('a missing row is a NotFoundError, and the change is not called', async () => {
      let called = false;
      const change = <T>(x: T): T => {
        called = true;
        return x;
      };
      for (const [update, message] of [
        [() => stores[0]!.updateApp(newId(), change), 'App not found'],
        [() => stores[0]!.updateFn(newId(), change), 'Fn not found'],
        [() => stores[1]!.updateTrigger(newId(), change), 'Trigger not found'],
      ] as const) {
        await assert.rejects(update(), (err: unknown) => err instanceof NotFoundError && err.message === message);
      }
      assert.equal(called, false);
    });
  });

  describe(`concurrent PUTs through two servers on one ${backend.name} database`, () => {
    let db: TestDb;
    let servers: TestServer[] = [];
    const ROUNDS = 5;

    before(async () => {
      db = await backend.create();
      servers.push(await startServer(db.url));
      servers.push(await startServer(db.url));
    });
    after(async () => {
      for (const s of servers) await s.stop();
      servers = [];
      await db?.cleanup();
    });

    const put = async (i: number, path: string, body: unknown): Promise<void> => {
      const r = await call(servers[i % servers.length]!.url, 'PUT', path, body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };

    test("an fn's image and config PUT at once: both kept, every round", async () => {
      const a = (await call(servers[0]!.url, 'POST', '/v2/apps', { name: 'put-fn' })).body;
      for (let round = 0; round < ROUNDS; round++) {
        const f = (await call(servers[0]!.url, 'POST', '/v2/fns', { name: `f${round}`, app_id: a.id, image: 'x:v1' })).body;
        await Promise.all([
          put(0, `/v2/fns/${f.id}`, { image: 'x:v2' }),
          put(1, `/v2/fns/${f.id}`, { config: { K: 'v' } }),
        ]);
        const got = (await call(servers[1]!.url, 'GET', `/v2/fns/${f.id}`)).body;
        assert.deepEqual([round, got.image, got.config], [round, 'x:v2', { K: 'v' }]);
      }
    });

    test('PUTs each adding a config key to one app: all kept, every round', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = (await call(servers[0]!.url, 'POST', '/v2/apps', { name: `put-app-${round}` })).body;
        await Promise.all(keys(6).map((k, i) => put(i, `/v2/apps/${a.id}`, { config: { [k]: `v-${k}` } })));
        const got = (await call(servers[1]!.url, 'GET', `/v2/apps/${a.id}`)).body;
        assert.deepEqual([round, got.config], [round, allKeys(6)]);
      }
    });
  });
}
