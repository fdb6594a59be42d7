// Large answers: the response limit when the length is declared or not, and callers that
// stop reading must not hold a container past the fn's timeout.
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually } from '../helpers/containers.js';
import { call, startServer } from '../helpers/server.js';

const KiB = 1024;

/** A program's exit code and output (a non-zero exit is an answer here, not a failure). */
function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('streaming answers', () => {
  let t: AgentSuite;
  const mkFn = (name: string, fields?: Record<string, unknown>) => t.mkFn(name, fields);
  const calls = (fnId: string) => t.calls(fnId);

  // A limit above the 64 KiB window, so answers over it have started to stream.
  before(async () => {
    t = await agentSuite('streaming', { FN_MAX_RESPONSE_SIZE: String(200 * KiB), FN_MAX_LOG_SIZE_BYTES: String(4 * KiB) });
  });

  after(async () => {
    await t?.close();
  });

  test('an answer between the window and the limit streams through whole', async () => {
    const fn = await mkFn('mid');
    const r = await fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ bytes: 150 * KiB }) });
    assert.equal(r.status, 200);
    assert.equal((await r.text()).length, 150 * KiB);
  });

  test('an answer under the 64 KiB window is sent whole with its length; one past it streams, chunked', async () => {
    // The function writes both with no length of its own (chunked): the agent decides.
    const fn = await mkFn('window');
    const small = await fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ bytes: 40 * KiB }) });
    assert.equal(small.status, 200);
    assert.equal(small.headers.get('content-length'), String(40 * KiB), '40 KiB: buffered, sent with its length');
    assert.equal(small.headers.get('transfer-encoding'), null);
    assert.equal((await small.text()).length, 40 * KiB);

    const large = await fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ bytes: 100 * KiB }) });
    assert.equal(large.status, 200);
    assert.equal(large.headers.get('content-length'), null, '100 KiB: streamed, no length');
    assert.equal(large.headers.get('transfer-encoding'), 'chunked');
    assert.equal((await large.text()).length, 100 * KiB);
  });

  test('an answer past the window with no Content-Type gets Fn\'s, sniffed from its first bytes, through /invoke and a trigger', async () => {
    const fn = await mkFn('untyped-large');
    assert.equal((await call(t.srv.url, 'POST', '/v2/triggers', { name: 'untyped', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/untyped' })).status, 200);
    for (const url of [`${t.srv.url}/invoke/${fn.id}`, `${t.srv.url}/t/streaming/untyped`]) {
      const r = await fetch(url, { method: 'POST', body: JSON.stringify({ raw: '<html><body>0123456789', repeat: 5000 }) });
      assert.equal(r.status, 200, url);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8', url);
      assert.equal(r.headers.get('content-length'), null, `${url}: it streamed`);
      assert.equal((await r.text()).length, 22 * 5000, url);
    }
  });

  test('a declared Content-Length over the limit is a clean 502 before anything is sent', async () => {
    const fn = await mkFn('declared');
    const r = await call(t.srv.url, 'POST', `/invoke/${fn.id}`, JSON.stringify({ bytes: 300 * KiB, headers: { 'Content-Length': String(300 * KiB) } }));
    assert.equal(r.status, 502);
    assert.equal(r.body.message, `function response body too large: ${300 * KiB} > max ${200 * KiB} bytes`);
  });

  test('an undeclared answer over the limit is cut off and recorded as an error', async () => {
    const fn = await mkFn('undeclared');
    const r = await fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ bytes: 400 * KiB }) });
    assert.equal(r.status, 200, 'headers went out with the first 64 KiB');
    await assert.rejects(r.text(), 'the body is cut short, not completed');
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => /too large/.test(c.error ?? ''))));
  });

  test('an HTTP/1.0 caller (no chunks: the close ends the body) gets a reset, not a clean close, when the answer is cut off', async () => {
    // nginx's default proxy_pass speaks HTTP/1.0 upstream: a clean close there would pass on a
    // whole-looking 200. curl, as a caller: it tells a reset (exit 56) from a clean end (exit 0).
    const fn = await mkFn('undeclared-10');
    const got = await run('curl', ['-0', '-sS', '-o', '/dev/null', '-D', '-', '--data-binary', JSON.stringify({ bytes: 400 * KiB }), `${t.srv.url}/invoke/${fn.id}`]);
    assert.equal(got.code, 56, `the cut must be an error to the caller, not a whole answer: exit ${got.code}, ${got.stderr}`);
    assert.match(got.stdout, /^HTTP\/1\.1 200 /, 'the head went out with the first 64 KiB');
    assert.doesNotMatch(got.stdout, /transfer-encoding/i, 'an HTTP/1.0 caller gets no chunks');
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => /too large/.test(c.error ?? ''))));
  });

  test('a container that fails to start gives the call its output as its log, held to FN_MAX_LOG_SIZE_BYTES', async () => {
    const fn = await mkFn('exits-chatty', { config: { MODE: 'exit', NOISE_BYTES: String(40 * KiB) } });
    const r = await fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 502);
    const id = r.headers.get('fn-call-id')!;
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === id)));
    await t.srv.agent.flushRecords();
    const log = String((await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}/log`)).body.log);
    assert.match(log, /^n{4096}\n\[kiln: \d+ more bytes of output dropped\]\n$/, `${log.length} bytes`);
  });

  test('a caller slower than the function is sent its answer from memory, up to the limit: the call and its container are done when the function is', async () => {
    const fn = await mkFn('slow-reader', { timeout: 2 });
    // Far more than socket buffers hold, under the limit.
    const other = await startServer(t.db.url, { FN_MAX_RESPONSE_SIZE: String(40 * 1024 * KiB) });
    const size = 24 * 1024 * KiB;
    const stalled = async () => {
      const url = new URL(`${other.url}/invoke/${fn.id}`);
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' });
      const res = await new Promise<http.IncomingMessage>((resolve) => {
        req.once('response', resolve);
        req.end(JSON.stringify({ bytes: size }));
      });
      res.pause();
      assert.equal(res.statusCode, 200);
      /** Reads the rest: the bytes that came, and whether the answer ended whole. */
      const rest = () => new Promise<{ bytes: number; whole: boolean }>((resolve) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.once('end', () => resolve({ bytes, whole: true }));
        res.once('error', () => resolve({ bytes, whole: false }));
        res.once('aborted', () => resolve({ bytes, whole: false }));
        res.resume();
      });
      return { rest, id: res.headers['fn-call-id'] };
    };
    try {
      const slow = await stalled();
      const t0 = Date.now();
      // Before, the function waited on the caller until its timeout: recorded as timed out, its container killed.
      assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === slow.id && c.status === 'success'), 1500), 'recorded as a success');
      assert.ok(Date.now() - t0 < 1500);
      const next = await call(other.url, 'POST', `/invoke/${fn.id}`, '{}');
      assert.equal(next.status, 200);
      assert.equal((next.body as { calls: number }).calls, 2, 'the same container serves the next call');
      // Read within the fn's timeout of the answer's end, it is whole.
      assert.deepEqual(await slow.rest(), { bytes: size, whole: true });

      // A caller that does not take its answer within that time is let go.
      const never = await stalled();
      assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === never.id && c.status === 'success'), 1500));
      await new Promise((r) => setTimeout(r, 3000));
      const cut = await never.rest();
      assert.equal(cut.whole, false, `cut after the fn's timeout (${cut.bytes} bytes came)`);
      assert.ok(cut.bytes < size);
    } finally {
      await other.stop();
    }
  });

  test('a caller that stops reading frees the container at the fn’s timeout', async () => {
    const fn = await mkFn('stalled', { timeout: 2, config: { ECHO_ENV: 'HOSTNAME' } });
    // Far more than socket buffers hold, and under the limit only because that is off here.
    const other = await startServer(t.db.url, { FN_MAX_RESPONSE_SIZE: '0' });
    try {
      const url = new URL(`${other.url}/invoke/${fn.id}`);
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' });
      const res = await new Promise<http.IncomingMessage>((resolve) => {
        req.once('response', resolve);
        req.end(JSON.stringify({ bytes: 64 * 1024 * KiB }));
      });
      res.pause(); // never read
      assert.equal(res.statusCode, 200);
      const t0 = Date.now();
      assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.status === 'timeout'), 8000), 'recorded as timed out');
      assert.ok(Date.now() - t0 < 6000);
      const next = await call(other.url, 'POST', `/invoke/${fn.id}`, '{}');
      assert.equal(next.status, 200, 'the fn serves again');
      res.destroy();
    } finally {
      await other.stop();
    }
  });
});
