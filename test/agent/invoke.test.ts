// Running functions for real: Docker containers, the http-stream contract, stored calls.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { fixtureImage } from '../helpers/images.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { call } from '../helpers/server.js';
import { SHELL_BASE_LATEST } from '../../images/shell-image.js';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { LOG_FROM_HEADER, LOG_HEADER } from '../../runtime/wire.js';

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  env: Record<string, string>;
  pid: number;
  calls: number;
}

describe('invoking functions', () => {
  let t: AgentSuite;
  let hello: string;
  const mkFn = (name: string, fields?: Record<string, unknown>) => t.mkFn(name, fields);
  const invoke = (fnId: string, body?: unknown, headers?: Record<string, string>) => t.invoke(fnId, body, headers);
  const calls = (fnId: string) => t.calls(fnId);
  /** A call's stored log, once the records queued so far are written. */
  const logOf = async (fnId: string, callId: string): Promise<string> => {
    await t.srv.agent.flushRecords();
    return String((await call(t.srv.url, 'GET', `/v2/fns/${fnId}/calls/${callId}/log`)).body.log);
  };

  before(async () => {
    hello = await fixtureImage('hello-fdk');
    t = await agentSuite('invoke', {
      FN_MAX_RESPONSE_SIZE: String(32 * 1024),
      FN_MAX_REQUEST_SIZE: String(16 * 1024),
      FN_HOT_START_TIMEOUT_MSECS: '2000',
      // Every call of this suite runs on a socket directory of its own tmpfs (Fn's FN_IOFS_TMPFS).
      FN_IOFS_TMPFS: 'true',
    }, { APP_VAR: 'a', SHARED: 'app' });
  });

  after(async () => {
    await t?.close();
  });

  test('headers too large for the FDK\'s own HTTP server: 431 to the caller, and the container stays (it never ran the call)', async () => {
    const fn = await mkFn('hello-bighead', { image: hello });
    const trig = await call(t.srv.url, 'POST', '/v2/triggers', { name: 'bighead', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/bighead' });
    assert.equal(trig.status, 200, JSON.stringify(trig.body));
    const url = `${t.srv.url}/t/invoke/bighead`;
    assert.equal((await fetch(url, { method: 'POST', body: '{}' })).status, 200, 'warm');
    const before = (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fn.id).map((c) => c.Id);
    assert.equal(before.length, 1);
    // Within what Kiln's server takes; wrapped as Fn-Http-H-Cookie with Fn's headers, past the
    // 16 KiB the FDK's Node server takes.
    // node:http adds only Host and Connection to what is asked (fetch adds more).
    const withCookie = (bytes: number) => new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { cookie: `s=${'c'.repeat(bytes)}`, 'content-length': 2 } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end('{}');
    });
    // Just past the FDK's 16 KiB, and far past it: the FDK's server may then close the
    // connection while the head is still being written, its 431 lost to the broken pipe.
    for (const bytes of [16_200, 300_000, 900_000, 900_000]) {
      const big = await withCookie(bytes);
      assert.equal(big.status, 431, `${bytes}: ${big.text}`);
      assert.match(big.text, /Request header fields too large for the function/);
    }
    const again = await fetch(url, { method: 'POST', body: '{"name":"again"}' });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { message: 'Hello again' });
    const after = (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fn.id).map((c) => c.Id);
    assert.deepEqual(after, before, 'the same container served the next call');
    const [recorded] = await calls(fn.id);
    assert.equal(recorded!.status, 'success');
    const refused = (await calls(fn.id)).slice(1, 5);
    assert.deepEqual(refused.map((c) => c.status), ['error', 'error', 'error', 'error']);
    for (const c of refused) assert.match(c.error ?? '', /Request header fields too large for the function/);
  });

  test('a real @fnproject/fdk function answers, and its container is reused', async () => {
    const fn = await mkFn('hello', { image: hello });
    const first = await invoke(fn.id);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { message: 'Hello World' });
    assert.match(first.headers.get('fn-call-id') ?? '', /^[0-9A-Z]{26}$/);
    const second = await invoke(fn.id, { name: 'Kiln' });
    assert.deepEqual(second.body, { message: 'Hello Kiln' });
    const mine = (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fn.id);
    assert.equal(mine.length, 1, 'one hot container served both calls');
  });

  test('the container gets Fn’s environment, config, call id and deadline', async () => {
    const fn = await mkFn('env', { config: { FN_VAR: 'f', SHARED: 'fn' }, memory: 64 });
    const r = await invoke(fn.id, 'raw body', { 'x-custom': 'yes', 'content-type': 'text/plain', 'ECHO-ENV': 'x' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const e = r.body as Echo;
    assert.equal(e.method, 'POST');
    assert.equal(e.url, '/call');
    assert.equal(e.body, 'raw body');
    assert.equal(e.headers['fn-call-id'], r.headers.get('fn-call-id'));
    assert.ok(Date.parse(e.headers['fn-deadline']!) > Date.now(), 'deadline in the future');
    assert.equal(e.headers['x-custom'], 'yes');
    assert.equal(e.env.FN_LISTENER, 'unix:/tmp/iofs/lsnr.sock');
    assert.equal(e.env.FN_FORMAT, 'http-stream');
    assert.equal(e.env.FN_APP_ID, t.appId);
    assert.equal(e.env.FN_FN_ID, fn.id);
    assert.equal(e.env.FN_MEMORY, '64');
    assert.equal(e.env.FN_TYPE, 'sync');
    assert.equal(e.env.FN_VAR, 'f');
  });

  test('an HTTP trigger speaks the gateway protocol both ways', async () => {
    const fn = await mkFn('gw');
    const trig = await call(t.srv.url, 'POST', '/v2/triggers', { name: 'gw', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/gw/deep' });
    assert.equal(trig.status, 200);
    const res = await fetch(`${t.srv.url}/t/invoke/gw/deep?q=1`, {
      method: 'PUT',
      headers: { 'x-in': 'hello', 'content-type': 'application/json' },
      body: JSON.stringify({ headers: { 'Fn-Http-Status': '201', 'Fn-Http-H-X-Out': 'out', 'Content-Type': 'application/json' } }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-out'), 'out');
    assert.ok(res.headers.get('fn-call-id'));
    const e = (await res.json()) as Echo;
    assert.equal(e.headers['fn-http-method'], 'PUT');
    assert.equal(e.headers['fn-http-request-url'], `${t.srv.url}/t/invoke/gw/deep?q=1`);
    assert.equal(e.headers['fn-http-h-x-in'], 'hello');
    assert.equal(e.headers['fn-intent'], 'httprequest');
    assert.equal(e.headers['content-type'], 'application/json');
    assert.equal((await fetch(`${t.srv.url}/t/invoke/nope`)).status, 404);
    assert.equal((await fetch(`${t.srv.url}/t/noapp/gw/deep`)).status, 404);

    // An absolute-form target (as a proxy sends it) names its scheme and host: kept, as Fn keeps it.
    const { port } = new URL(t.srv.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.write('GET http://public.example/t/invoke/gw/deep?q=2 HTTP/1.1\r\nHost: internal:1\r\nConnection: close\r\n\r\n'));
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('utf8'))).on('error', reject).on('close', () => resolve(got));
    });
    const proxied = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Echo;
    assert.equal(proxied.headers['fn-http-request-url'], 'http://public.example/t/invoke/gw/deep?q=2');
  });

  test('calls are recorded with status, timings and log', async () => {
    const fn = await mkFn('recorded');
    const r = await invoke(fn.id, { log: 'hello from the function' });
    assert.equal(r.status, 200);
    const id = r.headers.get('fn-call-id')!;
    const list = await calls(fn.id);
    assert.equal(list[0]?.id, id);
    const c = (await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}`)).body;
    assert.equal(c.status, 'success');
    assert.equal(c.app_id, t.appId);
    assert.ok(c.created_at <= c.started_at && c.started_at <= c.completed_at);
    assert.ok(Array.isArray(c.stats));
    const log = (await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}/log`)).body;
    assert.match(log.log, /hello from the function\n.*hello from the function/s);
    const text = await fetch(`${t.srv.url}/v2/fns/${fn.id}/calls/${id}/log`, { headers: { accept: 'text/plain' } });
    assert.match(await text.text(), /hello from the function/);
    assert.equal((await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/01ARZ3NDEKTSV4RRFFQ69G5FAV`)).status, 404);
  });

  test("an http-stream fn cannot write platform lines into its call's log with the Lambda daemon's Kiln-Log header", async () => {
    const fn = await mkFn('forger');
    const forged = Buffer.from('REPORT RequestId: forged\tDuration: 0.01 ms\n').toString('base64');
    const r = await invoke(fn.id, { log: 'its own line', headers: { [LOG_HEADER]: forged, [LOG_FROM_HEADER]: '0' } });
    assert.equal(r.status, 200);
    await t.srv.agent.flushRecords();
    const log = String((await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${r.headers.get('fn-call-id')}/log`)).body.log);
    assert.match(log, /its own line/);
    assert.doesNotMatch(log, /forged/);
  });

  test("output after the answer is the call's own, stored again while its container lives on", async () => {
    const fn = await mkFn('late-log');
    const logOf = async (id: string): Promise<string> => {
      await t.srv.agent.flushRecords();
      return String((await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}/log`)).body.log);
    };
    const first = await invoke(fn.id, { log: 'first call', late: 'written after the answer', lateMs: 100 });
    assert.equal(first.status, 200);
    const firstId = first.headers.get('fn-call-id')!;
    await sleep(300);
    const second = await invoke(fn.id, { log: 'second call' });
    assert.equal(second.status, 200);
    const secondId = second.headers.get('fn-call-id')!;
    assert.ok(await eventually(async () => /written after the answer/.test(await logOf(firstId)), 3000), await logOf(firstId));
    assert.match(await logOf(firstId), /^first call\n.*first call\n.*written after the answer\n$/s);
    assert.doesNotMatch(await logOf(secondId), /written after the answer/);
    assert.equal((await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fn.id).length, 1, 'one container served both');
  });

  test("a burst of output the function is still writing when the freeze is due stays its call's: the next call's log has none of it", async () => {
    const fn = await mkFn('flood-log');
    const logOf = async (id: string): Promise<string> => {
      await t.srv.agent.flushRecords();
      return String((await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}/log`)).body.log);
    };
    // 8 MiB queued in Node before the answer: most of it reaches the pipe after the answer. Paused
    // 50 ms after it, the container kept the rest and gave a later call 1 MiB of it.
    const flood = await invoke(fn.id, { floodMb: 8 });
    assert.equal(flood.status, 200);
    await sleep(2500);
    const next = await invoke(fn.id, { log: 'the next call' });
    assert.equal(next.status, 200);
    const nextLog = await logOf(next.headers.get('fn-call-id')!);
    assert.match(nextLog, /the next call/);
    assert.doesNotMatch(nextLog, /fff/, `${nextLog.length} characters, ${nextLog.slice(0, 200)}`);
    assert.match(await logOf(flood.headers.get('fn-call-id')!), /^f{1023}\n/);
  });

  test('a call past its timeout gets 504, its container is killed, the next call works', async () => {
    const fn = await mkFn('slow', { timeout: 1 });
    const first = await invoke(fn.id, {});
    const pid = (first.body as Echo).pid;
    const t0 = Date.now();
    const r = await invoke(fn.id, { sleepMs: 5000 });
    assert.equal(r.status, 504);
    assert.equal(r.body.message, 'Timed out');
    assert.ok(Date.now() - t0 < 3000, 'answered at the timeout, not after the sleep');
    const next = await invoke(fn.id, {});
    assert.equal(next.status, 200);
    assert.equal((next.body as Echo).calls, 1, 'a fresh container');
    assert.ok(pid > 0);
    assert.equal((await calls(fn.id)).find((c) => c.id === r.headers.get('fn-call-id'))?.status, 'timeout');
  });

  test('a crash mid-call gets 502 and the container is replaced', async () => {
    const fn = await mkFn('crash');
    await invoke(fn.id, {});
    const r = await invoke(fn.id, { crash: true });
    assert.equal(r.status, 502);
    assert.match(r.body.message, /^error receiving function response/);
    const next = await invoke(fn.id, {});
    assert.equal(next.status, 200);
    assert.equal((next.body as Echo).calls, 1);
  });

  test('a container that never opens its socket gets 504 after the start timeout', async () => {
    const fn = await mkFn('nosocket', { config: { MODE: 'nosocket', SAY_AT_START: 'no FDK here: listening on port 8080' } });
    const r = await invoke(fn.id);
    assert.equal(r.status, 504);
    // Fn's words, the bound, and what it printed: most often why (no FDK, so no socket).
    assert.match(r.body.message, /^Container initialization timed out, please ensure you are using the latest fdk and check the logs \(no socket at FN_LISTENER within 2000 ms\): no FDK here: listening on port 8080$/);
    const id = r.headers.get('fn-call-id')!;
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === id)));
    assert.equal(await logOf(fn.id, id), 'no FDK here: listening on port 8080\n');
    // A trigger's caller gets Fn's words alone.
    await call(t.srv.url, 'POST', '/v2/triggers', { name: 'nosocket', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/nosocket' });
    const pub = await fetch(`${t.srv.url}/t/invoke/nosocket`);
    assert.equal(pub.status, 504);
    assert.deepEqual(await pub.json(), { message: 'Container initialization timed out, please ensure you are using the latest fdk and check the logs' });
  });

  test('a trigger is never detached; its 204 and 304 answers carry no length, its 5xx are the function\'s, a HEAD\'s length is the function\'s, body or none', async () => {
    const fn = await mkFn('gw-shapes');
    const trig = await call(t.srv.url, 'POST', '/v2/triggers', { name: 'gw-shapes', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/shapes' });
    assert.equal(trig.status, 200);
    const url = `${t.srv.url}/t/invoke/shapes`;
    // As Fn: the caller's Fn-Invoke-Type reaches the function wrapped, and the call stays synchronous.
    const sync = await fetch(url, { method: 'POST', headers: { 'Fn-Invoke-Type': 'detached' }, body: '{}' });
    assert.equal(sync.status, 200);
    const e = (await sync.json()) as Echo;
    assert.equal(e.headers['fn-http-h-fn-invoke-type'], 'detached');
    assert.equal(e.headers['fn-invoke-type'], undefined);

    const shaped = async (status: string, headers: Record<string, string> = {}) => {
      const r = await fetch(url, { method: 'POST', body: JSON.stringify({ raw: 'xyz', headers: { 'Fn-Http-Status': status, ...headers } }) });
      await r.arrayBuffer();
      return r;
    };
    const noContent = await shaped('204');
    assert.equal(noContent.status, 204);
    assert.equal(noContent.headers.get('content-length'), null);
    assert.equal(noContent.headers.get('content-type'), null);
    const notModified = await shaped('304', { 'Fn-Http-H-Content-Type': 'text/html', 'Fn-Http-H-ETag': '"v1"' });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('etag'), '"v1"');
    assert.equal(notModified.headers.get('content-length'), null);
    assert.equal(notModified.headers.get('content-type'), null);
    // The function answered each time: its own 404 or 504 is the caller's status, not the call's
    // outcome (Fn records a call by the container's status).
    assert.equal((await shaped('404')).status, 404);
    assert.equal((await shaped('504')).status, 504);
    // As Fn's gateway, a 5xx is the function's to give too: a 503 with its Retry-After, a 500.
    const unavailable = await shaped('503', { 'Fn-Http-H-Retry-After': '30' });
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers.get('retry-after'), '30');
    assert.equal((await shaped('500')).status, 500);
    // A HEAD answer's length is the one the function gives (its GET's), as Go sends Fn's.
    const head = await fetch(url, { method: 'HEAD', headers: { 'X-Tester': JSON.stringify({ raw: '', headers: { 'Fn-Http-H-Content-Length': '12345', 'Fn-Http-H-Content-Type': 'application/zip' } }) } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '12345');
    assert.equal(head.headers.get('content-type'), 'application/zip');
    // Also when it wrote a body anyway (which a HEAD answer never carries).
    const headWithBody = await fetch(url, { method: 'HEAD', headers: { 'X-Tester': JSON.stringify({ raw: 'a body of 22 bytes....', headers: { 'Fn-Http-H-Content-Length': '3' } }) } });
    assert.equal(headWithBody.status, 200);
    assert.equal(headWithBody.headers.get('content-length'), '3');
    // A GET's length is its body's, whatever the function says.
    const get = await fetch(url, { headers: { 'X-Tester': JSON.stringify({ raw: 'abc', headers: { 'Fn-Http-H-Content-Length': '12345' } }) } });
    assert.equal(get.headers.get('content-length'), '3');
    assert.equal(await get.text(), 'abc');
    const statuses = (await calls(fn.id)).map((c) => c.status);
    assert.equal(statuses.length, 10);
    assert.deepEqual([...new Set(statuses)], ['success'], JSON.stringify(statuses));
  });

  test("a function's own error answer (502, 504) through a trigger: Fn's fixed words, never its body; /invoke still passes it; the record keeps the status", async () => {
    const fn = await mkFn('gw-errors');
    const trig = await call(t.srv.url, 'POST', '/v2/triggers', { name: 'gw-errors', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/errors' });
    assert.equal(trig.status, 200);
    const secret = 'Error: cannot connect to mysql://root:hunter2@10.0.0.9/prod\n    at handler (/function/func.js:1:1)';
    const viaTrigger = async (status: number) => {
      const r = await fetch(`${t.srv.url}/t/invoke/errors`, { method: 'POST', body: JSON.stringify({ status, raw: secret, headers: { 'Content-Type': 'application/json' } }) });
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    };
    assert.deepEqual(await viaTrigger(502), { status: 502, type: 'application/json', text: '{"message":"function failed"}' });
    assert.deepEqual(await viaTrigger(504), { status: 504, type: 'application/json', text: '{"message":"Timed out"}' });
    const direct = await invoke(fn.id, { status: 502, raw: secret });
    assert.equal(direct.status, 502);
    assert.equal(direct.body, secret);
    const recorded = await calls(fn.id);
    assert.equal(recorded.length, 3);
    assert.deepEqual(recorded.map((c) => c.status).sort(), ['error', 'error', 'timeout'], JSON.stringify(recorded));
  });

  test('a function that relinks lsnr.sock once ready cannot point the agent at a host socket', async () => {
    const fn = await mkFn('relink');
    const dir = await mkdtemp(join(tmpdir(), 'kiln-relink-'));
    const host = join(dir, 'host.sock');
    let reached = 0;
    const server = net.createServer((c) => {
      reached++;
      c.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhost');
    });
    await new Promise<void>((resolve) => server.listen(host, resolve));
    try {
      const first = await invoke(fn.id, { relink: host });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      // The agent drops an idle connection after 1 s, so the next call connects anew.
      await sleep(1500);
      const second = await invoke(fn.id, {});
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal((second.body as Echo).calls, 2, 'the same function answered');
      assert.equal(reached, 0, 'the host socket was never reached');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a container that refuses the connection never saw the call: another container takes it', async () => {
    const fn = await mkFn('refuses');
    const first = await invoke(fn.id, { unlisten: true });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // The agent drops an idle connection after 1 s: the next call must connect, and is refused.
    await sleep(1500);
    const second = await invoke(fn.id, {});
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal((second.body as Echo).calls, 1, 'a new container answered');
    const recorded = (await calls(fn.id)).find((c) => c.id === second.headers.get('fn-call-id'));
    assert.equal(recorded?.status, 'success');
  });

  test('a function that exits after each answer: a call written on its connection as it went goes to another container', async () => {
    const fn = await mkFn('exits-after');
    for (let i = 0; i < 6; i++) {
      const r = await invoke(fn.id, { exitAfter: true });
      // Before, the call sent back to back with the last one's exit was a 502 'container exited with code 0'.
      assert.equal(r.status, 200, `call ${i}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body as Echo).calls, 1, 'a new container answered');
    }
    const statuses = (await calls(fn.id)).map((c) => c.status);
    assert.deepEqual([...new Set(statuses)], ['success'], JSON.stringify(statuses));
  });

  test('with FN_IOFS_TMPFS, a function cannot fill the host disk through its socket directory', async () => {
    const fn = await mkFn('iofs-fill');
    const small = await invoke(fn.id, { iofsBytes: 4096 });
    assert.deepEqual(small.body, { wrote: 4096 });
    const big = await invoke(fn.id, { iofsBytes: 2 * 1024 * 1024 });
    assert.deepEqual(big.body, { error: 'ENOSPC' }, 'bounded by FN_IOFS_OPTS (size=1m)');
  });

  test('a server that binds lsnr.sock itself, with no link, is ready as on Fn', async () => {
    const fn = await mkFn('direct-bind', { config: { MODE: 'direct' } });
    const r = await invoke(fn.id, { hello: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((r.body as Echo).body, JSON.stringify({ hello: 1 }));
  });

  test('an answer with no Content-Type gets the one Fn gives it: Go sniffs a non-empty body', async () => {
    const fn = await mkFn('untyped');
    const type = async (raw: string, repeat = 1) => {
      const r = await fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ raw, repeat }) });
      const text = await r.text();
      assert.equal(r.status, 200, text);
      assert.equal(text.length, raw.length * repeat);
      return r.headers.get('content-type');
    };
    // Fn's current invoke handler leaves the type to Go's net/http, which takes JSON for text.
    assert.equal(await type('{"a":1}'), 'text/plain; charset=utf-8');
    assert.equal(await type('<html><body>hi</body></html>'), 'text/html; charset=utf-8');
    assert.equal(await type('plain words '), 'text/plain; charset=utf-8');
    assert.equal(await type('\u0001\u0002'), 'application/octet-stream');
    assert.equal(await type(''), null, 'Go sniffs only a body that has bytes');
    // A type the function gives is never replaced.
    const typed = await invoke(fn.id, { raw: '{"a":1}', headers: { 'Content-Type': 'text/x-mine' } });
    assert.equal(typed.headers.get('content-type'), 'text/x-mine');
  });

  test('a container that exits at start gets 502 with the reason, and what it printed is the call\'s log', async () => {
    const fn = await mkFn('exits', { config: { MODE: 'exit', SAY_AT_START: 'loading /function/func.js' } });
    const r = await invoke(fn.id);
    assert.equal(r.status, 502);
    assert.match(r.body.message, /^Container failed to initialize: exited with code 3: loading \/function\/func\.js\s+boom at start$/s);
    const id = r.headers.get('fn-call-id')!;
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === id)));
    assert.equal(await logOf(fn.id, id), 'loading /function/func.js\nboom at start\n');
  });

  test('a trigger\'s caller, who may be anyone, is not given what a failed container printed', async () => {
    // A start-up error often prints a connection string, password and all.
    const fn = await mkFn('exits-public', { config: { MODE: 'exit', SAY_AT_START: 'postgres://app:s3cret@db/prod' } });
    await call(t.srv.url, 'POST', '/v2/triggers', { name: 'exits-public', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/exits-public' });
    const r = await fetch(`${t.srv.url}/t/invoke/exits-public`);
    const text = await r.text();
    assert.equal(r.status, 502);
    assert.deepEqual(JSON.parse(text), { message: 'Container failed to initialize: exited with code 3' });
    // The API's caller still reads why, and the call's log has it all.
    const api = await invoke(fn.id);
    assert.match(api.body.message, /^Container failed to initialize: exited with code 3: postgres:\/\/app:s3cret@db\/prod/);
    const id = r.headers.get('fn-call-id')!;
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === id)));
    assert.match(await logOf(fn.id, id), /s3cret/);
  });

  test('a container that prints much at start and then exits: the reason keeps its first and last words', async () => {
    // node prints where the error is first, then its stack: both say what to fix.
    const fn = await mkFn('exits-chatty', { config: { MODE: 'exit', SAY_AT_START: '/function/func.js:14', NOISE_BYTES: String(40 * 1024) } });
    const r = await invoke(fn.id);
    assert.equal(r.status, 502);
    assert.match(r.body.message, /^Container failed to initialize: exited with code 3: \/function\/func\.js:14\s+n+ … n+\s*boom at start$/s);
    assert.ok(r.body.message.length < 1024, 'within what a call record keeps of a message');
  });

  test('what an http-stream container prints as it starts heads its first call\'s log, not the next ones', async () => {
    const fn = await mkFn('says-at-start', { config: { SAY_AT_START: 'warming the cache' } });
    const first = await invoke(fn.id, { log: 'first call' });
    const second = await invoke(fn.id, { log: 'second call' });
    assert.equal(second.body.pid, first.body.pid, 'one container');
    const [a, b] = [first.headers.get('fn-call-id')!, second.headers.get('fn-call-id')!];
    assert.ok(await eventually(async () => (await logOf(fn.id, a)).includes('first call') && (await logOf(fn.id, b)).includes('second call')));
    assert.match(await logOf(fn.id, a), /^warming the cache\n/);
    assert.doesNotMatch(await logOf(fn.id, b), /warming/);
  });

  test('a function over its memory is recorded as out of memory (502)', async () => {
    const fn = await mkFn('oom', { memory: 48 });
    const r = await invoke(fn.id, { allocMb: 200 });
    assert.equal(r.status, 502);
    assert.match(r.body.message, /out of memory/);
    const rec = (await calls(fn.id)).find((c) => c.id === r.headers.get('fn-call-id'));
    assert.equal(rec?.status, 'error');
    assert.match(rec?.error ?? '', /out of memory/);
  });

  // Fn takes any memory from 1 MB; the engine starts nothing under its minimum (Docker's 6 MB).
  test('a memory the engine refuses (5 MB): the fn reads as stored, each call is a 502 without Retry-After naming it', async () => {
    const fn = await mkFn('tiny', { memory: 5 });
    const read = await call(t.srv.url, 'GET', `/v2/fns/${fn.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.memory, 5);
    for (let i = 0; i < 2; i++) {
      const r = await invoke(fn.id, {});
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.equal(r.headers.get('retry-after'), null);
      assert.match(r.body.message, /^container failed to start: the container engine refused its configuration: .*memory.* \(the fn's memory is 5 MB\)$/i);
      const rec = (await calls(fn.id)).find((c) => c.id === r.headers.get('fn-call-id'));
      assert.equal(rec?.error, r.body.message);
    }
    assert.deepEqual((await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fn.id), [], 'no container left');
  });

  // Docker's OOMKilled stays set for the container's life once any process in it was killed so.
  test('a crash after a child of the function was OOM-killed is a crash (exit code 1), not out of memory', async () => {
    const fn = await mkFn('oom-child', { memory: 128 });
    const first = await invoke(fn.id, { childAllocMb: 300 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body, { child: 'SIGKILL' });
    const r = await invoke(fn.id, { crash: true });
    assert.equal(r.status, 502);
    assert.equal(r.body.message, 'error receiving function response: container exited with code 1');
    const rec = (await calls(fn.id)).find((c) => c.id === r.headers.get('fn-call-id'));
    assert.equal(rec?.error, 'error receiving function response: container exited with code 1');
  });

  test('an interim 103 Early Hints before the answer is skipped: the caller gets the answer, the container stays', async () => {
    const fn = await mkFn('hints');
    const first = await invoke(fn.id, { earlyHints: true });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.body, '{"earlyHints":true}');
    const again = await invoke(fn.id, {});
    assert.equal(again.body.pid, first.body.pid, 'the same container served both');
  });

  test('a status other than 200/502/504 is an invalid response (502) and replaces the container', async () => {
    const fn = await mkFn('teapot');
    const r = await invoke(fn.id, { status: 418 });
    assert.equal(r.status, 502);
    assert.match(r.body.message, /invalid function response/);
    const next = await invoke(fn.id, {});
    assert.equal((next.body as Echo).calls, 1);
    // The function's own 502 passes through and the container stays.
    const own = await invoke(fn.id, { status: 502 });
    assert.equal(own.status, 502);
    assert.equal(((await invoke(fn.id, {})).body as Echo).calls, 3);
  });

  test("an http-stream fn's X-Amz-Function-Error is neither passed on nor recorded: only Kiln's Lambda daemon is believed", async () => {
    const fn = await mkFn('amzerror');
    const r = await invoke(fn.id, { status: 502, headers: { 'X-Amz-Function-Error': 'E'.repeat(15_000) }, raw: 'oops' });
    assert.equal(r.status, 502);
    assert.equal(r.headers.get('x-amz-function-error'), null);
    const [c] = await calls(fn.id);
    assert.equal(c?.error, 'function answered 502');
  });

  test('a response over FN_MAX_RESPONSE_SIZE gets 502; a request over FN_MAX_REQUEST_SIZE gets 413', async () => {
    const fn = await mkFn('sizes');
    const big = await invoke(fn.id, { bytes: 100_000 });
    assert.equal(big.status, 502);
    assert.match(big.body.message, /function response body too large/);
    const ok = await invoke(fn.id, { bytes: 30_000 });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.length, 30_000);
    const tooBig = await invoke(fn.id, 'x'.repeat(20_000));
    assert.equal(tooBig.status, 413);
  });

  // Node's 16 KiB head limit used to apply: the agent's read broke, the container was dropped
  // and the caller got 502 a second later. Fn's Go client reads 10 MB.
  test('response headers past 16 KiB reach the caller; past 1 MiB they are a prompt 502, recorded', async () => {
    const fn = await mkFn('bighead');
    // fetch (undici) reads 16 KiB of a head too: this client reads what Kiln may send.
    const post = (body: unknown) => new Promise<{ status: number; big: number; text: string }>((resolve, reject) => {
      const req = http.request(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', maxHeaderSize: 2 * 1024 * 1024 }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () =>
          resolve({ status: res.statusCode ?? 0, big: String(res.headers['x-big'] ?? '').length, text }));
      });
      req.on('error', reject).end(JSON.stringify(body));
    });
    const ok = await post({ headerBytes: 100_000 });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.big, 100_000);

    const started = Date.now();
    const tooBig = await post({ headerBytes: 1_100_000 });
    assert.equal(tooBig.status, 502, tooBig.text);
    assert.match(JSON.parse(tooBig.text).message, /function response headers too large: over 1048576 bytes/);
    assert.ok(Date.now() - started < 900, `answered after ${Date.now() - started} ms`);
    const rec = (await calls(fn.id)).find((c) => c.status === 'error');
    assert.match(rec?.error ?? '', /headers too large/);
    assert.equal((await post({})).status, 200);
  });

  test('a missing image gets a clear error naming it and leaves no container', async () => {
    const fn = await mkFn('noimage', { image: 'kiln-test/does-not-exist:1' });
    const before_ = (await nodeContainers(t.docker, t.srv.nodeId)).length;
    const r = await invoke(fn.id);
    assert.equal(r.status, 502);
    assert.match(r.body.message, /kiln-test\/does-not-exist:1/);
    assert.equal((await nodeContainers(t.docker, t.srv.nodeId)).length, before_);
    const rec = (await calls(fn.id)).find((c) => c.id === r.headers.get('fn-call-id'));
    assert.equal(rec?.status, 'error', 'the failed call is recorded');
    // A detached call reports the failure too, rather than a 202 for a call that cannot run.
    const detached = await invoke(fn.id, {}, { 'Fn-Invoke-Type': 'detached' });
    assert.equal(detached.status, 502);
  });

  test('a client that disconnects mid-call is recorded as cancelled and nothing leaks', async () => {
    const fn = await mkFn('cancel');
    await invoke(fn.id, {});
    const ac = new AbortController();
    const pending = fetch(`${t.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ sleepMs: 3000 }), signal: ac.signal });
    await new Promise((r) => setTimeout(r, 500));
    ac.abort();
    await assert.rejects(pending);
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.status === 'cancelled')), 'recorded as cancelled');
    const next = await invoke(fn.id, {});
    assert.equal(next.status, 200);
  });

  test('a long call is recorded with docker stats under Fn’s metric names', async () => {
    const fn = await mkFn('stats');
    const r = await invoke(fn.id, { sleepMs: 2500 });
    assert.equal(r.status, 200);
    await t.srv.agent.flushRecords();
    const c = (await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${r.headers.get('fn-call-id')}`)).body;
    assert.ok(c.stats.length >= 1, `stats sampled during the call: ${JSON.stringify(c.stats)}`);
    const s = c.stats[0];
    assert.match(s.timestamp, /^\d{4}-\d\d-\d\dT/);
    for (const k of ['cpu_user', 'cpu_kernel', 'cpu_total', 'mem_usage', 'mem_limit', 'net_rx', 'net_tx', 'disk_read', 'disk_write']) {
      assert.equal(typeof s.metrics[k], 'number', k);
    }
    assert.ok(s.metrics.mem_usage > 0);
  });

  test('an edit to a fn takes effect on the next call (a fresh pool)', async () => {
    const fn = await mkFn('edited', { config: { ECHO_ENV: 'COLOR', COLOR: 'red' } });
    assert.equal(((await invoke(fn.id)).body as Echo).env.COLOR, 'red');
    assert.equal((await call(t.srv.url, 'PUT', `/v2/fns/${fn.id}`, { config: { COLOR: 'blue' } })).status, 200);
    assert.equal(((await invoke(fn.id)).body as Echo).env.COLOR, 'blue');
  });

  test('a lambda-format fn with no bootstrap fails with Runtime.InvalidEntrypoint, recorded', async () => {
    // kiln/shell has neither a bootstrap file nor a command of its own.
    const fn = await mkFn('lambda', { format: 'lambda', image: SHELL_BASE_LATEST });
    const r = await invoke(fn.id);
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.errorType, 'Runtime.InvalidEntrypoint');
    assert.equal(r.headers.get('x-amz-function-error'), 'Unhandled');
    const [c] = await calls(fn.id);
    assert.equal(c?.status, 'error');
    // The record names the body's type and message, not the header's Unhandled.
    assert.match(c?.error ?? '', /^function answered 502: Runtime\.InvalidEntrypoint: RequestId: \S+ Error: no bootstrap/);
  });

  test('an http-stream fn whose image has no ENTRYPOINT or CMD: 502 saying so, no Retry-After, the fn\'s failure not the engine\'s', async () => {
    // kiln/shell says nothing to run: the engine refuses to create its container ("No command specified").
    const fn = await mkFn('no-command', { image: SHELL_BASE_LATEST });
    const failures = async (kind: string): Promise<number> => {
      const text = await (await fetch(`${t.srv.url}/metrics`)).text();
      return Number(new RegExp(`^kiln_call_failures_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    const [engineBefore, configBefore] = [await failures('engine'), await failures('config')];
    const r = await invoke(fn.id);
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.message, `container failed to start: image "${SHELL_BASE_LATEST}" has no ENTRYPOINT or CMD, so there is nothing to run: give the image an ENTRYPOINT or CMD that starts the function (with an FDK, listening on FN_LISTENER)`);
    assert.equal(r.headers.get('retry-after'), null, 'trying again will not help');
    const [c] = await calls(fn.id);
    assert.equal(c?.status, 'error');
    assert.equal(await failures('engine'), engineBefore, 'not counted as the engine failing');
    assert.equal(await failures('config'), configBefore + 1, 'counted as the fn\'s configuration');
    assert.deepEqual((await nodeContainers(t.docker, t.srv.nodeId)).filter((x) => x.Labels[FN_LABEL] === fn.id), [], 'no container left');
  });

  test('invoke answers 405 for other methods and 404 for unknown fns', async () => {
    const fn = await mkFn('methods');
    const r = await call(t.srv.url, 'GET', `/invoke/${fn.id}`);
    assert.equal(r.status, 405);
    assert.equal(r.body.message, `Method not allowed: GET /invoke/${fn.id}`);
    const nf = await call(t.srv.url, 'POST', '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV', '{}');
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.body, { message: 'Fn not found' });
  });

  test('detached calls answer 202 at once and run', async () => {
    const fn = await mkFn('detached');
    const r = await invoke(fn.id, { sleepMs: 300 }, { 'Fn-Invoke-Type': 'detached' });
    assert.equal(r.status, 202);
    const id = r.headers.get('fn-call-id');
    assert.match(id ?? '', /^[0-9A-Z]{26}$/);
    // As Fn: no body, the call id only in Fn-Call-Id.
    assert.equal(r.body, '');
    assert.equal(r.headers.get('content-length'), '0');
    assert.equal(r.headers.get('content-type'), null);
    assert.ok(await eventually(async () => (await calls(fn.id)).some((c) => c.id === id && c.status === 'success'), 10_000));
  });
});
