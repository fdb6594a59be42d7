// Values an older Kiln stored before today's input rules, written here straight into the
// database as it stored them, on every backend: the app and its fns still read, run and mend.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, type TestDb } from '../helpers/db.js';
import { rawKnex } from '../helpers/fn-database.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { nodeContainers } from '../helpers/containers.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

for (const backend of backends) {
  describe(`values an older Kiln stored, on ${backend.name}`, () => {
    let db: TestDb;
    let srv: TestServer;
    let image: string;
    const req = (method: string, path: string, body?: unknown) => call(srv.url, method, path, body);
    const update = async (table: string, id: string, row: Record<string, unknown>) => {
      const knex = rawKnex(db.url);
      try {
        await knex(table).where({ id }).update(row);
      } finally {
        await knex.destroy();
      }
    };
    const stored = async (table: string, id: string, column: string): Promise<string> => {
      const knex = rawKnex(db.url);
      try {
        return String(((await knex(table).where({ id }).first(column)) as Record<string, unknown>)[column]);
      } finally {
        await knex.destroy();
      }
    };

    before(async () => {
      image = await fixtureImage('hello-fdk');
      db = await backend.create();
      srv = await startServer(db.url);
    });
    after(async () => {
      const nodeId = srv?.nodeId;
      await srv?.stop();
      await db?.cleanup();
      if (nodeId) assert.deepEqual(await nodeContainers(docker(), nodeId), [], 'shutdown removes every container');
    });

    test('lone UTF-16 surrogates in config and annotations read as U+FFFD: calls run, and a PUT naming the key with U+FFFD deletes it', async () => {
      const app = await req('POST', '/v2/apps', { name: 'surr' });
      assert.equal(app.status, 200, JSON.stringify(app.body));
      const fn = await req('POST', '/v2/fns', { app_id: app.body.id, name: 'hello', image });
      assert.equal(fn.status, 200, JSON.stringify(fn.body));
      // As JSON.stringify wrote them for an older Kiln, which took {"config":{"k\ud800":"v\udfff"}}.
      await update('apps', app.body.id, { config: '{"k\\ud800":"v\\udfff","OK":"1"}' });
      await update('fns', fn.body.id, {
        config: '{"F\\udc00":"x"}', annotations: '{"x.io/v":{"s":"a\\ud800b","l":["\\udfff"]}}',
      });

      const read = await req('GET', `/v2/apps/${app.body.id}`);
      assert.deepEqual(read.body.config, { 'k\ufffd': 'v\ufffd', OK: '1' });
      const readFn = await req('GET', `/v2/fns/${fn.body.id}`);
      assert.deepEqual(readFn.body.config, { 'F\ufffd': 'x' });
      assert.deepEqual(readFn.body.annotations['x.io/v'], { s: 'a\ufffdb', l: ['\ufffd'] });

      const run = await req('POST', `/invoke/${fn.body.id}`, { name: 'old' });
      assert.equal(run.status, 200, JSON.stringify(run.body));
      assert.deepEqual(run.body, { message: 'Hello old' });

      const mended = await req('PUT', `/v2/apps/${app.body.id}`, { config: { 'k\ufffd': '' } });
      assert.equal(mended.status, 200, JSON.stringify(mended.body));
      assert.deepEqual(mended.body.config, { OK: '1' });
      assert.equal(await stored('apps', app.body.id, 'config'), '{"OK":"1"}');
      // Any other PUT of the fn writes its maps back well-formed.
      const fnPut = await req('PUT', `/v2/fns/${fn.body.id}`, { timeout: 31 });
      assert.equal(fnPut.status, 200, JSON.stringify(fnPut.body));
      assert.equal(await stored('fns', fn.body.id, 'config'), '{"F\ufffd":"x"}');
    });

    test('an annotation value stored as null: a PUT is refused naming the key, and one removing it succeeds', async () => {
      const app = await req('POST', '/v2/apps', { name: 'nullann', annotations: { 'a.io/keep': 'k' } });
      assert.equal(app.status, 200, JSON.stringify(app.body));
      // An older Kiln took {"a.io/big": 1e400} and stored it as null.
      await update('apps', app.body.id, { annotations: '{"a.io/keep":"k","a.io/big":null}' });
      const refused = await req('PUT', `/v2/apps/${app.body.id}`, { config: { A: '1' } });
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /^Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays: "a\.io\/big" is null/);
      const mended = await req('PUT', `/v2/apps/${app.body.id}`, { config: { A: '1' }, annotations: { 'a.io/big': null } });
      assert.equal(mended.status, 200, JSON.stringify(mended.body));
      assert.deepEqual(mended.body.annotations, { 'a.io/keep': 'k' });
    });
  });
}
