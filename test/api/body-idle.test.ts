// A request body whose bytes stop arriving (a client that sends its head and a few bytes, then
// nothing) is answered 408 after KILN_BODY_IDLE_TIMEOUT_MSECS of silence, on every door that
// reads a body, and holds nothing after; a slow but steady upload is not cut, nor is a call
// whose function takes longer than the bound (only the wait for the caller's bytes is bounded).
// Real server, real SQLite file, real Docker for the function.
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { docker, fixtureImage } from '../helpers/images.js';
import { nodeContainers } from '../helpers/containers.js';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { finalHead, RawConnection } from '../helpers/raw-http.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

/** The setting here: small, so the test is quick; every wait below is many times it. */
const IDLE_MS = 1500;

/** Posts `pieces` one every `gapMs` on one connection (Content-Length given), and reads the answer. */
function slowPost(url: string, pieces: string[], gapMs: number): Promise<{ status: number; body: string }> {
  const length = pieces.reduce((n, p) => n + Buffer.byteLength(p), 0);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': length } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    void (async () => {
      for (const p of pieces) {
        req.write(p);
        await sleep(gapMs);
      }
      req.end();
    })();
  });
}

describe('KILN_BODY_IDLE_TIMEOUT_MSECS: a request body that stops arriving', () => {
  let db: TestDb;
  let srv: TestServer;
  let fnId = '';
  const raws: RawConnection[] = [];

  before(async () => {
    const image = await fixtureImage('tester');
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_BODY_IDLE_TIMEOUT_MSECS: String(IDLE_MS) });
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'stall' });
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'echo', app_id: app.body.id, image });
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    fnId = fn.body.id;
    const trigger = await call(srv.url, 'POST', '/v2/triggers', { name: 'echo', app_id: app.body.id, fn_id: fnId, type: 'http', source: '/echo' });
    assert.equal(trigger.status, 200, JSON.stringify(trigger.body));
  });

  after(async () => {
    for (const c of raws) c.destroy();
    const nodeId = srv.nodeId;
    await srv.stop();
    await db.cleanup();
    assert.deepEqual(await nodeContainers(docker(), nodeId), [], 'the server removed its containers');
  });

  test('gets 408 in Kiln\'s error shape within the bound on every door, its connection closes, and the hot container serves the next call', async () => {
    const warm = await call(srv.url, 'POST', `/invoke/${fnId}`, '{}');
    assert.equal(warm.status, 200, JSON.stringify(warm.body));
    const pid = warm.body.pid as number;

    const message = `Request timeout: no bytes of the request body arrived for ${IDLE_MS / 1000} s`;
    const doors = [
      { name: '/invoke', path: `/invoke/${fnId}`, lambda: false },
      { name: 'a trigger', path: '/t/stall/echo', lambda: false },
      { name: 'the Lambda Invoke API', path: `/2015-03-31/functions/${fnId}/invocations`, lambda: true },
      { name: 'a REST write', path: '/v2/apps', lambda: false },
    ];
    await Promise.all(doors.map(async (door) => {
      const c = await RawConnection.open(srv.url);
      raws.push(c);
      const sent = performance.now();
      // 5 of the 100 bytes declared, then nothing.
      await c.write(`POST ${door.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
      // Generous: the machine is shared and noisy. Without the bound no answer ever comes.
      assert.ok(await c.waitFor(/\r\n\r\n\{[\s\S]*\}$/, IDLE_MS + 10_000), `${door.name}: no answer to a stalled body; got ${JSON.stringify(c.text)}`);
      // A bound on silence: not answered before the body has been silent that long.
      assert.ok(performance.now() - sent >= IDLE_MS - 50, `${door.name}: answered after ${performance.now() - sent} ms`);
      const head = finalHead(c.text);
      assert.match(head, /^http\/1\.1 408 request timeout\r\n/, door.name);
      assert.match(head, /\r\nconnection: close\r\n/, door.name);
      // No call was made (its id comes once the body is in): nothing to record or look up.
      assert.doesNotMatch(head, /\r\nfn-call-id:/, door.name);
      const body = JSON.parse(c.text.slice(c.text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      if (door.lambda) {
        assert.match(head, /\r\nx-amzn-errortype: invalidrequestcontentexception\r\n/);
        assert.deepEqual(body, { Type: 'User', message });
      } else {
        assert.deepEqual(body, { message }, door.name);
      }
      const closed = await Promise.race([c.closed.then(() => true), sleep(5000).then(() => false)]);
      assert.ok(closed, `${door.name}: the connection stayed open after the 408`);
    }));

    const stats = srv.agent.stats();
    assert.deepEqual([stats.queued, stats.running, stats.containers.busy], [0, 0, 0], JSON.stringify(stats));
    // The same hot container takes the next call: nothing was left holding it.
    const next = await call(srv.url, 'POST', `/invoke/${fnId}`, '{"n":1}');
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.pid, pid);
  });

  test('a slow but steady body, longer in all than the bound, is taken whole', async () => {
    const pad = 'x'.repeat(1200);
    const text = JSON.stringify({ pad });
    // 12 pieces 250 ms apart: 3 s in all, twice the bound, each gap a sixth of it.
    const pieces = Array.from({ length: 12 }, (_, i) => text.slice((i * text.length) / 12, ((i + 1) * text.length) / 12));
    for (const path of [`/invoke/${fnId}`, '/t/stall/echo']) {
      const r = await slowPost(`${srv.url}${path}`, pieces, 250);
      assert.equal(r.status, 200, `${path}: ${r.body}`);
      assert.equal((JSON.parse(r.body) as { body: string }).body, text, path);
    }
  });

  test('the bound is not on the call: a function that takes longer than it still answers', async () => {
    const r = await call(srv.url, 'POST', `/invoke/${fnId}`, JSON.stringify({ sleepMs: IDLE_MS * 2 }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
});
