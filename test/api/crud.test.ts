// Apps, fns and triggers through the HTTP API as Fn answers, against SQLite, PostgreSQL and MySQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { Call } from '../../store/types.js';
import { backends, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';
import { encodeTime } from 'ulid';
import { connect } from 'node:net';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A request written by hand; the whole answer, once the server closes the connection. */
function fetchRaw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

for (const backend of backends) {
  describe(`REST API on ${backend.name}`, () => {
    let db: TestDb;
    let srv: TestServer;
    const req = (method: string, path: string, body?: unknown) => call(srv.url, method, path, body);

    before(async () => {
      db = await backend.create();
      srv = await startServer(db.url);
    });
    after(async () => {
      await srv?.stop();
      await db?.cleanup();
    });

    test('GET / and /version', async () => {
      assert.deepEqual((await req('GET', '/')).body, { goto: '/v2/apps', hello: 'world!' });
      const v = await req('GET', '/version');
      assert.equal(v.status, 200);
      assert.match(v.body.version, /^\d+\.\d+\.\d+/);
    });

    test('unknown path and wrong method', async () => {
      const r = await req('GET', '/bogus');
      assert.equal(r.status, 404);
      assert.deepEqual(r.body, { message: 'Path not found: GET /bogus' });
      const m = await req('PATCH', '/v2/apps');
      assert.equal(m.status, 405);
      assert.deepEqual(m.body, { message: 'Method not allowed: PATCH /v2/apps' });
      assert.equal(m.headers.get('allow'), 'GET, HEAD, POST');
      // Each path names its own methods.
      const allowed: [string, string, string][] = [
        ['DELETE', '/v2/apps', 'GET, HEAD, POST'], ['POST', '/v2/apps/01ARZ3NDEKTSV4RRFFQ69G5FAV', 'GET, HEAD, PUT, DELETE'],
        ['PUT', '/v2/fns', 'GET, HEAD, POST'], ['PATCH', '/v2/triggers/01ARZ3NDEKTSV4RRFFQ69G5FAV', 'GET, HEAD, PUT, DELETE'],
        ['POST', '/v2/fns/01ARZ3NDEKTSV4RRFFQ69G5FAV/calls', 'GET, HEAD'], ['GET', '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV', 'POST'],
      ];
      for (const [method, path, allow] of allowed) {
        const r = await req(method, path);
        assert.deepEqual([r.status, r.headers.get('allow')], [405, allow], `${method} ${path}`);
      }
    });

    test('app lifecycle: create, get, list, merge-update, delete', async () => {
      const c = await req('POST', '/v2/apps', { name: 'lifecycle', config: { A: '1', B: '2' }, annotations: { 'x.io/k': 'v' } });
      assert.equal(c.status, 200);
      assert.match(c.body.id, ULID);
      assert.match(c.body.created_at, TS);
      assert.equal(c.body.created_at, c.body.updated_at);
      assert.deepEqual(c.body.config, { A: '1', B: '2' });

      const g = await req('GET', `/v2/apps/${c.body.id}`);
      assert.deepEqual(g.body, c.body);

      const byName = await req('GET', '/v2/apps?name=lifecycle');
      assert.deepEqual(byName.body.items, [c.body]);
      assert.equal(byName.body.next_cursor, undefined);

      // The fn CLI PUTs back the whole object it read, with the same name, id and timestamps.
      await new Promise((r) => setTimeout(r, 5));
      const u = await req('PUT', `/v2/apps/${c.body.id}`, {
        ...c.body, config: { A: '', C: '3' }, annotations: { 'x.io/k': '', 'y.io/n': 7 }, syslog_url: 'tcp://logs:514',
      });
      assert.equal(u.status, 200);
      assert.deepEqual(u.body.config, { B: '2', C: '3' });
      assert.deepEqual(u.body.annotations, { 'y.io/n': 7 });
      assert.equal(u.body.syslog_url, 'tcp://logs:514');
      assert.equal(u.body.created_at, c.body.created_at);
      assert.ok(u.body.updated_at > c.body.updated_at);
      assert.deepEqual((await req('GET', `/v2/apps/${c.body.id}`)).body, u.body);

      // Fn's tls is kept as written (the engine is given tcp+tls only when a container is made).
      const tls = await req('PUT', `/v2/apps/${c.body.id}`, { syslog_url: 'tls://logs.papertrailapp.com:1' });
      assert.equal(tls.status, 200, JSON.stringify(tls.body));
      assert.equal((await req('GET', `/v2/apps/${c.body.id}`)).body.syslog_url, 'tls://logs.papertrailapp.com:1');

      const cleared = await req('PUT', `/v2/apps/${c.body.id}`, { syslog_url: '' });
      assert.equal(cleared.body.syslog_url, undefined);

      const d = await req('DELETE', `/v2/apps/${c.body.id}`);
      assert.equal(d.status, 204);
      assert.equal(d.body, '');
      assert.equal((await req('GET', `/v2/apps/${c.body.id}`)).status, 404);
      assert.deepEqual((await req('DELETE', `/v2/apps/${c.body.id}`)).body, { message: 'App not found' });
    });

    test('app shape: GENERIC_X86 when none is given, never changed by PUT, and given to apps stored without one', async () => {
      const c = await req('POST', '/v2/apps', { name: 'shapeless' });
      assert.equal(c.body.shape, 'GENERIC_X86');
      assert.equal((await req('GET', `/v2/apps/${c.body.id}`)).body.shape, 'GENERIC_X86');
      const arm = await req('POST', '/v2/apps', { name: 'armapp', shape: 'GENERIC_ARM' });
      assert.equal(arm.body.shape, 'GENERIC_ARM');
      for (const shape of ['GENERIC_X86', 'GENERIC_X86_ARM', '', 'bogus']) {
        const u = await req('PUT', `/v2/apps/${arm.body.id}`, { shape });
        assert.equal(u.status, 200, JSON.stringify(u.body));
        assert.equal(u.body.shape, 'GENERIC_ARM', `PUT shape ${JSON.stringify(shape)}`);
      }
      assert.equal((await req('GET', `/v2/apps/${arm.body.id}`)).body.shape, 'GENERIC_ARM');
      // A row written before Kiln stored a default shape.
      const knex = await openKnex(db.url);
      try {
        await knex('apps').where({ id: c.body.id }).update({ shape: null });
      } finally {
        await knex.destroy();
      }
      assert.equal((await req('GET', `/v2/apps/${c.body.id}`)).body.shape, 'GENERIC_X86');
      const listed = (await req('GET', '/v2/apps?name=shapeless')).body.items;
      assert.equal(listed[0].shape, 'GENERIC_X86');
    });

    test('fn lifecycle with Fn defaults, endpoint annotation and format', async () => {
      const app = (await req('POST', '/v2/apps', { name: 'fnapp' })).body;
      const c = await req('POST', '/v2/fns', { name: 'hello', app_id: app.id, image: 'fnproject/hello:0.0.1', timeout: 0 });
      assert.equal(c.status, 200);
      const fn = c.body;
      assert.match(fn.id, ULID);
      assert.equal(fn.memory, 128);
      assert.equal(fn.timeout, 30);
      assert.equal(fn.idle_timeout, 30);
      assert.equal(fn.format, 'http-stream');
      assert.deepEqual(fn.config, {});
      assert.equal(fn.annotations['fnproject.io/fn/invokeEndpoint'], `${srv.url}/invoke/${fn.id}`);

      const g = await req('GET', `/v2/fns/${fn.id}`);
      assert.deepEqual(g.body, fn);
      const list = await req('GET', `/v2/fns?app_id=${app.id}`);
      assert.deepEqual(list.body, { items: [fn] });

      // PUT back what was read (endpoint annotation included), changing limits and format.
      const u = await req('PUT', `/v2/fns/${fn.id}`, {
        ...fn, name: 'ignored', memory: 256, timeout: 60, format: 'lambda', config: { K: 'v' },
      });
      assert.equal(u.status, 200);
      assert.equal(u.body.name, 'hello', 'as Fn, name changes are ignored');
      assert.equal(u.body.memory, 256);
      assert.equal(u.body.timeout, 60);
      assert.equal(u.body.idle_timeout, 30);
      assert.equal(u.body.format, 'lambda');
      assert.deepEqual(u.body.config, { K: 'v' });
      assert.deepEqual(Object.keys(u.body.annotations), ['fnproject.io/fn/invokeEndpoint']);

      // The fn CLI's legacy formats are taken and stored as what runs, http-stream.
      const legacy = await req('PUT', `/v2/fns/${fn.id}`, { format: 'json' });
      assert.equal(legacy.status, 200, JSON.stringify(legacy.body));
      assert.equal(legacy.body.format, 'http-stream');
      const old = await req('POST', '/v2/fns', { name: 'oldcli', app_id: app.id, image: 'i', format: 'default' });
      assert.equal(old.status, 200, JSON.stringify(old.body));
      assert.equal(old.body.format, 'http-stream');

      assert.equal((await req('DELETE', `/v2/fns/${fn.id}`)).status, 204);
      assert.deepEqual((await req('GET', `/v2/fns/${fn.id}`)).body, { message: 'Fn not found' });
    });

    test('trigger lifecycle and endpoint annotation', async () => {
      const app = (await req('POST', '/v2/apps', { name: 'trigapp' })).body;
      const fn = (await req('POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'img' })).body;
      const fn2 = (await req('POST', '/v2/fns', { name: 'g', app_id: app.id, image: 'img' })).body;
      const c = await req('POST', '/v2/triggers', { name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/hello' });
      assert.equal(c.status, 200);
      const t = c.body;
      assert.match(t.id, ULID);
      assert.equal(t.annotations['fnproject.io/trigger/httpEndpoint'], `${srv.url}/t/trigapp/hello`);
      assert.deepEqual((await req('GET', `/v2/triggers/${t.id}`)).body, t);
      assert.deepEqual((await req('GET', `/v2/triggers?app_id=${app.id}`)).body, { items: [t] });
      assert.deepEqual((await req('GET', `/v2/triggers?app_id=${app.id}&fn_id=${fn2.id}`)).body, { items: [] });

      const u = await req('PUT', `/v2/triggers/${t.id}`, { ...t, fn_id: fn2.id, source: '/hi', type: 'ignored' });
      assert.equal(u.status, 200);
      assert.equal(u.body.fn_id, fn2.id);
      assert.equal(u.body.source, '/hi');
      assert.equal(u.body.type, 'http');
      assert.equal(u.body.annotations['fnproject.io/trigger/httpEndpoint'], `${srv.url}/t/trigapp/hi`);

      // Same name on another fn of the app is allowed (names are unique per fn, as in Fn).
      const t2 = await req('POST', '/v2/triggers', { name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/other' });
      assert.equal(t2.status, 200);

      assert.equal((await req('DELETE', `/v2/triggers/${t.id}`)).status, 204);
      assert.deepEqual((await req('GET', `/v2/triggers/${t.id}`)).body, { message: 'Trigger not found' });
    });

    test('a trigger endpoint annotation reaches its trigger whatever the source holds (#, ?, %, a space, //), and is Fn\'s for a plain one', async () => {
      const app = (await req('POST', '/v2/apps', { name: 'oddsources' })).body;
      const fn = (await req('POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'kiln-test/no-such-image:0.0.1' })).body;
      const cases: [string, string][] = [
        ['/h#frag', 'h%23frag'], ['/q?x=1', 'q%3Fx=1'], ['/pct%41', 'pct%2541'], ['/sp ace/x', 'sp%20ace/x'], ['/plain/path', 'plain/path'],
        ['//a', '/a'], ['/v1/items:batch', 'v1/items:batch'],
      ];
      for (const [source, path] of cases) {
        const t = await req('POST', '/v2/triggers', { name: `t${cases.findIndex((c) => c[0] === source)}`, app_id: app.id, fn_id: fn.id, type: 'http', source });
        assert.equal(t.status, 200, JSON.stringify(t.body));
        const endpoint = t.body.annotations['fnproject.io/trigger/httpEndpoint'] as string;
        assert.equal(endpoint, `${srv.url}/t/oddsources/${path}`);
        // It reaches the fn (whose image is missing: a 502 naming it), not a 404 for another path.
        const r = await fetch(endpoint);
        assert.equal(r.status, 502, `${source}: ${await r.text()}`);
      }
    });

    test('updated_at moves only when a PUT changes something, as Fn', async () => {
      const app = (await req('POST', '/v2/apps', { name: 'stamps', config: { A: '1' } })).body;
      const fn = (await req('POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'img:1' })).body;
      const trig = (await req('POST', '/v2/triggers', { name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/s' })).body;
      await new Promise((r) => setTimeout(r, 5));
      // The fn CLI PUTs back what it read (endpoint annotations included).
      for (const [path, obj] of [[`/v2/apps/${app.id}`, app], [`/v2/fns/${fn.id}`, fn], [`/v2/triggers/${trig.id}`, trig]]) {
        const same = await req('PUT', path, obj);
        assert.equal(same.status, 200, JSON.stringify(same.body));
        assert.equal(same.body.updated_at, obj.updated_at, `${path}: nothing changed`);
        assert.equal((await req('GET', path)).body.updated_at, obj.updated_at, `${path}: stored as it was`);
      }
      assert.equal((await req('PUT', `/v2/apps/${app.id}`, { config: { A: '1' } })).body.updated_at, app.updated_at);
      const changed = await req('PUT', `/v2/fns/${fn.id}`, { image: 'img:2' });
      assert.ok(changed.body.updated_at > fn.updated_at, 'a real change moves it');
      assert.equal((await req('GET', `/v2/fns/${fn.id}`)).body.updated_at, changed.body.updated_at);
    });

    test('deleting a fn deletes its triggers; deleting an app deletes fns and triggers', async () => {
      const app = (await req('POST', '/v2/apps', { name: 'cascade' })).body;
      const f1 = (await req('POST', '/v2/fns', { name: 'f1', app_id: app.id, image: 'img' })).body;
      const f2 = (await req('POST', '/v2/fns', { name: 'f2', app_id: app.id, image: 'img' })).body;
      const t1 = (await req('POST', '/v2/triggers', { name: 't1', app_id: app.id, fn_id: f1.id, type: 'http', source: '/a' })).body;
      const t2 = (await req('POST', '/v2/triggers', { name: 't2', app_id: app.id, fn_id: f2.id, type: 'http', source: '/b' })).body;

      assert.equal((await req('DELETE', `/v2/fns/${f1.id}`)).status, 204);
      assert.equal((await req('GET', `/v2/triggers/${t1.id}`)).status, 404);
      assert.equal((await req('GET', `/v2/triggers/${t2.id}`)).status, 200);

      assert.equal((await req('DELETE', `/v2/apps/${app.id}`)).status, 204);
      assert.equal((await req('GET', `/v2/fns/${f2.id}`)).status, 404);
      assert.equal((await req('GET', `/v2/triggers/${t2.id}`)).status, 404);
      // A new app of the same name starts empty.
      const again = (await req('POST', '/v2/apps', { name: 'cascade' })).body;
      assert.deepEqual((await req('GET', `/v2/fns?app_id=${again.id}`)).body, { items: [] });
    });

    test('GET calls takes from_time and to_time (Unix seconds) as Fn does; a bad one is a 400', async () => {
      const fnId = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
      const knex = await openKnex(db.url);
      const store = new SqlStore(knex);
      const mk = (id: string, created: string): Call =>
        ({ id, app_id: 'A'.repeat(26), fn_id: fnId, status: 'success', created_at: created, completed_at: created, stats: [] });
      // Ids begin with their creation time, as Kiln makes them; the last character tells them apart here.
      const idAt = (created: string, n: number) => `${encodeTime(Date.parse(created), 10)}${'0'.repeat(15)}${n}`;
      const calls = [
        mk(idAt('2023-11-14T22:13:19.999Z', 0), '2023-11-14T22:13:19.999Z'), // 1700000000 is 22:13:20
        mk(idAt('2023-11-14T22:13:20.000Z', 1), '2023-11-14T22:13:20.000Z'),
        mk(idAt('2023-11-14T22:13:20.500Z', 2), '2023-11-14T22:13:20.500Z'),
        mk(idAt('2023-11-14T22:13:30.000Z', 3), '2023-11-14T22:13:30.000Z'), // 1700000010
      ];
      try {
        await store.insertCalls(calls.map((c) => ({ call: c, log: '' })));
        const ids = async (q: string) => {
          const r = await req('GET', `/v2/fns/${fnId}/calls${q}`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          return (r.body.items as Call[]).map((c) => c.id.slice(-1));
        };
        assert.deepEqual(await ids(''), ['3', '2', '1', '0']);
        assert.deepEqual(await ids('?from_time=1700000000'), ['3', '2'], 'created after from_time');
        assert.deepEqual(await ids('?to_time=1700000010'), ['2', '1', '0'], 'created before to_time');
        assert.deepEqual(await ids('?from_time=1699999999&to_time=1700000001'), ['2', '1', '0']);
        assert.deepEqual(await ids('?from_time=%2B1700000000&to_time=99999999999999999999'), ['3', '2'], 'a sign, and a bound past year 9999');
        assert.deepEqual(await ids('?from_time=-99999999999999&to_time=1700000000'), ['0']);
        assert.deepEqual(await ids('?from_time=1700000000&per_page=1'), ['3']);
        for (const [q, name] of [['from_time=yesterday', 'from_time'], ['to_time=1.5', 'to_time'], ['from_time=2023-11-14T22:13:20Z', 'from_time'], ['to_time=1&to_time=2', 'to_time']] as const) {
          const r = await req('GET', `/v2/fns/${fnId}/calls?${q}`);
          assert.equal(r.status, 400, q);
          assert.match(r.body.message, new RegExp(`^Invalid ${name}`), q);
        }
      } finally {
        await knex('calls').where({ fn_id: fnId }).delete();
        await store.close();
      }
    });

    test('a request with no Host (HTTP/1.0) gets endpoints at the address and port it reached', async () => {
      const app = (await req('POST', '/v2/apps', { name: 'nohost' })).body;
      const fn = (await req('POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'i' })).body;
      const { port } = new URL(srv.url);
      const text = await fetchRaw(Number(port), `GET /v2/fns/${fn.id} HTTP/1.0\r\n\r\n`);
      assert.match(text, /^HTTP\/1\.1 200 /);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { annotations: Record<string, string> };
      assert.equal(body.annotations['fnproject.io/fn/invokeEndpoint'], `http://127.0.0.1:${port}/invoke/${fn.id}`);
      const emptyHost = await fetchRaw(Number(port), `GET /v2/fns/${fn.id} HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n`);
      const again = JSON.parse(emptyHost.slice(emptyHost.indexOf('\r\n\r\n') + 4)) as { annotations: Record<string, string> };
      assert.equal(again.annotations['fnproject.io/fn/invokeEndpoint'], `http://127.0.0.1:${port}/invoke/${fn.id}`, 'an empty Host (HTTP/1.1) too');
    });

    test('FN_PUBLIC_LB_URL sets the endpoint base', async () => {
      const other = await startServer(db.url, { FN_PUBLIC_LB_URL: 'https://fns.example.com/' });
      try {
        const app = (await call(other.url, 'POST', '/v2/apps', { name: 'lb' })).body;
        const fn = (await call(other.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'i' })).body;
        assert.equal(fn.annotations['fnproject.io/fn/invokeEndpoint'], `https://fns.example.com/invoke/${fn.id}`);
      } finally {
        await other.stop();
      }
    });
  });
}
