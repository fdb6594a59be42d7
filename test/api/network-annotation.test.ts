// kiln.io/network through the REST API: a network the operator allows (KILN_ALLOWED_NETWORKS,
// and FN_DOCKER_NETWORKS always) is stored on apps and fns and read back; one it does not is a
// 400 naming the key and what is allowed, and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, sqliteDb, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const NET = 'kiln.io/network';
const ALLOWED = 'networks allowed: bridge, kiln-fns, ops-net';

for (const backend of backends) {
  describe(`kiln.io/network on ${backend.name}`, () => {
    let db: TestDb;
    let srv: TestServer;

    before(async () => {
      db = await backend.create();
      srv = await startServer(db.url, { KILN_ALLOWED_NETWORKS: 'bridge, kiln-fns', FN_DOCKER_NETWORKS: 'ops-net' });
    });
    after(async () => {
      await srv?.stop();
      await db?.cleanup();
    });

    test('an allowed network is stored on an app and a fn, read back, changed and removed', async () => {
      const app = await call(srv.url, 'POST', '/v2/apps', { name: 'net-app', annotations: { [NET]: 'kiln-fns', other: 1 } });
      assert.equal(app.status, 200, JSON.stringify(app.body));
      assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${app.body.id}`)).body.annotations, { [NET]: 'kiln-fns', other: 1 });

      // FN_DOCKER_NETWORKS's own networks may always be asked for.
      const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'net-fn', app_id: app.body.id, image: 'i', annotations: { [NET]: 'ops-net' } });
      assert.equal(fn.status, 200, JSON.stringify(fn.body));
      assert.equal((await call(srv.url, 'GET', `/v2/fns/${fn.body.id}`)).body.annotations[NET], 'ops-net');

      const put = await call(srv.url, 'PUT', `/v2/fns/${fn.body.id}`, { annotations: { [NET]: 'bridge' } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal((await call(srv.url, 'GET', `/v2/fns/${fn.body.id}`)).body.annotations[NET], 'bridge');

      const removed = await call(srv.url, 'PUT', `/v2/apps/${app.body.id}`, { annotations: { [NET]: '' } });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${app.body.id}`)).body.annotations, { other: 1 });
    });

    const refused: { name: string; value: unknown; why: string }[] = [
      { name: 'not a string', value: true, why: 'must be a Docker network name (a string), got true' },
      { name: 'not allowed', value: 'kiln-other', why: 'network "kiln-other" is not allowed on this server' },
      { name: 'host', value: 'host', why: '"host" is never allowed: it would give the fn the host\'s own network stack' },
    ];
    for (const c of refused) {
      test(`a network ${c.name}: 400 on app and fn create and update, nothing written`, async () => {
        const app = (await call(srv.url, 'POST', '/v2/apps', { name: `ok-${c.name.replace(/\W/g, '')}` })).body;
        const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'i' })).body;
        const message = `Invalid annotation "${NET}": ${c.why}; ${ALLOWED}`;
        const writes: [string, string, unknown][] = [
          ['POST', '/v2/apps', { name: 'refused', annotations: { [NET]: c.value } }],
          ['PUT', `/v2/apps/${app.id}`, { annotations: { [NET]: c.value } }],
          ['POST', '/v2/fns', { name: 'refused', app_id: app.id, image: 'i', annotations: { [NET]: c.value } }],
          ['PUT', `/v2/fns/${fn.id}`, { annotations: { [NET]: c.value } }],
        ];
        for (const [method, path, body] of writes) {
          const r = await call(srv.url, method, path, body);
          assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
          assert.deepEqual(r.body, { message }, `${method} ${path}`);
        }
        assert.deepEqual((await call(srv.url, 'GET', '/v2/apps?name=refused')).body.items, []);
        assert.deepEqual((await call(srv.url, 'GET', `/v2/fns?app_id=${app.id}&name=refused`)).body.items, []);
        assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${app.id}`)).body.annotations, {});
        assert.deepEqual((await call(srv.url, 'GET', `/v2/fns/${fn.id}`)).body.annotations[NET], undefined);
      });
    }
  });
}

describe('KILN_ALLOWED_NETWORKS empty: no fn may ask', () => {
  let db: TestDb;
  let srv: TestServer;

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_ALLOWED_NETWORKS: '' });
  });
  after(async () => {
    await srv?.stop();
    await db?.cleanup();
  });

  test('even bridge is refused, saying so', async () => {
    const r = await call(srv.url, 'POST', '/v2/apps', { name: 'a', annotations: { [NET]: 'bridge' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.message, `Invalid annotation "${NET}": network "bridge" is not allowed on this server; no network may be asked for on this server (KILN_ALLOWED_NETWORKS is empty)`);
  });
});
