// What MySQL would do differently if let be, held the same on every backend: names and ids that
// differ only in case (MySQL's default collations ignore case), bytewise order and paging,
// trailing spaces (utf8mb4_bin pads), millisecond timestamps, 1 MiB logs (TEXT holds 64 KiB;
// a statement at most max_allowed_packet), unique violations, updates that change nothing
// (MySQL counts changed rows unless asked for found ones), foreign-key violations, cascades.
// Then MySQL's own: Fn's DSN form on a real server, a trigger source longer than MySQL stores,
// strict sessions.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { idFactory } from '../../api/ids.js';
import { MYSQL_SOURCE_LENGTH } from '../../migrations/0001_initial.js';
import { ConflictError, NotFoundError, type Entity } from '../../store/errors.js';
import knexFactory from 'knex';
import { knexConfigFor, MYSQL_SESSION_SQL, openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { App, Call, Fn, Trigger } from '../../store/types.js';
import { backends, mysqlDb, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const newId = idFactory();
const TS = '2024-02-29T23:59:59.999Z';

const app = (name: string, fields: Partial<App> = {}): App => ({
  id: newId(), name, config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: TS, updated_at: TS, ...fields,
});
const fn = (appId: string, name: string): Fn => ({
  id: newId(), name, app_id: appId, image: 'img', memory: 128, timeout: 30, idle_timeout: 30, format: 'http-stream',
  config: {}, annotations: {}, created_at: TS, updated_at: TS,
});
const trigger = (f: Fn, name: string, source: string): Trigger => ({
  id: newId(), name, app_id: f.app_id, fn_id: f.id, type: 'http', source, annotations: {}, created_at: TS, updated_at: TS,
});

/** A NotFoundError for `entity` with Fn's message. */
const notFound = (entity: Entity, message: string) => (err: unknown): boolean => {
  assert.ok(err instanceof NotFoundError, `a NotFoundError, not ${String(err)}`);
  assert.deepEqual([err.entity, err.message], [entity, message]);
  return true;
};

const aCall = (fnId: string, fields: Partial<Call> = {}): Call => ({
  id: newId(), app_id: 'A'.repeat(26), fn_id: fnId, status: 'success', created_at: TS, stats: [], ...fields,
});

/** Exactly `bytes` bytes of UTF-8 that escaping and narrow character sets get wrong. */
function awkwardText(bytes: number, seed: string): string {
  const unit = `${seed} line with 'quotes', "doubles", \`ticks\`, back\\slashes, tabs\t, é, 漢字, 🔥 and \r\n`;
  let s = unit.repeat(Math.floor(bytes / Buffer.byteLength(unit)));
  s += 'x'.repeat(bytes - Buffer.byteLength(s));
  assert.equal(Buffer.byteLength(s), bytes);
  return s;
}

/** Every item of a list, following next_cursor with `perPage` a page. */
async function listAll(base: string, path: string, perPage: number): Promise<{ id: string; name: string }[]> {
  const items: { id: string; name: string }[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await call(base, 'GET', `${path}${sep}per_page=${perPage}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    items.push(...r.body.items);
    cursor = r.body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('pagination did not end');
}

for (const backend of backends) {
  describe(`backend parity through the API on ${backend.name}`, () => {
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

    test("a trigger source past what the database's unique index holds is a 400 that writes nothing (SQLite holds any)", async () => {
      const a = (await req('POST', '/v2/apps', { name: 'index-limit' })).body;
      const f = (await req('POST', '/v2/fns', { name: 'f', app_id: a.id, image: 'img' })).body;
      // Random, so PostgreSQL cannot compress it under its b-tree row limit (about 2.7 KB).
      const source = `/${randomBytes(3000).toString('base64url').slice(0, 3999)}`;
      const body = { name: 't', app_id: a.id, fn_id: f.id, type: 'http', source };
      const r = await req('POST', '/v2/triggers', body);
      if (backend.name === 'sqlite') {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return;
      }
      assert.deepEqual([r.status, r.body], [400, { message: 'Trigger source is too long for this database' }]);
      assert.deepEqual((await req('GET', `/v2/triggers?app_id=${a.id}`)).body.items, []);
      const ok = await req('POST', '/v2/triggers', { ...body, source: '/short' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const put = await req('PUT', `/v2/triggers/${ok.body.id}`, { source });
      assert.deepEqual([put.status, put.body], [400, { message: 'Trigger source is too long for this database' }]);
      assert.equal((await req('GET', `/v2/triggers/${ok.body.id}`)).body.source, '/short');
    });

    test('names differing only in case are distinct, found exactly, and listed and paged bytewise', async () => {
      const names = ['b', 'A', 'a', 'B', 'ab', 'aB', 'Ab', 'AB', '_x', '-y', 'Z', 'z', '0', 'a-', 'a_'];
      // JavaScript compares UTF-16 code units: for ASCII, the byte order SQLite and PostgreSQL's "C" use.
      const sorted = [...names].sort();
      const apps = new Map<string, { id: string; name: string }>();
      for (const name of names) {
        const r = await req('POST', '/v2/apps', { name });
        assert.equal(r.status, 200, `app ${name}: ${JSON.stringify(r.body)}`);
        apps.set(name, r.body);
      }
      for (const name of names) {
        const r = await req('GET', `/v2/apps?name=${name}`);
        assert.deepEqual(r.body.items.map((a: { id: string }) => a.id), [apps.get(name)?.id], `?name=${name}`);
      }
      const listed = (await listAll(srv.url, '/v2/apps', 100)).map((a) => a.name).filter((n) => names.includes(n));
      assert.deepEqual(listed, sorted);

      // An id is found as written only.
      const id = apps.get('a')?.id ?? '';
      assert.equal((await req('GET', `/v2/apps/${id.toLowerCase()}`)).status, 404);
      assert.equal((await req('GET', `/v2/apps/${id}`)).status, 200);

      // Fns of one app page by name alone (the cursor compares names as the list orders them).
      const appId = apps.get('A')?.id;
      for (const name of names) {
        const r = await req('POST', '/v2/fns', { name, app_id: appId, image: 'img' });
        assert.equal(r.status, 200, `fn ${name}: ${JSON.stringify(r.body)}`);
      }
      for (const perPage of [1, 2, 4, 30]) {
        const fns = await listAll(srv.url, `/v2/fns?app_id=${appId}`, perPage);
        assert.deepEqual(fns.map((f) => f.name), sorted, `per_page=${perPage}`);
      }
    });

    test('a duplicate name is a 409 and writes nothing; its case variant is not a duplicate', async () => {
      assert.equal((await req('POST', '/v2/apps', { name: 'dup' })).status, 200);
      const again = await req('POST', '/v2/apps', { name: 'dup' });
      assert.equal(again.status, 409);
      assert.deepEqual(again.body, { message: 'App already exists' });
      assert.equal((await req('POST', '/v2/apps', { name: 'DUP' })).status, 200);
      assert.equal((await req('GET', '/v2/apps?name=dup')).body.items.length, 1);

      const appId = (await req('GET', '/v2/apps?name=dup')).body.items[0].id;
      const f = (await req('POST', '/v2/fns', { name: 'f', app_id: appId, image: 'img' })).body;
      const dupFn = await req('POST', '/v2/fns', { name: 'f', app_id: appId, image: 'other' });
      assert.equal(dupFn.status, 409);
      assert.deepEqual(dupFn.body, { message: 'Fn with specified name already exists' });
      assert.equal((await req('POST', '/v2/fns', { name: 'F', app_id: appId, image: 'img' })).status, 200);

      const t = { app_id: appId, fn_id: f.id, type: 'http' };
      assert.equal((await req('POST', '/v2/triggers', { ...t, name: 't', source: '/s' })).status, 200);
      const dupName = await req('POST', '/v2/triggers', { ...t, name: 't', source: '/other' });
      assert.deepEqual([dupName.status, dupName.body], [409, { message: 'Trigger already exists' }]);
      const dupSource = await req('POST', '/v2/triggers', { ...t, name: 't2', source: '/s' });
      assert.deepEqual([dupSource.status, dupSource.body], [409, { message: 'Trigger with the same type and source exists on this app' }]);
      assert.equal((await req('POST', '/v2/triggers', { ...t, name: 'T', source: '/S' })).status, 200, 'case variants are new');
      const triggers = (await req('GET', `/v2/triggers?app_id=${appId}`)).body.items;
      assert.deepEqual(triggers.map((x: Trigger) => [x.name, x.source]), [['T', '/S'], ['t', '/s']]);
    });
  });

  describe(`backend parity in the store on ${backend.name}`, () => {
    let db: TestDb;
    let knex: Knex;
    let store: SqlStore;

    before(async () => {
      db = await backend.create();
      knex = await openKnex(db.url);
      store = new SqlStore(knex);
    });
    after(async () => {
      await store?.close();
      await db?.cleanup();
    });

    test('timestamps read back as the RFC 3339 strings written, milliseconds included', async () => {
      const a = app('stamped', { created_at: '2024-01-02T03:04:05.001Z', updated_at: '2024-12-31T23:59:59.999Z' });
      await store.insertApp(a);
      assert.deepEqual(await store.getApp(a.id), a);
      const c = aCall(newId(), {
        created_at: '2024-01-02T03:04:05.000Z', started_at: '2024-01-02T03:04:05.010Z', completed_at: '2024-01-02T03:04:06.999Z',
        stats: [{ timestamp: '2024-01-02T03:04:05.500Z', metrics: { mem_usage: 1 } }],
      });
      await store.insertCall(c);
      assert.deepEqual(await store.getCall(c.fn_id, c.id), c);
      const done = { ...c, completed_at: '2024-01-02T03:04:07.123Z', status: 'error' as const, error: 'boom' };
      await store.updateCall(done);
      assert.deepEqual(await store.getCall(c.fn_id, c.id), done);
    });

    test('1 MiB logs round-trip byte for byte, one at a time and 20 in one batch', async () => {
      const MiB = 1024 * 1024;
      const fnId = newId();
      const one = aCall(fnId);
      await store.insertCall(one);
      const log = awkwardText(MiB, 'single');
      await store.insertLog(fnId, one.id, log);
      assert.equal(await store.getLog(fnId, one.id), log);
      const replaced = awkwardText(MiB, 'replaced');
      await store.insertLog(fnId, one.id, replaced);
      assert.equal(await store.getLog(fnId, one.id), replaced);

      // 20 MiB in one batch: more than MariaDB's default max_allowed_packet (16 MiB) in one statement.
      const batch = Array.from({ length: 20 }, (_, i) => ({ call: aCall(fnId), log: awkwardText(MiB, `batch ${i}`) }));
      await store.insertCalls(batch);
      for (const r of batch) assert.equal(await store.getLog(fnId, r.call.id), r.log, `log of call ${r.call.id}`);
      const listed = await store.listCalls({ fnId, perPage: 100 });
      assert.equal(listed.items.length, 21);
    });

    test('a unique violation is a ConflictError', async () => {
      await store.insertApp(app('unique'));
      await assert.rejects(store.insertApp(app('unique')), (err) => err instanceof ConflictError && err.message === 'App already exists');
      await store.insertApp(app('UNIQUE'));
    });

    // A foreign-key violation: the parent deleted (straight SQL, as another node) after the API's check.
    test('a fn whose app is gone: App not found', async () => {
      const a = app('fn-app-gone');
      await store.insertApp(a);
      await knex('apps').where({ id: a.id }).delete();
      await assert.rejects(store.insertFn(fn(a.id, 'f')), notFound('app', 'App not found'));
    });

    test('a trigger whose app is gone: App not found', async () => {
      const a = app('trigger-app-gone');
      await store.insertApp(a);
      const f = fn(a.id, 'f');
      await store.insertFn(f);
      await knex('apps').where({ id: a.id }).delete(); // and with it, by cascade, the fn
      await assert.rejects(store.insertTrigger(trigger(f, 't', '/t')), notFound('app', 'App not found'));
    });

    test('a trigger whose fn is gone: Fn not found', async () => {
      const a = app('trigger-fn-gone');
      await store.insertApp(a);
      const f = fn(a.id, 'f');
      await store.insertFn(f);
      await knex('fns').where({ id: f.id }).delete();
      await assert.rejects(store.insertTrigger(trigger(f, 't', '/t')), notFound('fn', 'Fn not found'));
    });

    test('a trigger moved to a fn that is gone: Fn not found, and the trigger is left as it was', async () => {
      const a = app('trigger-moved');
      await store.insertApp(a);
      const [f1, f2] = [fn(a.id, 'f1'), fn(a.id, 'f2')];
      await store.insertFn(f1);
      await store.insertFn(f2);
      const t = trigger(f1, 't', '/t');
      await store.insertTrigger(t);
      await knex('fns').where({ id: f2.id }).delete();
      await assert.rejects(store.updateTrigger(t.id, (cur) => ({ ...cur, fn_id: f2.id })), notFound('fn', 'Fn not found'));
      assert.deepEqual(await store.getTrigger(t.id), t);
    });

    test('ids and trigger sources match exactly: no case folding, no trailing-space padding', async () => {
      const a = app('exact');
      await store.insertApp(a);
      await assert.rejects(store.getApp(a.id.toLowerCase()), NotFoundError);
      await assert.rejects(store.getAppByName('EXACT'), NotFoundError);
      await assert.rejects(store.getAppByName('exact '), NotFoundError);
      const f = fn(a.id, 'f');
      await store.insertFn(f);
      const plain = trigger(f, 'plain', '/p');
      const spaced = trigger(f, 'spaced', '/p ');
      const upper = trigger(f, 'upper', '/P');
      for (const t of [plain, spaced, upper]) await store.insertTrigger(t);
      assert.equal((await store.getTriggerBySource(a.id, 'http', '/p')).id, plain.id);
      assert.equal((await store.getTriggerBySource(a.id, 'http', '/p ')).id, spaced.id);
      assert.equal((await store.getTriggerBySource(a.id, 'http', '/P')).id, upper.id);
      await assert.rejects(store.getTriggerBySource(a.id, 'http', '/p  '), NotFoundError);
    });

    test('an update that changes nothing still finds its row', async () => {
      const a = app('unchanged');
      await store.insertApp(a);
      await store.updateApp(a.id, (cur) => cur);
      await store.updateApp(a.id, (cur) => cur);
      const f = fn(a.id, 'f');
      await store.insertFn(f);
      await store.updateFn(f.id, (cur) => cur);
      const c = aCall(f.id);
      await store.insertCall(c);
      await store.updateCall(c);
      await assert.rejects(store.updateApp(app('missing').id, (cur) => cur), notFound('app', 'App not found'));
    });

    test("deleting an app's row cascades to its fns and triggers (foreign keys)", async () => {
      const a = app('cascade');
      await store.insertApp(a);
      const f = fn(a.id, 'f');
      await store.insertFn(f);
      await store.insertTrigger(trigger(f, 't', '/cascade'));
      // Straight SQL, past the store's own explicit deletes.
      await knex('apps').where({ id: a.id }).delete();
      assert.equal((await knex('fns').where({ app_id: a.id })).length, 0);
      assert.equal((await knex('triggers').where({ app_id: a.id })).length, 0);
    });
  });
}

describe('MySQL only', () => {
  let db: TestDb;
  before(async () => {
    db = await mysqlDb();
  });
  after(async () => {
    await db?.cleanup();
  });

  test("Fn's DSN form, mysql://user:pass@tcp(host:port)/db?parseTime=true, opens the same database as the URL", async () => {
    const u = new URL(db.url);
    const dsn = `mysql://${u.username}:${u.password}@tcp(${u.hostname}:${u.port || 3306})${u.pathname}?parseTime=true&loc=UTC`;
    const viaDsn = new SqlStore(await openKnex(dsn));
    const viaUrl = new SqlStore(await openKnex(db.url));
    try {
      const a = app('from-dsn');
      await viaDsn.insertApp(a);
      assert.deepEqual(await viaUrl.getApp(a.id), a);
      const b = app('from-url');
      await viaUrl.insertApp(b);
      assert.deepEqual(await viaDsn.getAppByName('from-url'), b);
    } finally {
      await viaDsn.close();
      await viaUrl.close();
    }
  });

  test('a trigger source longer than MySQL stores is a 400 that writes nothing', async () => {
    const srv = await startServer(db.url);
    try {
      const a = (await call(srv.url, 'POST', '/v2/apps', { name: 'long-source' })).body;
      const f = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: a.id, image: 'img' })).body;
      const body = { name: 't', app_id: a.id, fn_id: f.id, type: 'http' };
      const longest = `/${'x'.repeat(MYSQL_SOURCE_LENGTH - 1)}`;
      const tooLong = `${longest}y`;
      const r = await call(srv.url, 'POST', '/v2/triggers', { ...body, source: tooLong });
      assert.deepEqual([r.status, r.body], [400, { message: 'Trigger source is too long for this database' }]);
      assert.deepEqual((await call(srv.url, 'GET', `/v2/triggers?app_id=${a.id}`)).body.items, []);

      const ok = await call(srv.url, 'POST', '/v2/triggers', { ...body, source: longest });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const put = await call(srv.url, 'PUT', `/v2/triggers/${ok.body.id}`, { source: tooLong });
      assert.deepEqual([put.status, put.body], [400, { message: 'Trigger source is too long for this database' }]);
      assert.equal((await call(srv.url, 'GET', `/v2/triggers/${ok.body.id}`)).body.source, longest);
    } finally {
      await srv.stop();
    }
  });

  test("a server defaulting to NO_BACKSLASH_ESCAPES: sessions drop it, so a quote in a value cannot end the string", async () => {
    await (await openKnex(db.url)).destroy(); // the schema
    const config = knexConfigFor(db.url);
    type Conn = { query(sql: string, cb: (err: Error | null) => void): unknown };
    // Each connection starts as the server would hand it over (the mode set), then Kiln's session SQL runs.
    const knex = knexFactory({
      ...config,
      pool: {
        min: 0, max: 1,
        afterCreate: (conn: Conn, done: (err: Error | null, c: unknown) => void) => {
          conn.query("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,ANSI_QUOTES'", (err) =>
            err ? done(err, conn) : conn.query(MYSQL_SESSION_SQL, (e) => done(e, conn)));
        },
      },
    });
    const store = new SqlStore(knex);
    try {
      const [rows] = (await knex.raw('SELECT @@SESSION.sql_mode AS mode')) as [{ mode: string }[]];
      assert.deepEqual((rows[0]?.mode ?? '').split(',').sort(), ['ANSI_QUOTES', 'STRICT_ALL_TABLES']);
      const a = app('quotes', { config: { A: "x\\', (SELECT @@version)) -- " }, annotations: { b: "it's \\\" there" } });
      await store.insertApp(a);
      const back = await store.getApp(a.id);
      assert.deepEqual([back.config, back.annotations], [a.config, a.annotations]);
    } finally {
      await store.close();
    }
  });

  test('tables are InnoDB with a binary no-pad collation, and sessions are strict', async () => {
    const knex = await openKnex(db.url);
    try {
      const tables = (await knex('information_schema.TABLES')
        .select({ name: 'TABLE_NAME', engine: 'ENGINE', collation: 'TABLE_COLLATION' })
        .where({ TABLE_SCHEMA: knex.raw('DATABASE()') })
        .whereIn('TABLE_NAME', ['apps', 'fns', 'triggers', 'calls', 'call_logs'])
        .orderBy('TABLE_NAME')) as { name: string; engine: string; collation: string }[];
      assert.equal(tables.length, 5);
      for (const t of tables) {
        assert.equal(t.engine, 'InnoDB', t.name);
        assert.match(t.collation, /^utf8mb4_(nopad|0900)_bin$/, t.name);
      }
      const [rows] = (await knex.raw('SELECT @@SESSION.sql_mode AS mode')) as [{ mode: string }[]];
      assert.match(rows[0]?.mode ?? '', /STRICT_ALL_TABLES/);
    } finally {
      await knex.destroy();
    }
  });
});
