// Walking lists of more than 100 items with per_page and cursor, as the fn CLI does.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

interface Named { id: string; name: string }

/** Follows next_cursor until it is absent; returns every page's items. */
async function walk(base: string, path: string, perPage?: number): Promise<{ pages: Named[][]; cursors: string[] }> {
  const pages: Named[][] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const q = [perPage ? `per_page=${perPage}` : '', cursor ? `cursor=${cursor}` : ''].filter(Boolean).join('&');
    const r = await call(base, 'GET', q ? `${path}${sep}${q}` : path);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages.push(r.body.items);
    cursor = r.body.next_cursor;
    if (!cursor) return { pages, cursors };
    cursors.push(cursor);
  }
  throw new Error('pagination did not end');
}

const pad = (i: number) => String(i).padStart(3, '0');

for (const backend of backends) {
  describe(`pagination on ${backend.name}`, () => {
    let db: TestDb;
    let srv: TestServer;
    let appId: string;
    const fnIds: string[] = [];
    const fnNames: string[] = [];

    before(async () => {
      db = await backend.create();
      srv = await startServer(db.url);
      // Created out of order, to show lists come back ordered by name, not by creation.
      const order = Array.from({ length: 130 }, (_, i) => (i * 37) % 130);
      for (const i of order) await call(srv.url, 'POST', '/v2/apps', { name: `app-${pad(i)}` });
      appId = (await call(srv.url, 'GET', '/v2/apps?name=app-000')).body.items[0].id;
      for (const i of order.slice(0, 105)) {
        const fn = (await call(srv.url, 'POST', '/v2/fns', { name: `fn-${pad(i)}`, app_id: appId, image: 'i' })).body;
        fnIds.push(fn.id);
        fnNames.push(fn.name);
      }
    });
    after(async () => {
      await srv?.stop();
      await db?.cleanup();
    });

    test('apps: default page of 30, ordered by name, cursor is base64url of the last name', async () => {
      const { pages, cursors } = await walk(srv.url, '/v2/apps');
      assert.deepEqual(pages.map((p) => p.length), [30, 30, 30, 30, 10]);
      const names = pages.flat().map((a) => a.name);
      assert.deepEqual(names, Array.from({ length: 130 }, (_, i) => `app-${pad(i)}`));
      assert.equal(cursors[0], Buffer.from('app-029').toString('base64url'));
    });

    test('apps: per_page 100 gives 100 then 30', async () => {
      const { pages } = await walk(srv.url, '/v2/apps', 100);
      assert.deepEqual(pages.map((p) => p.length), [100, 30]);
    });

    test('per_page as Fn reads it: over 100 is 100, zero, negative or not a number is 30', async () => {
      const sizes: [string, number][] = [['101', 100], ['5000', 100], ['0', 30], ['-3', 30], ['ten', 30]];
      for (const [perPage, want] of sizes) {
        const r = await call(srv.url, 'GET', `/v2/apps?per_page=${perPage}`);
        assert.equal(r.status, 200, `per_page=${perPage}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.items.length, want, `per_page=${perPage}`);
      }
    });

    test('a full last page is followed by an empty one, as in Fn', async () => {
      const { pages } = await walk(srv.url, '/v2/apps', 65);
      assert.deepEqual(pages.map((p) => p.length), [65, 65, 0]);
    });

    test('fns of an app: 105 over pages of 100 and of 7', async () => {
      const big = await walk(srv.url, `/v2/fns?app_id=${appId}`, 100);
      assert.deepEqual(big.pages.map((p) => p.length), [100, 5]);
      const small = await walk(srv.url, `/v2/fns?app_id=${appId}`, 7);
      assert.equal(small.pages.length, 16, '15 full pages, then the empty page after a full one');
      assert.equal(small.pages[15]?.length, 0);
      const names = small.pages.flat().map((f) => f.name);
      assert.deepEqual(names, [...fnNames].sort());
      assert.equal(new Set(small.pages.flat().map((f) => f.id)).size, 105);
    });

    test('triggers with the same name on different fns page without loss', async () => {
      for (let i = 0; i < 12; i++) {
        const r = await call(srv.url, 'POST', '/v2/triggers', {
          name: 'same', app_id: appId, fn_id: fnIds[i], type: 'http', source: `/s${i}`,
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      const { pages } = await walk(srv.url, `/v2/triggers?app_id=${appId}`, 5);
      assert.deepEqual(pages.map((p) => p.length), [5, 5, 2]);
      assert.equal(new Set(pages.flat().map((t) => t.id)).size, 12);
    });

    test('order is by bytes on every backend (upper case before lower, - before _)', async () => {
      const names = ['b', 'B', 'a_1', 'a-1', 'A', '_z', '-z', '9'];
      for (const name of names) await call(srv.url, 'POST', '/v2/fns', { name, app_id: appId, image: 'i' });
      const items = (await call(srv.url, 'GET', `/v2/fns?app_id=${appId}&per_page=100`)).body.items as Named[];
      const got = items.map((f) => f.name).filter((n) => names.includes(n));
      assert.deepEqual(got, ['-z', '9', 'A', 'B', '_z', 'a-1', 'a_1', 'b']);
    });

    test('name filter', async () => {
      const r = await call(srv.url, 'GET', `/v2/fns?app_id=${appId}&name=fn-042`);
      assert.deepEqual(r.body.items.map((f: Named) => f.name), ['fn-042']);
    });
  });
}
