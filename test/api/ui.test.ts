// The web view's static files at /ui/, from a real server on a real SQLite file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadUiAssets, UiMissingError } from '../../api/routes/ui.js';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

describe('web view at /ui/', () => {
  let db: TestDb;
  let srv: TestServer;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(srv.url + path, { headers, redirect: 'manual' });

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url);
  });
  after(async () => {
    await srv?.stop();
    await db?.cleanup();
  });

  test('/ui/ is the page, which loads the bundle and the stylesheet from beside it', async () => {
    const res = await get('/ui/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    const html = await res.text();
    assert.match(html, /<script src="app\.js" defer><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="app\.css">/);
    assert.match(html, /<main id="main"/);
    // No external network: nothing is loaded from another host.
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    assert.equal((await get('/ui/index.html')).status, 200);
  });

  test('the bundle and the stylesheet have their content types, lengths and ETags', async () => {
    for (const [path, type, sample] of [
      ['/ui/app.js', 'text/javascript; charset=utf-8', 'hashchange'],
      ['/ui/app.css', 'text/css; charset=utf-8', '.status-success'],
    ] as const) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      const text = await res.text();
      assert.ok(text.includes(sample), `${path} has ${sample}`);
      assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(text), path);
      const etag = res.headers.get('etag');
      assert.match(etag ?? '', /^"[A-Za-z0-9_-]+"$/, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache', path);
      assert.equal(res.headers.get('content-security-policy'), null, 'the policy is the page’s');

      const again = await get(path, { 'if-none-match': etag! });
      assert.equal(again.status, 304, `${path} revalidates`);
      assert.equal(await again.text(), '');
      assert.equal((await get(path, { 'if-none-match': '"other"' })).status, 200);
    }
  });

  test('HEAD answers the headers alone', async () => {
    const res = await fetch(`${srv.url}/ui/app.js`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.ok(Number(res.headers.get('content-length')) > 1000);
    assert.equal(await res.text(), '');
  });

  test('/ui redirects to /ui/, keeping the query', async () => {
    const res = await get('/ui');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/ui/');
    assert.equal((await get('/ui?x=1')).headers.get('location'), '/ui/?x=1');
  });

  test('unknown files under /ui/ are 404 with Kiln’s error body', async () => {
    for (const path of ['/ui/nope.js', '/ui/format.js', '/ui/api.js', '/ui/%', '/ui/app.js.map', '/ui/web/format.js', '/ui/..%2Fapi%2Fmain.js', '/ui/views/', '/ui/app.js/x']) {
      const r = await call(srv.url, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.deepEqual(r.body, { message: `Path not found: GET ${path}` }, path);
    }
  });

  test('a file with a method other than GET or HEAD is 405', async () => {
    const r = await call(srv.url, 'POST', '/ui/app.js', 'x');
    assert.equal(r.status, 405);
    assert.deepEqual(r.body, { message: 'Method not allowed: POST /ui/app.js' });
  });

  test('the API is unchanged beside it', async () => {
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'beside-ui' });
    assert.equal(app.status, 200);
    assert.equal((await call(srv.url, 'GET', `/v2/apps/${app.body.id}`)).body.name, 'beside-ui');
    assert.deepEqual((await call(srv.url, 'GET', '/bogus')).body, { message: 'Path not found: GET /bogus' });
    assert.deepEqual((await call(srv.url, 'GET', '/')).body, { goto: '/v2/apps', hello: 'world!' });
  });
});

test('KILN_UI=false: /ui/ and /ui are 404 like any unknown path, and the API works', async () => {
  const db = await sqliteDb();
  const srv = await startServer(db.url, { KILN_UI: 'false' });
  try {
    for (const path of ['/ui/', '/ui', '/ui/app.js']) {
      const r = await call(srv.url, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.deepEqual(r.body, { message: `Path not found: GET ${path}` });
    }
    assert.equal((await call(srv.url, 'GET', '/v2/apps')).status, 200);
  } finally {
    await srv.stop();
    await db.cleanup();
  }
});

test('loadUiAssets names the file a directory lacks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ui-'));
  try {
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    assert.throws(() => loadUiAssets(dir), (err: unknown) => {
      assert.ok(err instanceof UiMissingError);
      assert.match(err.message, /app\.js is missing \(run `npm run build`\)/);
      return true;
    });
    writeFileSync(join(dir, 'app.js'), '1');
    writeFileSync(join(dir, 'app.css'), 'a{}');
    const assets = loadUiAssets(dir);
    assert.deepEqual([...assets.keys()].sort(), ['app.css', 'app.js', 'index.html']);
    assert.equal(assets.get('app.css')!.body.toString(), 'a{}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
