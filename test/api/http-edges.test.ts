// The API server's HTTP edges, as Fn's Go server has them: an early answer to a large unread
// body says `Connection: close` (so keep-alive clients do not reuse a connection about to
// close), `100 Continue` only when the body is wanted, 1 MiB request heads, no deadline on a
// whole request, and idle kept-alive connections kept 620 s (KILN_KEEPALIVE_TIMEOUT_MSECS).
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { finalHead, RawConnection, statuses } from '../helpers/raw-http.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const LIMIT = 64 * 1024; // FN_MAX_REQUEST_SIZE here
const NO_FN = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const MB = Buffer.alloc(1024 * 1024, 'x');

/** A GET of /version on a pooled connection: its status, whether the socket was reused, its Keep-Alive header. */
function keptAliveGet(url: string, agent: http.Agent): Promise<{ status: number; reused: boolean; keepAlive: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/version`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, keepAlive: String(res.headers['keep-alive']) }));
    });
    req.on('error', reject);
  });
}

describe('HTTP edges of the API server', () => {
  let db: TestDb;
  let srv: TestServer;
  let fnId = '';
  let connections = 0;
  const raws: RawConnection[] = [];
  const raw = async () => {
    const c = await RawConnection.open(srv.url);
    raws.push(c);
    return c;
  };

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { FN_MAX_REQUEST_SIZE: String(LIMIT) });
    srv.http.on('connection', () => connections++);
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'edges' });
    // Never run: every call here is refused before a container would be asked for.
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.body.id, image: 'kiln-test/never-run:1' });
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    fnId = fn.body.id;
  });

  after(async () => {
    for (const c of raws) c.destroy();
    await srv.stop();
    await db.cleanup();
  });

  // The head said keep-alive, then the connection closed after 256 KiB of the unread body: the
  // keep-alive client's next request on it failed (UND_ERR_SOCKET other side closed).
  test('an early answer to a large unread body says Connection: close; the client\'s next request succeeds', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      // A small unread rest (100 KB, under 256 KiB) is read off and the connection kept.
      await (await request(`${srv.url}/version`, { dispatcher: agent })).body.text();
      const before_ = connections;
      for (let i = 0; i < 3; i++) {
        const r = await request(`${srv.url}/invoke/${NO_FN}`, { method: 'POST', body: Buffer.alloc(100_000, 'y'), dispatcher: agent });
        assert.equal(r.statusCode, 404);
        assert.equal(r.headers.connection, 'keep-alive');
        await r.body.text();
      }
      await (await request(`${srv.url}/version`, { dispatcher: agent })).body.text();
      assert.equal(connections, before_, 'all on the one connection');
      const cases: { name: string; method: string; path: string; body: Buffer; status: number; message: RegExp }[] = [
        { name: '404 Fn not found, 1 MB body', method: 'POST', path: `/invoke/${NO_FN}`, body: MB, status: 404, message: /^Fn not found$/ },
        { name: '413 on Content-Length', method: 'POST', path: `/invoke/${fnId}`, body: MB, status: 413, message: /^Content-Length too large for this server, 1048576 > max 65536$/ },
        { name: '405 on /invoke', method: 'PUT', path: `/invoke/${fnId}`, body: MB, status: 405, message: /^Method not allowed/ },
        { name: 'express: an unknown path', method: 'POST', path: '/nothing', body: MB, status: 404, message: /^Path not found/ },
        { name: 'express: a route that reads no body', method: 'DELETE', path: '/v2/apps/nope', body: MB, status: 404, message: /^App not found$/ },
      ];
      for (const c of cases) {
        const r = await request(`${srv.url}${c.path}`, { method: c.method, body: c.body, dispatcher: agent });
        const text = await r.body.text();
        // The next request first: what failed was the client's, on the connection it was told to keep.
        const next = await request(`${srv.url}/version`, { dispatcher: agent });
        assert.equal(next.statusCode, 200, c.name);
        await next.body.text();
        assert.equal(r.statusCode, c.status, `${c.name}: ${text}`);
        assert.match((JSON.parse(text) as { message: string }).message, c.message, c.name);
        assert.equal(r.headers.connection, 'close', c.name);
      }
    } finally {
      await agent.close();
    }
  });

  test('node:http\'s keep-alive agent: a 413 on a 1 MB body, then the next request on the same agent succeeds', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: Buffer) =>
      new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
        const req = http.request(`${srv.url}${path}`, { method, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
        });
        // The answer may come while the body is still going out: what is not sent then is not.
        req.on('error', reject);
        req.end(body);
      });
    try {
      const refused = await send('POST', `/invoke/${fnId}`, MB);
      const next = await send('GET', '/version');
      assert.deepEqual([next.status, next.text], [200, '{"version":"0.1.0"}']);
      assert.deepEqual([refused.status, refused.connection], [413, 'close']);
    } finally {
      agent.destroy();
    }
  });

  test('an early answer to a chunked body not yet ended says Connection: close, and the connection closes', async () => {
    const c = await raw();
    await c.write(`POST /invoke/${NO_FN} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n${'z'.repeat(16)}\r\n`);
    assert.ok(await c.waitFor(/\r\n\r\n\{"message":"Fn not found"\}/, 5000), c.text);
    assert.match(finalHead(c.text), /\r\nconnection: close(\r\n|$)/);
    await c.closed;
  });

  // Node closes after a `Connection: close` answer as soon as its FIN is out; with the body still
  // coming, the kernel then resets the connection, and a client that reads its answer a little
  // later loses it. The close lingers (500 ms), as the bounded drain's own close does.
  test('a client still uploading that reads the refusal 200 ms later still gets it', async () => {
    const { hostname, port } = new URL(srv.url);
    for (let i = 0; i < 3; i++) {
      const got = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          socket.pause();
          socket.write(`POST /invoke/${NO_FN} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${4 * MB.length}\r\n\r\n`);
          let sent = 0;
          const pump = () => {
            while (sent < 4 && socket.write(MB)) sent++;
          };
          socket.on('drain', pump);
          pump();
          setTimeout(() => socket.resume(), 200);
        });
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('error', () => undefined); // the reset, if it comes, after what was read
        socket.on('close', () => resolve(text));
      });
      assert.match(got, /^HTTP\/1\.1 404 [^]*\r\n\r\n\{"message":"Fn not found"\}$/, `round ${i}: ${JSON.stringify(got.slice(0, 80))}`);
    }
  });

  // Node answered `Expect: 100-continue` with 100 at once, so a client uploaded a body Kiln then
  // refused. Now the 100 goes out only when the body is read.
  test('Expect: 100-continue: a refusal comes with no 100 Continue before it, and closes the connection', async () => {
    for (const [path, length, status] of [[`/invoke/${fnId}`, MB.length, 413], [`/invoke/${NO_FN}`, 1000, 404], ['/nothing', 1000, 404]] as const) {
      const c = await raw();
      await c.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`);
      assert.ok(await c.waitFor(/\r\n\r\n\{"message":/, 5000), `${path}: ${c.text}`);
      assert.deepEqual(statuses(c.text), [status], `${path}: ${c.text}`);
      assert.match(finalHead(c.text), /\r\nconnection: close(\r\n|$)/, path);
      await c.closed;
    }
  });

  test('Expect: 100-continue on a REST POST: 100 Continue, then the body is read and the app made', async () => {
    const c = await raw();
    const body = JSON.stringify({ name: 'expected' });
    await c.write(`POST /v2/apps HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    assert.ok(await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 5000), c.text);
    await c.write(body);
    assert.ok(await c.waitFor(/"name":"expected"/, 5000), c.text);
    assert.deepEqual(statuses(c.text), [100, 200]);
    // The body was read, so the connection is kept.
    assert.match(finalHead(c.text), /\r\nconnection: keep-alive(\r\n|$)/);
    // A body-less request with Expect (Content-Length: 0) needs no 100.
    await c.write(`POST /v2/apps HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n`);
    assert.ok(await c.waitFor(/Missing Name|Invalid JSON/, 5000), c.text);
    assert.deepEqual(statuses(c.text), [100, 200, 400]);
  });

  // Node's 16 KiB default answered a bare 431; Fn's Go server takes 1 MiB.
  test('a request head of 100 KB is taken; one over 1 MiB is a 431', async () => {
    const big = await call(srv.url, 'GET', '/version', undefined, { 'x-big': 'h'.repeat(100_000) });
    assert.equal(big.status, 200);
    const c = await raw();
    await c.write(`GET /version HTTP/1.1\r\nHost: localhost\r\nX-Huge: ${'h'.repeat(1 << 20)}\r\n\r\n`);
    assert.ok(await c.waitFor(/^HTTP\/1\.1 431/, 5000), c.text.slice(0, 200));
  });

  // Node answered what its parser refused with a bare status line and no body.
  const unreadable: { name: string; head: string; status: number; message: RegExp }[] = [
    { name: 'a lower-case method', head: 'get /v2/apps HTTP/1.1\r\nHost: localhost\r\n\r\n', status: 400, message: /^Invalid method: methods are case-sensitive/ },
    { name: 'a space in a header name', head: 'GET /v2/apps HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n', status: 400, message: /^Bad request: / },
    { name: 'no HTTP version', head: 'GET /v2/apps HTTX/1.1\r\nHost: localhost\r\n\r\n', status: 400, message: /^Bad request: / },
    { name: 'a head over 1 MiB', head: `GET /version HTTP/1.1\r\nHost: localhost\r\nX-Huge: ${'h'.repeat(1 << 20)}\r\n\r\n`, status: 431, message: /^Request header fields too large/ },
  ];
  for (const u of unreadable) {
    test(`a request the parser cannot read (${u.name}) gets ${u.status} in Kiln's JSON error shape, and the connection closes`, async () => {
      const c = await raw();
      await c.write(u.head);
      await c.closed;
      const [head = '', body = ''] = c.text.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${u.status} `), c.text.slice(0, 300));
      assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
      assert.match(head, /\r\nconnection: close/i);
      assert.match((JSON.parse(body) as { message: string }).message, u.message);
    });
  }
  test('a bad request after a good one on a kept-alive connection: the good answer, then the JSON 400', async () => {
    const c = await raw();
    await c.write('GET /version HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.ok(await c.waitFor(/"version"/, 5000), c.text);
    await c.write('get /version HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await c.closed;
    assert.deepEqual(statuses(c.text), [200, 400]);
    assert.match(c.text, /\{"message":"Invalid method: /);
  });

  // Node's requestTimeout (300 s) cut a slow upload with 408; Fn has no such deadline. Setting
  // it to 0 also turns off headersTimeout unless that is given (its default is the smaller of
  // the two), so the head stays bounded only because it is set.
  test('no deadline on a whole request; its head must still come within 60 s', () => {
    assert.equal(srv.http.requestTimeout, 0);
    assert.equal(srv.http.headersTimeout, 60_000);
  });

  // Node's 5 s default closed an idle connection that pooling clients (ALB, nginx, Python) still
  // held, and their next request on it failed.
  test('a kept-alive connection idle for 6 s still serves the next request; answers say how long it is kept', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(srv.http.keepAliveTimeout, 620_000);
      const first = await keptAliveGet(srv.url, agent);
      assert.deepEqual([first.status, first.keepAlive], [200, 'timeout=620']);
      await sleep(6000);
      const second = await keptAliveGet(srv.url, agent);
      assert.deepEqual([second.status, second.reused], [200, true]);
    } finally {
      agent.destroy();
    }
  });

  // A load balancer that keeps its upstream connections longer than Kiln sends requests into
  // Kiln's close (502s): the setting lets the operator outlast it, or never close (0, as Go).
  test('KILN_KEEPALIVE_TIMEOUT_MSECS sets how long an idle connection is kept; 0 keeps it until the client closes it', async () => {
    for (const [setting, header, reusedAfter2s] of [['1000', 'timeout=1', false], ['0', 'undefined', true]] as const) {
      const other = await startServer(db.url, { KILN_KEEPALIVE_TIMEOUT_MSECS: setting });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await keptAliveGet(other.url, agent);
        assert.deepEqual([first.status, first.keepAlive], [200, header], setting);
        await sleep(2500);
        const second = await keptAliveGet(other.url, agent);
        assert.deepEqual([second.status, second.reused], [200, reusedAfter2s], `${setting}: the idle connection ${reusedAfter2s ? 'is kept' : 'is closed by Kiln'}`);
      } finally {
        agent.destroy();
        await other.stop();
      }
    }
  });

});
