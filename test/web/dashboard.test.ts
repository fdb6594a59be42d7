// The web view as a browser shows it: happy-dom loads /ui/ from a real Kiln server on a real
// SQLite file, runs the built bundle, and the views render what the API holds. Calls are
// written through the store (no containers needed); everything else through the API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, type BrowserPage } from 'happy-dom';
import { idFactory } from '../../api/ids.js';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { Call } from '../../store/types.js';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { call as request, startServer, type TestServer } from '../helpers/server.js';

const XSS = '<img src=x onerror=alert(1)>';
const LOG = 'hello from the fn\n<script>alert("log")</script><b>not bold</b> & done\n';
const MiB = 1024 * 1024;
const newId = idFactory();

/** The page's DOM (happy-dom's types, which the server's tsconfig has no DOM lib for). */
type Doc = BrowserPage['mainFrame']['document'];

// A bound on the whole, so a page that never renders fails rather than hangs.
describe('web view in a browser', { timeout: 120_000 }, () => {
  let db: TestDb;
  let srv: TestServer;
  let browser: Browser;
  let page: BrowserPage;
  let appId: string;
  let fnId: string;
  let callId: string;
  const doc = (): Doc => page.mainFrame.document;
  const main = () => doc().getElementById('main')!;
  const text = (selector: string): string => doc().querySelector(selector)?.textContent ?? '';

  /** Waits until the page has rendered a view other than `previous`. */
  async function rendered(previous?: unknown): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await page.waitUntilComplete();
      const m = main();
      if (!m.hasAttribute('aria-busy') && m.firstElementChild && m.firstElementChild !== previous) return;
      if (Date.now() > deadline) throw new Error(`the view did not render: ${m.textContent}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Goes to a hash route, as a click on a link would, and waits for the view. */
  async function go(hash: string): Promise<void> {
    const previous = main().firstElementChild;
    page.mainFrame.window.location.hash = hash;
    await rendered(previous);
  }

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url);

    const app = await request(srv.url, 'POST', '/v2/apps', { name: 'shop', config: { GREETING: XSS }, annotations: { 'example.com/note': XSS } });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    appId = app.body.id;
    const fn = await request(srv.url, 'POST', '/v2/fns', {
      name: 'checkout', app_id: appId, image: 'kiln-test/no-such-image:0.0.1', memory: 256, timeout: 12, config: { NOTE: XSS },
    });
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    fnId = fn.body.id;
    const trigger = await request(srv.url, 'POST', '/v2/triggers', { name: 'pay', app_id: appId, fn_id: fnId, type: 'http', source: '/pay' });
    assert.equal(trigger.status, 200, JSON.stringify(trigger.body));
    // One page of apps and one more, so the list has a next page.
    for (let i = 0; i < 30; i++) assert.equal((await request(srv.url, 'POST', '/v2/apps', { name: `zz-${String(i).padStart(2, '0')}` })).status, 200);

    // 35 calls (a page and some); the newest has stats, an error and a log with HTML in it.
    const store = new SqlStore(await openKnex(db.url));
    try {
      const t0 = Date.parse('2024-05-01T12:00:00.000Z');
      const iso = (ms: number) => new Date(t0 + ms).toISOString();
      const calls: { call: Call; log: string }[] = [];
      for (let i = 0; i < 35; i++) {
        calls.push({
          call: {
            id: newId(), app_id: appId, fn_id: fnId, status: 'success', stats: [],
            created_at: iso(i * 10_000), started_at: iso(i * 10_000 + 5), completed_at: iso(i * 10_000 + 1255),
          },
          log: '',
        });
      }
      callId = newId();
      calls.push({
        call: {
          id: callId, app_id: appId, fn_id: fnId, status: 'error', error: `failed: ${XSS}`,
          created_at: iso(400_000), started_at: iso(400_010), completed_at: iso(403_010),
          stats: [0, 1, 2, 3].map((s) => ({
            timestamp: iso(400_010 + s * 1000),
            metrics: {
              cpu_user: s * 3e8, cpu_kernel: s * 1e8, cpu_total: s * 4e8,
              mem_usage: (10 + s * 5) * MiB, mem_limit: 256 * MiB,
              net_rx: s * 2048, net_tx: s * 512, disk_read: 0, disk_write: 0,
            },
          })),
        },
        log: LOG,
      });
      await store.insertCalls(calls);
    } finally {
      await store.close();
    }

    browser = new Browser({
      settings: {
        // Runs the page's own bundle, served by the server under test.
        enableJavaScriptEvaluation: true,
        suppressInsecureJavaScriptEnvironmentWarning: true,
      },
    });
    page = browser.newPage();
    await page.goto(`${srv.url}/ui/`);
    await rendered();
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
    await db?.cleanup();
  });

  test('the apps list shows the app, linked, and pages on by cursor', async () => {
    assert.equal(doc().title, 'Apps · Kiln');
    const shop = [...doc().querySelectorAll('main table a')].find((a) => a.textContent === 'shop');
    assert.ok(shop, main().textContent);
    assert.equal(shop.getAttribute('href'), `#/apps/${appId}`);
    assert.match(main().textContent, new RegExp(appId));
    assert.equal(doc().querySelectorAll('main tbody tr').length, 30);
    assert.match(text('#version'), /^v\d+\.\d+\.\d+/);

    const next = doc().querySelector('.pager a');
    assert.equal(next?.textContent, 'next page »');
    await go(next!.getAttribute('href')!);
    const names = [...doc().querySelectorAll('main tbody tr td:first-child')].map((td) => td.textContent);
    assert.deepEqual(names, ['zz-29'], 'the second page has the one app left');
    assert.equal(doc().querySelector('.pager a')?.textContent, '« first page');
  });

  test('an app shows its fns and triggers, with the trigger endpoint as a link; its config is text', async () => {
    await go(`#/apps/${appId}`);
    assert.equal(doc().title, 'App shop · Kiln');
    const fnRow = doc().querySelector('main section:nth-of-type(1) tbody tr');
    const cells = [...fnRow!.querySelectorAll('td')].map((td) => td.textContent);
    assert.deepEqual(cells, ['checkout', 'kiln-test/no-such-image:0.0.1', 'http-stream', '256 MB', '12 s']);

    const trig = [...doc().querySelector('main section:nth-of-type(2) tbody tr')!.querySelectorAll('td')];
    assert.deepEqual(trig.slice(0, 4).map((td) => td.textContent), ['pay', 'checkout', '/pay', 'http']);
    const endpoint = trig[4]!.querySelector('a');
    assert.equal(endpoint?.getAttribute('href'), `${srv.url}/t/shop/pay`);
    // A function's page opens apart from the view, with no way back to it (window.opener).
    assert.equal(endpoint?.getAttribute('target'), '_blank');
    assert.deepEqual(endpoint?.getAttribute('rel')?.split(' ').sort(), ['noopener', 'noreferrer']);

    assert.ok(main().textContent.includes(XSS), 'the config value shows as text');
    assert.equal(doc().querySelector('img'), null, 'and made no element');
  });

  test('a fn shows its settings, invoke endpoint and a page of calls with statuses and durations', async () => {
    await go(`#/fns/${fnId}`);
    assert.equal(doc().title, 'Function checkout · Kiln');
    const fields = Object.fromEntries(
      [...doc().querySelectorAll('main table.fields tr')].map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]),
    );
    assert.equal(fields.memory, '256 MB');
    assert.equal(fields.timeout, '12 s');
    assert.equal(fields['invoke endpoint'], `${srv.url}/invoke/${fnId}`);
    assert.ok(main().textContent.includes(XSS));
    assert.equal(doc().querySelector('img'), null);

    const calls = doc().querySelector('main section:last-of-type');
    const rows = [...calls!.querySelectorAll('tbody tr')];
    assert.equal(rows.length, 30);
    const first = [...rows[0]!.querySelectorAll('td')];
    assert.equal(first[0]!.textContent, callId, 'newest first');
    assert.equal(first[0]!.querySelector('a')?.getAttribute('href'), `#/fns/${fnId}/calls/${callId}`);
    assert.equal(first[1]!.textContent, 'error');
    assert.ok(first[1]!.querySelector('.status')!.classList.contains('status-error'));
    assert.equal(first[5]!.textContent, '3.00 s');
    const second = [...rows[1]!.querySelectorAll('td')];
    assert.ok(second[1]!.querySelector('.status')!.classList.contains('status-success'));
    assert.equal(second[2]!.textContent, '2024-05-01 12:05:40.000 UTC');
    assert.equal(second[5]!.textContent, '1.25 s');

    await go(calls!.querySelector('.pager a')!.getAttribute('href')!);
    assert.equal(doc().querySelectorAll('main section:last-of-type tbody tr').length, 6, 'the rest on the next page');
  });

  test('a call shows its fields, error and log as text, and its stats as SVG paths', async () => {
    await go(`#/fns/${fnId}/calls/${callId}`);
    assert.equal(doc().title, `Call ${callId} · Kiln`);
    assert.equal(text('main pre.log'), LOG, 'the log, as written');
    assert.equal(doc().querySelector('script:not([src])'), null, 'no script element from the log');
    assert.equal(doc().querySelector('main b'), null, 'no markup from the log');
    assert.equal(text('main pre.call-error'), `failed: ${XSS}`);
    assert.equal(doc().querySelector('img'), null);
    assert.match(text('main table.fields'), /ran3\.00 s/);

    const charts = [...doc().querySelectorAll('main svg.chart')].map((svg) => svg.getAttribute('data-chart'));
    assert.deepEqual(charts, ['cpu', 'memory', 'network']);
    const cpu = doc().querySelector('svg[data-chart="cpu"] path.line-cpu')!.getAttribute('d')!;
    // 40% of one CPU throughout, drawn against 100%: three points on one level line.
    assert.match(cpu, /^M[\d.]+,([\d.]+) L[\d.]+,\1 L[\d.]+,\1$/);
    const mem = doc().querySelector('svg[data-chart="memory"] path.line-mem')!.getAttribute('d')!;
    assert.equal(mem.split(/[ML]/).filter(Boolean).length, 4, 'a memory point per sample');
    assert.ok(doc().querySelector('svg[data-chart="memory"] path.line-limit.limit'), 'the limit line');
    assert.match(text('figure.chart-memory figcaption'), /peak 25 MiB/);
  });

  test("a deleted fn's calls stay within reach: its page lists them, a call names its app", async () => {
    const gone = await request(srv.url, 'POST', '/v2/fns', { name: 'gone', app_id: appId, image: 'kiln-test/no-such-image:0.0.1' });
    assert.equal(gone.status, 200, JSON.stringify(gone.body));
    const goneCall = newId();
    const store = new SqlStore(await openKnex(db.url));
    try {
      const at = new Date().toISOString();
      await store.insertCalls([{ call: { id: goneCall, app_id: appId, fn_id: gone.body.id, status: 'success', stats: [], created_at: at, started_at: at, completed_at: at }, log: 'kept\n' }]);
    } finally {
      await store.close();
    }
    assert.equal((await request(srv.url, 'DELETE', `/v2/fns/${gone.body.id}`)).status, 204);

    await go(`#/fns/${gone.body.id}`);
    assert.match(text('main h1'), new RegExp(gone.body.id));
    assert.match(main().textContent, /This function has been deleted; its calls are kept\./);
    assert.deepEqual([...doc().querySelectorAll('main tbody tr a')].map((a) => a.textContent), [goneCall]);
    assert.equal([...doc().querySelectorAll('main nav.crumbs a')].map((a) => a.textContent)[1], 'shop');

    // An id that never was a fn (nor has calls) is not found, not "deleted".
    await go(`#/fns/${newId()}`);
    assert.equal(text('main .error .message'), 'Fn not found');

    await go(`#/fns/${gone.body.id}/calls/${goneCall}`);
    assert.equal(text('main pre.log'), 'kept\n');
    assert.match(text('main table.fields'), /appshop/, 'the app by the call\'s own app_id');
  });

  test('a new view has its heading focused', async () => {
    await go(`#/apps/${appId}`);
    assert.equal(doc().activeElement, doc().querySelector('main h1'));
  });

  test('errors from the API show as their message', async () => {
    await go(`#/apps/${newId()}`);
    assert.equal(text('main .error .message'), 'App not found');
    assert.match(text('main .error'), /^HTTP 404: /);
    assert.ok([...doc().querySelectorAll('main a')].some((l) => l.getAttribute('href') === '#/'), 'a way back');
    await go(`#/fns/${fnId}/calls/${newId()}`);
    assert.equal(text('main .error .message'), 'Call not found');
    await go('#/nowhere');
    assert.match(main().textContent, /Not found/);
  });

  test('the invoke form posts the body and shows the status, headers and body', async () => {
    await go(`#/fns/${fnId}`);
    const form = doc().querySelector('form.invoke')!;
    (form.querySelector('textarea') as unknown as { value: string }).value = '{"name":"web"}';
    (form.querySelector('button') as unknown as { click(): void }).click();
    const deadline = Date.now() + 20_000;
    while (!form.querySelector('.invoke-status')) {
      if (Date.now() > deadline) throw new Error(`no answer shown: ${form.textContent}`);
      await page.waitUntilComplete();
      await new Promise((r) => setTimeout(r, 20));
    }
    // The image does not exist, so the server answers with an error; the page shows it as given.
    const direct = await request(srv.url, 'POST', `/invoke/${fnId}`, '{"name":"web"}', { 'content-type': 'text/plain' });
    assert.match(text('.invoke-status strong'), new RegExp(`^HTTP ${direct.status}\\b`));
    assert.equal(text('pre.invoke-body'), JSON.stringify(direct.body));
    const headerNames = [...form.querySelectorAll('table.headers th')].map((th) => th.textContent);
    assert.ok(headerNames.includes('content-type'), headerNames.join(','));
  });
});
