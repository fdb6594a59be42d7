// The server as a process: data survives restarts (even a kill), and two processes share PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postgresDb, sqliteDb } from '../helpers/db.js';
import { spawnServer } from '../helpers/process.js';
import { call } from '../helpers/server.js';

test('a SQLite database survives a graceful restart and a kill', async () => {
  const db = await sqliteDb();
  try {
    let srv = await spawnServer({ FN_DB_URL: db.url });
    const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'durable', config: { K: 'v' } })).body;
    const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'img', memory: 256 })).body;
    assert.equal(await srv.stop('SIGTERM'), 0, 'SIGTERM exits cleanly');

    srv = await spawnServer({ FN_DB_URL: db.url });
    assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${app.id}`)).body, app);
    assert.equal((await call(srv.url, 'GET', `/v2/fns/${fn.id}`)).body.memory, 256);
    const t = (await call(srv.url, 'POST', '/v2/triggers', { name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/t' })).body;
    await srv.stop('SIGKILL');

    srv = await spawnServer({ FN_DB_URL: db.url });
    assert.equal((await call(srv.url, 'GET', `/v2/triggers/${t.id}`)).status, 200, 'a committed write survives SIGKILL');
    assert.equal(await srv.stop(), 0);
  } finally {
    await db.cleanup();
  }
});

test('two server processes on one PostgreSQL database see each other’s writes', async () => {
  const db = await postgresDb();
  const a = await spawnServer({ FN_DB_URL: db.url });
  const b = await spawnServer({ FN_DB_URL: db.url });
  try {
    const app = (await call(a.url, 'POST', '/v2/apps', { name: 'shared' })).body;
    assert.deepEqual((await call(b.url, 'GET', `/v2/apps/${app.id}`)).body, app);
    const fn = (await call(b.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'img' })).body;
    assert.equal((await call(a.url, 'GET', `/v2/fns?app_id=${app.id}`)).body.items[0].id, fn.id);
    // A conflict is seen across processes too.
    assert.equal((await call(b.url, 'POST', '/v2/apps', { name: 'shared' })).status, 409);
    assert.equal((await call(a.url, 'DELETE', `/v2/apps/${app.id}`)).status, 204);
    assert.equal((await call(b.url, 'GET', `/v2/fns/${fn.id}`)).status, 404);
  } finally {
    await a.stop();
    await b.stop();
    await db.cleanup();
  }
});

test('bad settings stop the server at start with a clear message', async () => {
  await assert.rejects(spawnServer({ FN_DB_URL: 'mongodb://x' }), /unsupported scheme "mongodb"/);
  await assert.rejects(spawnServer({ FN_PORT: 'eighty' }), /FN_PORT/);
  await assert.rejects(spawnServer({ FN_IOFS_PATH: `/tmp/${'x'.repeat(100)}` }), /FN_IOFS_PATH .* is too long/);
});
