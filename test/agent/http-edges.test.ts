// The API server's HTTP edges with a real function behind them: a request head far over Node's
// 16 KiB default reaches the function, an `Expect: 100-continue` invoke gets its 100 once
// Kiln reads the body, then the function's answer; a header the caller repeats reaches the
// function as that many lines; an answer with a million header lines fails fast.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MAX_RESPONSE_HEAD_LINES } from '../../agent/head-meter.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { RawConnection, statuses } from '../helpers/raw-http.js';
import { call } from '../helpers/server.js';

interface Echo {
  headers: Record<string, string>;
  rawHeaders: string[];
  body: string;
}

/** A request with its header lines as given (a name may repeat), and its answer. Given as a list, its Host is not added. */
function send(base: string, method: string, path: string, lines: string[], body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, maxHeaderSize: 1 << 20, headers: ['Host', new URL(base).host, ...lines, 'Content-Length', String(Buffer.byteLength(body))] }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The values of each name (lower case) among a request's raw lines, in order, those named only. */
function linesOf(raw: string[], names: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (names.includes(name)) (out[name] ??= []).push(raw[i + 1]!);
  }
  return out;
}

/** Repeated headers, Node's joined and dropped kinds both (X-Foo, Cookie; Content-Type, User-Agent, Authorization). */
const REPEATED = [
  'X-Foo', 'a', 'Cookie', 'c1=v1', 'Content-Type', 'text/plain', 'User-Agent', 'ua-1', 'Authorization', 'Bearer one',
  'X-Foo', 'b, c', 'Cookie', 'c2=v2', 'Content-Type', 'text/html', 'User-Agent', 'ua-2', 'Authorization', 'Bearer two', 'X-Once', 'once',
];

describe('HTTP edges with a function behind them', () => {
  let t: AgentSuite;
  let fnId = '';
  const raws: RawConnection[] = [];

  before(async () => {
    t = await agentSuite('http-edges');
    // The tester's own node:http server takes 16 KiB heads unless told otherwise; how a
    // function's server refusing a grown head is answered is another matter than Kiln's limit.
    fnId = (await t.mkFn('echo', { config: { NODE_OPTIONS: '--max-http-header-size=2097152' } })).id;
  });

  after(async () => {
    for (const c of raws) c.destroy();
    await t.close();
  });

  // Node's 16 KiB default answered a bare 431 before Kiln saw the request.
  test('a 100 KB request header reaches the function', async () => {
    const big = 'h'.repeat(100_000);
    const r = await t.invoke(fnId, 'hi', { 'x-big': big });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const echo = r.body as Echo;
    assert.equal(echo.headers['x-big'], big);
    assert.equal(echo.body, 'hi');
  });

  test('Expect: 100-continue on an invoke: 100 Continue, then after the body the function\'s answer', async () => {
    const c = await RawConnection.open(t.srv.url);
    raws.push(c);
    const body = 'expected body';
    await c.write(`POST /invoke/${fnId} HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    assert.ok(await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 5000), c.text);
    await c.write(body);
    assert.ok(await c.waitFor(/"body":"expected body"/, 30_000), c.text);
    assert.deepEqual(statuses(c.text), [100, 200]);
    assert.match(c.text, /\r\nFn-Call-Id: /i);
  });

  // Node's req.headers joined X-Foo and Cookie into one line and kept only the first Content-Type,
  // User-Agent and Authorization; Fn (Go's http.Header) passes each value on as its own line.
  test('a header the caller repeats reaches the function as that many lines, in order (invoke)', async () => {
    const r = await send(t.srv.url, 'POST', `/invoke/${fnId}`, REPEATED, 'hi');
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const echo = JSON.parse(r.text) as Echo;
    assert.deepEqual(linesOf(echo.rawHeaders, ['x-foo', 'cookie', 'content-type', 'user-agent', 'authorization', 'x-once']), {
      'x-foo': ['a', 'b, c'], cookie: ['c1=v1', 'c2=v2'], 'content-type': ['text/plain', 'text/html'],
      'user-agent': ['ua-1', 'ua-2'], authorization: ['Bearer one', 'Bearer two'], 'x-once': ['once'],
    });
    assert.equal(echo.body, 'hi');
  });

  test('a header the caller repeats reaches the function as that many Fn-Http-H-* lines, in order (trigger)', async () => {
    const tr = await call(t.srv.url, 'POST', '/v2/triggers', { name: 'repeat', app_id: t.appId, fn_id: fnId, type: 'http', source: '/repeat' });
    assert.equal(tr.status, 200, JSON.stringify(tr.body));
    const r = await send(t.srv.url, 'PUT', '/t/http-edges/repeat', REPEATED, 'hi');
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const echo = JSON.parse(r.text) as Echo;
    assert.deepEqual(linesOf(echo.rawHeaders, ['fn-http-h-x-foo', 'fn-http-h-cookie', 'fn-http-h-content-type', 'content-type', 'fn-http-h-user-agent', 'fn-http-h-authorization', 'fn-http-h-x-once']), {
      'fn-http-h-x-foo': ['a', 'b, c'], 'fn-http-h-cookie': ['c1=v1', 'c2=v2'], 'fn-http-h-content-type': ['text/plain', 'text/html'],
      'content-type': ['text/plain', 'text/html'], 'fn-http-h-user-agent': ['ua-1', 'ua-2'], 'fn-http-h-authorization': ['Bearer one', 'Bearer two'],
      'fn-http-h-x-once': ['once'],
    });
  });

  // undici's 1 MiB bound counts names and values only: a million empty `a:` lines passed it, the
  // agent spent about 300 MB and 5 s on them, and the caller got them all with a 200.
  test(`an answer with a million header lines: 502 response-too-large, read no further than ${MAX_RESPONSE_HEAD_LINES} lines`, async () => {
    const r = await send(t.srv.url, 'POST', `/invoke/${fnId}`, [], JSON.stringify({ headerLines: 1_000_000 }));
    assert.equal(r.status, 502, r.text.slice(0, 300));
    assert.match(r.text, new RegExp(`function response headers too large: over ${MAX_RESPONSE_HEAD_LINES} header lines`));
    // Up to the bound is an answer like any other.
    const ok = await send(t.srv.url, 'POST', `/invoke/${fnId}`, [], JSON.stringify({ headerLines: MAX_RESPONSE_HEAD_LINES - 100, raw: 'fine' }));
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.equal(ok.text, 'fine');
  });
});
