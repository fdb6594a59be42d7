// The API server's own request metrics on a real server (SQLite, tokens on): requests that never
// reach the agent (401, 404, a 503 database unavailable) are counted by a fixed route, never by
// path; and KILN_METRICS_TOKENS read /metrics and nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { postgresDb, sqliteDb, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'http-metrics-admin-token-0123';
const SCRAPE = 'http-metrics-scrape-token-0123';
const admin = { authorization: `Bearer ${TOKEN}` };
const scraper = { authorization: `Bearer ${SCRAPE}` };

async function scrapeOf(url: string, headers: Record<string, string> = {}): Promise<{ text: string; values: Map<string, number> }> {
  const res = await fetch(`${url}/metrics`, { headers });
  assert.equal(res.status, 200);
  const text = await res.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { text, values };
}

const requests = (v: Map<string, number>, route: string, method: string, code: number): number =>
  v.get(`kiln_http_requests_total{route="${route}",method="${method}",code="${code}"}`) ?? 0;

describe('kiln_http_requests_total and KILN_METRICS_TOKENS', () => {
  let db: TestDb;
  let srv: TestServer;
  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: TOKEN, KILN_METRICS_TOKENS: SCRAPE });
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  const scrape = () => scrapeOf(srv.url, scraper);

  test('a metrics token reads /metrics; it is refused everywhere else, as a wrong token is', async () => {
    assert.equal((await fetch(`${srv.url}/metrics`, { headers: admin })).status, 200, 'a full token still reads it');
    assert.equal((await fetch(`${srv.url}/metrics`)).status, 401);
    assert.equal((await call(srv.url, 'GET', '/v2/apps', undefined, scraper)).status, 401);
    assert.equal((await call(srv.url, 'POST', '/v2/apps', { name: 'scraped' }, scraper)).status, 401);
    assert.equal((await call(srv.url, 'POST', '/invoke/01J0000000000000000000000X', {}, scraper)).status, 401);
    assert.equal((await call(srv.url, 'POST', '/metrics', '', scraper)).status, 401, 'GET only');
    assert.equal((await call(srv.url, 'GET', '/metrics/', undefined, scraper)).status, 401, 'that path only');
    assert.deepEqual((await call(srv.url, 'GET', '/v2/apps', undefined, admin)).body.items, [], 'nothing was made');
  });

  test('requests refused before any call are counted by route and code, a trigger\'s path never shown', async () => {
    const v0 = (await scrape()).values;
    assert.equal((await call(srv.url, 'POST', '/invoke/01J0000000000000000000000X', {}, admin)).status, 404);
    assert.equal((await call(srv.url, 'POST', '/invoke/01J0000000000000000000000X', {})).status, 401);
    assert.equal((await call(srv.url, 'GET', '/t/no-such-app/tenant-chosen-path-4711')).status, 404);
    assert.equal((await call(srv.url, 'GET', '/v2/apps', undefined, admin)).status, 200);
    const { text, values: v1 } = await scrape();
    assert.equal(requests(v1, 'invoke', 'POST', 404), requests(v0, 'invoke', 'POST', 404) + 1);
    assert.equal(requests(v1, 'invoke', 'POST', 401), requests(v0, 'invoke', 'POST', 401) + 1);
    assert.equal(requests(v1, 'trigger', 'GET', 404), requests(v0, 'trigger', 'GET', 404) + 1);
    assert.equal(requests(v1, 'rest', 'GET', 200), requests(v0, 'rest', 'GET', 200) + 1);
    assert.equal(requests(v1, 'metrics', 'GET', 200), requests(v0, 'metrics', 'GET', 200) + 1, 'the last scrape');
    assert.ok(!text.includes('tenant-chosen-path') && !text.includes('no-such-app') && !text.includes('01J0000000'), 'no path or id in any label');
    const count = (v: Map<string, number>) => v.get('kiln_http_request_duration_seconds_count{route="invoke"}') ?? 0;
    assert.equal(count(v1), count(v0) + 2);
  });
});

describe('kiln_http_requests_total on PostgreSQL', () => {
  let db: TestDb;
  let srv: TestServer;
  before(async () => {
    db = await postgresDb();
    srv = await startServer(db.url, { KILN_DB_TIMEOUT_MSECS: '500' });
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  test('a database outage that fails every invoke shows: 503s on the invoke route, no call', async () => {
    const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'outage' })).body as { id: string };
    const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'kiln-test/none:1' })).body as { id: string };
    const v0 = (await scrapeOf(srv.url)).values;
    // The fn (never invoked, so not cached) cannot be read while its table is locked.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE fns IN ACCESS EXCLUSIVE MODE');
      for (let i = 0; i < 2; i++) {
        const r = await call(srv.url, 'POST', `/invoke/${fn.id}`, {});
        assert.equal(r.status, 503, JSON.stringify(r.body));
      }
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    const v1 = (await scrapeOf(srv.url)).values;
    assert.equal(requests(v1, 'invoke', 'POST', 503), requests(v0, 'invoke', 'POST', 503) + 2);
    assert.equal(v1.get('kiln_calls_total{status="error"}'), v0.get('kiln_calls_total{status="error"}'), 'no call was made');
  });
});
