// A Kiln server started on an Fn server's database, on every backend: what Fn stored reads back
// through the HTTP API in Fn's shapes, runs, and sits beside what Kiln creates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, type TestDb } from '../helpers/db.js';
import { createFnDatabase, FN_IDS, rawKnex } from '../helpers/fn-database.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { nodeContainers } from '../helpers/containers.js';
import { call, startServer, type TestServer } from '../helpers/server.js';
import { migrations } from '../../migrations/index.js';

for (const backend of backends) {
  describe(`Kiln on an Fn database on ${backend.name}`, () => {
    let db: TestDb;
    let srv: TestServer;
    let image: string;
    const req = (method: string, path: string, body?: unknown) => call(srv.url, method, path, body);

    before(async () => {
      image = await fixtureImage('hello-fdk');
      db = await backend.create();
      await createFnDatabase(db.url, image);
      srv = await startServer(db.url);
    });
    after(async () => {
      const nodeId = srv?.nodeId;
      await srv?.stop();
      await db?.cleanup();
      if (nodeId) assert.deepEqual(await nodeContainers(docker(), nodeId), [], 'shutdown removes every container');
    });

    const zeta = () => ({
      id: FN_IDS.zeta, name: 'Zeta', config: { A: '1', B: '2' }, annotations: { 'x.io/k': 'v', 'x.io/n': 7 },
      syslog_url: 'udp://127.0.0.1:514', shape: 'GENERIC_X86',
      // Fn ran in UTC+1; Kiln answers in UTC.
      created_at: '2019-03-04T05:06:07.089Z', updated_at: '2019-03-04T05:16:07.089Z',
    });
    const alpha = () => ({
      id: FN_IDS.alpha, name: 'alpha', config: {}, annotations: {}, shape: 'GENERIC_ARM',
      // Fn's answer for an app it stored no time for (its zero common.DateTime).
      created_at: '0001-01-01T00:00:00.000Z', updated_at: '0001-01-01T00:00:00.000Z',
    });
    const hello = () => ({
      id: FN_IDS.fn, name: 'hello', app_id: FN_IDS.zeta, image, memory: 128, timeout: 30, idle_timeout: 30,
      format: 'http-stream', config: { FN_VAR: 'f' },
      annotations: { 'fnproject.io/fn/invokeEndpoint': `${srv.url}/invoke/${FN_IDS.fn}` },
      created_at: '2019-03-04T05:06:08.000Z', updated_at: '2019-03-04T05:06:08.000Z',
    });
    const trigger = () => ({
      id: FN_IDS.trigger, name: 'hello', app_id: FN_IDS.zeta, fn_id: FN_IDS.fn, type: 'http', source: '/hello',
      annotations: { 'fnproject.io/trigger/httpEndpoint': `${srv.url}/t/Zeta/hello` },
      created_at: '2019-03-04T05:06:09.000Z', updated_at: '2019-03-04T05:06:09.000Z',
    });

    test('Fn’s apps, fns and triggers read back as Fn shapes them', async () => {
      assert.deepEqual((await req('GET', '/v2/apps')).body, { items: [zeta(), alpha()] });
      assert.deepEqual((await req('GET', `/v2/apps/${FN_IDS.zeta}`)).body, zeta());
      assert.deepEqual((await req('GET', `/v2/apps/${FN_IDS.alpha}`)).body, alpha());
      assert.deepEqual((await req('GET', '/v2/apps?name=Zeta')).body, { items: [zeta()] });
      assert.deepEqual((await req('GET', `/v2/fns?app_id=${FN_IDS.zeta}`)).body, { items: [hello()] });
      assert.deepEqual((await req('GET', `/v2/fns/${FN_IDS.fn}`)).body, hello());
      assert.deepEqual((await req('GET', `/v2/triggers?app_id=${FN_IDS.zeta}`)).body, { items: [trigger()] });
      assert.deepEqual((await req('GET', `/v2/triggers/${FN_IDS.trigger}`)).body, trigger());
    });

    test('lists order names bytewise, as on Kiln’s own tables, and page by cursor', async () => {
      // Bytewise "Zeta" < "alpha"; a locale's collation (Fn's columns on PostgreSQL) says otherwise.
      const first = await req('GET', '/v2/apps?per_page=1');
      assert.deepEqual(first.body.items.map((a: { name: string }) => a.name), ['Zeta']);
      const second = await req('GET', `/v2/apps?per_page=1&cursor=${first.body.next_cursor}`);
      assert.deepEqual(second.body.items.map((a: { name: string }) => a.name), ['alpha']);
    });

    test('Fn’s fn runs, through its trigger and by id, and its calls are kept', async () => {
      const viaTrigger = await req('POST', '/t/Zeta/hello', { name: 'Fn' });
      assert.equal(viaTrigger.status, 200, JSON.stringify(viaTrigger.body));
      assert.deepEqual(viaTrigger.body, { message: 'Hello Fn' });
      const byId = await req('POST', `/invoke/${FN_IDS.fn}`);
      assert.deepEqual(byId.body, { message: 'Hello World' });
      await srv.agent.flushRecords();
      const calls = (await req('GET', `/v2/fns/${FN_IDS.fn}/calls`)).body.items as { status: string; trigger_id?: string }[];
      assert.deepEqual(calls.map((c) => c.status), ['success', 'success']);
      assert.equal(calls[1]?.trigger_id, FN_IDS.trigger);
    });

    test('Kiln creates and updates beside Fn’s rows, in rows Fn can read', async () => {
      const u = await req('PUT', `/v2/apps/${FN_IDS.zeta}`, { config: { A: '', C: '3' } });
      assert.equal(u.status, 200, JSON.stringify(u.body));
      assert.deepEqual(u.body.config, { B: '2', C: '3' });
      assert.equal(u.body.created_at, zeta().created_at);
      assert.ok(u.body.updated_at > zeta().updated_at);

      const f = await req('PUT', `/v2/fns/${FN_IDS.fn}`, { memory: 256, config: { FN_VAR: '' } });
      assert.equal(f.status, 200, JSON.stringify(f.body));
      assert.deepEqual({ memory: f.body.memory, config: f.body.config, format: f.body.format }, { memory: 256, config: {}, format: 'http-stream' });

      const k = await req('POST', '/v2/fns', { app_id: FN_IDS.zeta, name: 'kiln-fn', image, format: 'lambda' });
      assert.equal(k.status, 200, JSON.stringify(k.body));
      const dup = await req('POST', '/v2/triggers', { app_id: FN_IDS.zeta, fn_id: k.body.id, name: 'again', type: 'http', source: '/hello' });
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.body, { message: 'Trigger with the same type and source exists on this app' });
      const t = await req('POST', '/v2/triggers', { app_id: FN_IDS.zeta, fn_id: k.body.id, name: 'kiln-t', type: 'http', source: '/k' });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.deepEqual((await req('GET', `/v2/fns?app_id=${FN_IDS.zeta}`)).body.items.map((x: { name: string }) => x.name), ['hello', 'kiln-fn']);

      const knex = rawKnex(db.url);
      try {
        const app = (await knex('apps').where({ id: FN_IDS.zeta }).first()) as Record<string, string>;
        assert.deepEqual(JSON.parse(app.config!), { B: '2', C: '3' });
        assert.equal(app.shape, 'GENERIC_X86', 'the app Kiln wrote back has the shape it answers with');
        const fn = (await knex('fns').where({ id: k.body.id }).first()) as Record<string, string>;
        assert.equal(fn.shape, app.shape, 'a new fn gets its app’s shape, as in Fn');
        assert.equal(fn.format, 'lambda');
      } finally {
        await knex.destroy();
      }

      assert.equal((await req('DELETE', `/v2/apps/${FN_IDS.alpha}`)).status, 204);
      assert.deepEqual((await req('GET', '/v2/apps')).body.items.map((a: { name: string }) => a.name), ['Zeta']);
    });

    test('names differing only in case are two apps, listed bytewise (Fn’s MySQL collation held them equal)', async () => {
      const z = await req('POST', '/v2/apps', { name: 'zeta' });
      assert.equal(z.status, 200, JSON.stringify(z.body));
      try {
        const names = (await req('GET', '/v2/apps')).body.items.map((a: { name: string }) => a.name);
        assert.deepEqual(names, ['Zeta', 'zeta']);
        assert.deepEqual((await req('GET', '/v2/apps?name=zeta')).body.items.map((a: { id: string }) => a.id), [z.body.id]);
        assert.deepEqual((await req('GET', '/v2/apps?name=ZETA')).body.items, []);
        assert.equal((await req('GET', `/v2/apps/${FN_IDS.zeta.toLowerCase()}`)).status, 404);
      } finally {
        assert.equal((await req('DELETE', `/v2/apps/${z.body.id}`)).status, 204);
      }
    });

    test('a value longer than its column holds is a 400 that writes nothing', async () => {
      // Fn's image, source and the like are varchar(256) on PostgreSQL and MySQL, and its config
      // MySQL's TEXT (64 KiB); Fn's SQLite tables have the same declarations, which SQLite does
      // not enforce, so there every value is stored as given.
      const bounded = backend.name !== 'sqlite';
      // A reference Docker takes (a name of at most 255 characters, a tag of at most 128), longer than 256.
      const longImage = `registry.example/${'x'.repeat(200)}:${'t'.repeat(100)}`;
      const longSource = `/${'s'.repeat(299)}`;
      const otherLongSource = `/${'t'.repeat(299)}`; // where SQLite stored longSource, it is taken
      const tooLong = (r: { status: number; body: unknown }, message: string, rejected = bounded) => {
        if (rejected) assert.deepEqual([r.status, r.body], [400, { message }]);
        else assert.equal(r.status, 200, JSON.stringify(r.body));
      };

      const post = await req('POST', '/v2/fns', { app_id: FN_IDS.zeta, name: 'long-image', image: longImage });
      tooLong(post, 'Fn image is too long for this database');
      assert.equal((await req('GET', `/v2/fns?app_id=${FN_IDS.zeta}&name=long-image`)).body.items.length, bounded ? 0 : 1);

      const f = await req('POST', '/v2/fns', { app_id: FN_IDS.zeta, name: 'short-image', image });
      assert.equal(f.status, 200, JSON.stringify(f.body));
      tooLong(await req('PUT', `/v2/fns/${f.body.id}`, { image: longImage }), 'Fn image is too long for this database');
      assert.equal((await req('GET', `/v2/fns/${f.body.id}`)).body.image, bounded ? image : longImage);

      const trigger = { app_id: FN_IDS.zeta, fn_id: f.body.id, type: 'http' };
      const postT = await req('POST', '/v2/triggers', { ...trigger, name: 'long-source', source: longSource });
      tooLong(postT, 'Trigger source is too long for this database');
      assert.equal((await req('GET', `/v2/triggers?app_id=${FN_IDS.zeta}&name=long-source`)).body.items.length, bounded ? 0 : 1);
      const t = await req('POST', '/v2/triggers', { ...trigger, name: 'short-source', source: '/short' });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      tooLong(await req('PUT', `/v2/triggers/${t.body.id}`, { source: otherLongSource }), 'Trigger source is too long for this database');
      assert.equal((await req('GET', `/v2/triggers/${t.body.id}`)).body.source, bounded ? '/short' : otherLongSource);

      // Only MySQL bounds a text column: Fn's config is TEXT there (64 KiB), unbounded on PostgreSQL.
      const before = (await req('GET', `/v2/apps/${FN_IDS.zeta}`)).body;
      const big = 'c'.repeat(70_000);
      tooLong(await req('PUT', `/v2/apps/${FN_IDS.zeta}`, { config: { BIG: big } }), 'App config is too long for this database', backend.name === 'mysql');
      const after = (await req('GET', `/v2/apps/${FN_IDS.zeta}`)).body;
      assert.deepEqual(after.config, backend.name === 'mysql' ? before.config : { ...before.config, BIG: big });

      for (const id of [f.body.id, post.status === 200 ? post.body.id : undefined]) {
        if (id) assert.equal((await req('DELETE', `/v2/fns/${id}`)).status, 204);
      }
    });

    test('a restart opens the adopted database as Kiln’s own', async () => {
      const before = (await req('GET', `/v2/fns/${FN_IDS.fn}`)).body;
      const nodeId = srv.nodeId;
      await srv.stop();
      assert.deepEqual(await nodeContainers(docker(), nodeId), []);
      srv = await startServer(db.url);
      const after = (await req('GET', `/v2/fns/${FN_IDS.fn}`)).body;
      assert.deepEqual({ ...after, annotations: {} }, { ...before, annotations: {} });
      const knex = rawKnex(db.url);
      try {
        assert.deepEqual(await knex('knex_migrations').pluck('name'), migrations.map((m) => m.name));
      } finally {
        await knex.destroy();
      }
    });
  });
}
