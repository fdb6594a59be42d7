// Input the daemon met in fuzzing (runtime/extension side on 127.0.0.1, agent side on the
// socket) that used to answer 500, lose an invocation, break the agent's connection or time a
// call out at once. Each test ends with a good invocation: the daemon must take it as before.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { connect, type NetConnectOpts } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { assertAccepted, assertApiError, assertFailure, invoke, register, type Answer, type Daemon, type Invocation, type Json, withDaemon } from '../helpers/daemon.js';
import { STREAM_ERROR_MESSAGE_TRAILER, STREAM_ERROR_TRAILER } from '../../runtime/wire.js';

/** `[[[…]]]` nested `depth` deep: JSON.parse takes it, String() and JSON.stringify of it overflow the stack. */
const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const DEEP = 100_000;

/**
 * `invoke`, but a call answered before the runtime got its event fails the test at once
 * instead of leaving it parked in `next` for good.
 */
async function invoked(d: Daemon, headers: Record<string, string>): Promise<Invocation> {
  const next = d.next();
  const answer = d.call('{"a":1}', headers);
  const first = await Promise.race([next.then(() => undefined), answer.then((a) => a, (err: Error) => err.message)]);
  if (first !== undefined) assert.fail(`the call was answered before the runtime got its event: ${typeof first === 'string' ? first : `${first.status} ${first.text}`}`);
  const event = await next;
  assert.equal(event.status, 200, event.text);
  return { id: String(event.headers['lambda-runtime-aws-request-id']), event, answer };
}

/** One full invocation after the odd input: the daemon still serves as before. */
async function stillServes(d: Daemon, id = 'after'): Promise<void> {
  const inv = await invoke(d, { 'fn-call-id': id });
  assertAccepted(await d.post(inv.id, 'response', '{"alive":true}'));
  assert.deepEqual((await inv.answer).json(), { alive: true });
}

/** Writes raw bytes to the Lambda APIs; `hold` ms later the connection is closed. Resolves with what came back. */
function raw(d: Daemon, bytes: string, hold = 200): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(d.port, '127.0.0.1');
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(bytes);
    setTimeout(() => s.destroy(), hold);
  });
}

const streamHead = (id: string): string =>
  `POST /2018-06-01/runtime/invocation/${id}/response HTTP/1.1\r\nhost: x\r\n` +
  'lambda-runtime-function-response-mode: streaming\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n';

describe('Runtime API: request ids, response modes, long error types', () => {
  // Percent-escapes that do not decode (decodeURIComponent threw: 500 InternalServerError).
  const ids = ['%ZZ', '%', '%E0%A4%A', 'a%2'];
  test(`ids that do not decode (${ids.join(' ')}): 400 InvalidRequestID for /response and /error`, () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'real' });
      for (const id of ids) {
        for (const what of ['response', 'error']) {
          assertApiError(await d.api('POST', `/2018-06-01/runtime/invocation/${id}/${what}`, { body: '{}' }), 400, 'InvalidRequestID');
        }
      }
      assertAccepted(await d.post(inv.id, 'response', '"real"'));
      assert.equal((await inv.answer).text, '"real"');
      await stillServes(d);
    }));

  // The service reads the mode with Go's Header.Get: empty is no mode (was 400 InvalidFunctionResponseMode).
  test('an empty Lambda-Runtime-Function-Response-Mode is a buffered response: 202, the caller 200', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'empty-mode' });
      assertAccepted(await d.post(inv.id, 'response', '{"buffered":true}', { 'lambda-runtime-function-response-mode': '' }));
      const a = await inv.answer;
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.json(), { buffered: true });
      await stillServes(d);
    }));

  // The test's client reads 16 KiB of headers, as Node's clients do: a 20 KiB error type made the
  // answer unreadable (and once broke the agent's read, which dropped the container).
  test('/error with a 20 KiB error type and content type: the caller gets a readable 502, both cut to 1024 characters', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'long-type' });
      const type = `Function.${'E'.repeat(20_000)}`;
      assertAccepted(await d.post(inv.id, 'error', '{"errorType":"x"}', { 'lambda-runtime-function-error-type': type, 'content-type': `text/${'p'.repeat(20_000)}` }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], type.slice(0, 1024));
      assert.equal(String(a.headers['content-type']).length, 1024);
      assert.equal(a.text, '{"errorType":"x"}');
      await stillServes(d);
    }));
});

describe('Runtime API: a response stream that breaks off', () => {
  /** The caller's answer read whole: status, body, trailers; or how its connection failed. */
  const callerAnswer = (a: Promise<Answer>): Promise<Answer | string> => a.catch((err: NodeJS.ErrnoException) => `connection failed: ${err.code ?? err.message}`);

  // Each used to destroy the caller's connection (the agent drops the container for that).
  const cases: { name: string; send: (id: string) => string; want: { status: number; text?: string; trailer?: string; errorType?: string } }[] = [
    { name: 'a malformed chunk after the first bytes: the bytes, then trailer Runtime.TruncatedResponse', send: (id) => `${streamHead(id)}5\r\nhello\r\nZZ\r\n`, want: { status: 200, text: 'hello', trailer: 'Runtime.TruncatedResponse' } },
    { name: 'the runtime\'s connection closed mid-stream: the bytes, then trailer Runtime.TruncatedResponse', send: (id) => `${streamHead(id)}5\r\nhello\r\n`, want: { status: 200, text: 'hello', trailer: 'Runtime.TruncatedResponse' } },
    { name: 'a malformed first chunk: 502 Runtime.TruncatedResponse', send: (id) => `${streamHead(id)}QQ\r\n`, want: { status: 502, errorType: 'Runtime.TruncatedResponse' } },
    { name: 'closed before the first byte: 502 Runtime.TruncatedResponse', send: (id) => streamHead(id), want: { status: 502, errorType: 'Runtime.TruncatedResponse' } },
  ];
  for (const c of cases) {
    test(c.name, () =>
      withDaemon({}, async (d) => {
        const inv = await invoke(d, { 'fn-call-id': 'broken' });
        await raw(d, c.send('broken'));
        const a = await callerAnswer(inv.answer);
        assert.ok(typeof a !== 'string', a as string);
        assert.equal(a.status, c.want.status, a.text);
        if (c.want.text !== undefined) assert.equal(a.text, c.want.text);
        assert.equal(a.trailers[STREAM_ERROR_TRAILER], c.want.trailer);
        if (c.want.trailer !== undefined) {
          assert.equal(Buffer.from(String(a.trailers[STREAM_ERROR_MESSAGE_TRAILER]), 'base64').toString('utf8'),
            "RequestId: broken Error: The runtime's response stream ended before it was complete");
        }
        if (c.want.errorType) assert.match((assertFailure(a, 502, c.want.errorType) as Json).errorMessage, /^RequestId: broken Error: /);
        // The runtime calls next again, as after any answer; the sandbox goes on.
        await stillServes(d);
      }));
  }
});

describe('Runtime API: a buffered answer whose POST breaks off mid-body (the runtime lives on)', () => {
  /** The caller's answer, or a failure once `ms` have passed (the call's timeout is far later). */
  const within = <T>(p: Promise<T>, ms: number): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  const post = (id: string, what: string, framing: string) =>
    `POST /2018-06-01/runtime/invocation/${id}/${what} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${framing}`;
  // Each used to leave the call waiting for its deadline (30 s here).
  const cases: { name: string; send: (id: string) => string }[] = [
    { name: '/response, Content-Length 100, 10 bytes sent, then closed', send: (id) => `${post(id, 'response', 'content-length: 100\r\n\r\n')}{"part":1,` },
    { name: '/response, chunked, a malformed chunk', send: (id) => `${post(id, 'response', 'transfer-encoding: chunked\r\n\r\n')}5\r\n{"a":\r\nZZ\r\n` },
    { name: '/response, chunked, closed before the last chunk', send: (id) => `${post(id, 'response', 'transfer-encoding: chunked\r\n\r\n')}5\r\n{"a":\r\n` },
    { name: '/error, Content-Length 100, 10 bytes sent, then closed', send: (id) => `${post(id, 'error', 'lambda-runtime-function-error-type: Function.Oops\r\ncontent-length: 100\r\n\r\n')}{"part":1,` },
  ];
  for (const c of cases) {
    test(`${c.name}: the caller gets 502 Runtime.TruncatedResponse at once`, () =>
      withDaemon({ timeoutSec: 30 }, async (d) => {
        const inv = await invoke(d, { 'fn-call-id': 'cut' });
        await raw(d, c.send('cut'), 100);
        const a = await within(inv.answer, 5000);
        const body = assertFailure(a, 502, 'Runtime.TruncatedResponse');
        assert.equal(a.headers['x-amz-function-error'], 'Runtime.TruncatedResponse');
        assert.match(body.errorMessage as string, /^RequestId: cut Error: The runtime's response body ended before it was complete$/);
        // The invoke counts as answered: a second answer is refused, and the sandbox goes on.
        assertApiError(await d.post('cut', 'response', '"late"'), 403, 'InvalidStateTransition');
        await stillServes(d);
      }));
  }
});

describe('Both servers: a client that stalls in its head; long polls and long streams are not cut', () => {
  const HEADERS_MS = 400;

  /** Connects, writes `bytes` (maybe half a head, maybe nothing) and waits for the server to close; fails after `ms`. */
  function stalled(to: NetConnectOpts, bytes: string, ms = 5000): Promise<{ got: string; closedAfterMs: number }> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const s = connect(to);
      let got = '';
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`still open after ${ms} ms`));
      }, ms);
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.on('error', () => {});
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ got, closedAfterMs: Date.now() - t0 });
      });
      if (bytes) s.write(bytes);
    });
  }

  // Both servers had no headers timeout: these held their sockets for as long as they liked.
  test('half a head, or nothing at all: 408 and closed after the headers timeout, on the Lambda APIs and the http-stream socket', () =>
    withDaemon({ headersTimeoutMs: HEADERS_MS }, async (d) => {
      const api = { port: d.port, host: '127.0.0.1' };
      const sock = { path: join(d.dir, 'lsnr.sock') };
      const cases: [string, NetConnectOpts, string][] = [
        ['the Lambda APIs, half a head', api, 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n'],
        ['the Lambda APIs, nothing sent', api, ''],
        ['http-stream, half a head', sock, 'POST /call HTTP/1.1\r\nhost: x\r\nfn-call-id: half\r\n'],
      ];
      const results = await Promise.all(cases.map(([, to, bytes]) => stalled(to, bytes)));
      for (const [i, r] of results.entries()) {
        assert.match(r.got, /^HTTP\/1\.1 408 /, cases[i]![0]);
        assert.ok(r.closedAfterMs >= HEADERS_MS, `${cases[i]![0]}: closed after ${r.closedAfterMs} ms`);
      }
      await stillServes(d);
    }));

  test(`a next parked, an idle wait, a slow answer and a slow response stream, each far past the headers timeout (${HEADERS_MS} ms), go through`, () =>
    withDaemon({ headersTimeoutMs: HEADERS_MS }, async (d) => {
      // The runtime parks in next well before the call comes; the agent's idle wait spans it too.
      const next = d.next();
      await sleep(HEADERS_MS * 4);
      const idle = await d.idle();
      assert.equal(idle.status, 200);
      const answer = d.call('{"slow":true}', { 'fn-call-id': 'slow' });
      const event = await next;
      assert.equal(event.status, 200, event.text);
      await sleep(HEADERS_MS * 4);
      assertAccepted(await d.post('slow', 'response', '"late but fine"'));
      assert.equal((await answer).text, '"late but fine"');

      // A response stream whose chunks take 5 headers timeouts to come.
      const next2 = d.next();
      const call = request({ socketPath: join(d.dir, 'lsnr.sock'), method: 'POST', path: '/call', headers: { 'fn-call-id': 'drip' } });
      call.end('{}');
      assert.equal((await next2).status, 200);
      const runtime = request({
        host: '127.0.0.1', port: d.port, method: 'POST', path: '/2018-06-01/runtime/invocation/drip/response',
        headers: { 'lambda-runtime-function-response-mode': 'streaming', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' },
      });
      const acked = once(runtime, 'response') as Promise<[IncomingMessage]>;
      runtime.write('0 ');
      const [res] = (await once(call, 'response')) as [IncomingMessage];
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      const ended = once(res, 'end');
      for (let i = 1; i <= 5; i++) {
        await sleep(HEADERS_MS);
        runtime.write(`${i} `);
      }
      runtime.end('end');
      await ended;
      assert.equal(text, '0 1 2 3 4 5 end');
      assert.equal(res.trailers[STREAM_ERROR_TRAILER], undefined);
      const [ack] = await acked;
      ack.resume();
      assert.equal(ack.statusCode, 202);
      await stillServes(d);
    }));
});

describe('Telemetry and Logs APIs: crafted subscription bodies', () => {
  const destination = { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/' };
  const types = '["platform"]';
  // Were 500 InternalServerError (String() threw or overflowed the stack) or 200 (taken).
  // `v`: a schemaVersion the API takes, where the row is not about it.
  const bodies: { name: string; body: (v: string) => string }[] = [
    { name: 'schemaVersion an array nested 100,000 deep', body: () => `{"schemaVersion":${deepArray(DEEP)},"types":${types},"destination":${JSON.stringify(destination)}}` },
    { name: 'schemaVersion an object with a toString field', body: () => `{"schemaVersion":{"toString":1},"types":${types},"destination":${JSON.stringify(destination)}}` },
    { name: 'destination.URI port 0', body: (v) => JSON.stringify({ schemaVersion: v, types: ['platform'], destination: { protocol: 'HTTP', URI: 'http://sandbox:0/' } }) },
    { name: 'buffering a number', body: (v) => JSON.stringify({ schemaVersion: v, types: ['platform'], destination, buffering: 5 }) },
    { name: 'buffering a string', body: (v) => JSON.stringify({ schemaVersion: v, types: ['platform'], destination, buffering: 'fast' }) },
    { name: 'buffering a list', body: (v) => JSON.stringify({ schemaVersion: v, types: ['platform'], destination, buffering: [1000] }) },
  ];
  const apis = [
    { path: '/2022-07-01/telemetry', version: '2022-12-13', errorType: 'ValidationError' },
    { path: '/2020-08-15/logs', version: '2021-03-18', errorType: 'Logs.ValidationError' },
  ];
  test(`${bodies.map((b) => b.name).join('; ')}: 400 ValidationError (Logs.ValidationError), for both APIs`, () =>
    withDaemon({}, async (d) => {
      const id = await register(d, 'crafty', []);
      for (const b of bodies) {
        for (const api of apis) {
          const a = await d.api('PUT', api.path, { headers: { 'lambda-extension-identifier': id }, body: b.body(api.version) });
          assert.equal(a.status, 400, `${b.name} (${api.path}): ${a.text}`);
          assertApiError(a, 400, api.errorType);
        }
      }
      // Nothing was taken: a good subscription is the first.
      const ok = await d.api('PUT', '/2022-07-01/telemetry', { headers: { 'lambda-extension-identifier': id }, body: JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'], destination }) });
      assert.equal(ok.status, 200, ok.text);
      void d.eventNext(id);
      await stillServes(d);
    }));
});

describe('http-stream: calls the agent could send', () => {
  // Past Node's longest timer (about 24.8 days) a setTimeout fires after 1 ms: these timed out at once.
  for (const [name, deadline] of [['in 40 days', new Date(Date.now() + 40 * 86_400_000).toISOString()], ['in the year 9999', '9999-12-31T23:59:59Z']] as const) {
    test(`Fn-Deadline ${name}: the call waits for the runtime's answer`, () =>
      withDaemon({}, async (d) => {
        const inv = await invoked(d, { 'fn-call-id': 'far', 'fn-deadline': deadline });
        // The wait for the boot init moves it on by that long.
        assert.ok(Number(inv.event.headers['lambda-runtime-deadline-ms']) >= Date.parse(deadline));
        assertAccepted(await d.post(inv.id, 'response', '"in time"'));
        const a = await inv.answer;
        assert.equal(a.status, 200, a.text);
        assert.equal(a.text, '"in time"');
        await stillServes(d);
      }));
  }

  // The decoded context went into `next`'s header as is: node:http threw on it, `next` answered
  // 500 and the event was lost (the caller waited for its timeout).
  const contexts: { name: string; json: string }[] = [
    { name: 'JSON with newlines', json: '{\n  "client": {"app_title": "x"},\r\n  "custom": {}\n}' },
    { name: 'text beyond latin1', json: '{"custom":{"title":"価格 10 €"}}' },
    { name: 'a DEL character in a string', json: '{"custom":{"k":"a\u007fb"}}' },
  ];
  test(`X-Amz-Client-Context of ${contexts.map((c) => c.name).join(', ')}: the runtime gets it, as UTF-8 JSON`, () =>
    withDaemon({}, async (d) => {
      for (const [i, c] of contexts.entries()) {
        const inv = await invoked(d, { 'fn-call-id': `ctx-${i}`, 'x-amz-client-context': Buffer.from(c.json).toString('base64') });
        const header = inv.event.headers['lambda-runtime-client-context'];
        assert.equal(typeof header, 'string', c.name);
        assert.deepEqual(JSON.parse(Buffer.from(header as string, 'latin1').toString('utf8')), JSON.parse(c.json), c.name);
        assertAccepted(await d.post(inv.id, 'response', '"ok"'));
        assert.equal((await inv.answer).status, 200);
      }
      await stillServes(d);
    }));

  // The agent builds Fn-Http-Request-Url from the caller's Host header: `Host: [` made `new URL`
  // throw and /call answer 500 (the agent drops the container for any status but 200/502/504).
  test('an HTTP trigger call whose URL has no valid host: the event keeps the path and query', () =>
    withDaemon({}, async (d) => {
      const inv = await invoked(d, { 'fn-call-id': 'bad-host', 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': 'http://[/t/app/path?x=1' });
      const event = JSON.parse(inv.event.text) as Json;
      assert.equal(event.rawPath, '/path');
      assert.equal(event.rawQueryString, 'x=1');
      assertAccepted(await d.post(inv.id, 'response', '{"statusCode":201,"body":"made"}'));
      const a = await inv.answer;
      assert.equal(a.status, 200, a.text);
      assert.equal(a.headers['fn-http-status'], '201');
      await stillServes(d);
    }));

  // An HTTP trigger's headers come wrapped (Fn-Http-H-*), plus the URL again: more than the
  // agent's own front takes. Node's 16 KiB default answered 431, which costs the container.
  test('a call with 20 KiB of headers is taken', () =>
    withDaemon({}, async (d) => {
      const inv = await invoked(d, { 'fn-call-id': 'big-headers', 'x-padding': 'p'.repeat(20_000) });
      assertAccepted(await d.post(inv.id, 'response', '"ok"'));
      assert.equal((await inv.answer).status, 200);
      await stillServes(d);
    }));

  // This test's client reads 16 KiB of an answer's head, as Node's clients do (and the agent once
  // did: these broke its read, it dropped the container and answered its own 502 a second later).
  test('a function URL result or stream prelude with more than 16 KiB of headers: 502 Function.ResponseSizeTooLarge; 12 KiB pass', () =>
    withDaemon({}, async (d) => {
      const gateway = { 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/app/big' };
      const results: { name: string; result: object }[] = [
        { name: 'one 20 KiB header', result: { statusCode: 200, headers: { 'x-big': 'b'.repeat(20_000) }, body: 'no' } },
        { name: '1000 small headers', result: { statusCode: 200, headers: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, 'v'.repeat(10)])), body: 'no' } },
        { name: '40 cookies of 500 bytes', result: { statusCode: 200, cookies: Array.from({ length: 40 }, (_, i) => `c${i}=${'v'.repeat(500)}`), body: 'no' } },
      ];
      for (const [i, r] of results.entries()) {
        const inv = await invoked(d, { ...gateway, 'fn-call-id': `big-${i}` });
        assertAccepted(await d.post(inv.id, 'response', JSON.stringify(r.result)));
        const a = await inv.answer;
        const body = assertFailure(a, 502, 'Function.ResponseSizeTooLarge');
        assert.equal(a.headers['x-amz-function-error'], 'Function.ResponseSizeTooLarge', r.name);
        assert.match(body.errorMessage as string, /^Response headers \(\d+ bytes\) exceeded maximum allowed size \(15872 bytes\)\.$/, r.name);
      }

      const fits = await invoked(d, { ...gateway, 'fn-call-id': 'fits' });
      assertAccepted(await d.post(fits.id, 'response', JSON.stringify({ statusCode: 203, headers: { 'x-big': 'b'.repeat(12_000) }, body: 'yes' })));
      const f = await fits.answer;
      assert.equal(f.headers['fn-http-status'], '203');
      assert.equal(String(f.headers['fn-http-h-x-big']).length, 12_000);
      assert.equal(f.text, 'yes');

      // The same head in a stream's prelude: nothing was sent yet, so the error is the answer.
      const stream = await invoked(d, { ...gateway, 'fn-call-id': 'big-prelude' });
      const runtime = request({
        host: '127.0.0.1', port: d.port, method: 'POST', path: '/2018-06-01/runtime/invocation/big-prelude/response',
        headers: { 'lambda-runtime-function-response-mode': 'streaming', 'content-type': 'application/vnd.awslambda.http-integration-response' },
      });
      const acked = once(runtime, 'response') as Promise<[IncomingMessage]>;
      runtime.end(Buffer.concat([Buffer.from(JSON.stringify(results[0]!.result)), Buffer.alloc(8), Buffer.from('streamed')]));
      const [ack] = await acked;
      ack.resume();
      assert.equal(ack.statusCode, 202);
      assertFailure(await stream.answer, 502, 'Function.ResponseSizeTooLarge');
      await stillServes(d);
    }));

  // Were 500 from /call (JSON.stringify or String() overflowed), or a destroyed connection for a prelude.
  test('a function URL result nested too deep: the body is a 502 result, a header is dropped; the daemon goes on', () =>
    withDaemon({}, async (d) => {
      const gateway = { 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/app/deep' };
      const body = await invoked(d, { ...gateway, 'fn-call-id': 'deep-body' });
      assertAccepted(await d.post(body.id, 'response', `{"statusCode":200,"body":${deepArray(DEEP)}}`));
      const a = await body.answer;
      assert.equal(a.status, 200);
      assert.equal(a.headers['fn-http-status'], '502');

      const header = await invoked(d, { ...gateway, 'fn-call-id': 'deep-header' });
      assertAccepted(await d.post(header.id, 'response', `{"statusCode":203,"headers":{"x-deep":${deepArray(DEEP)},"x-ok":"yes"},"body":"hi"}`));
      const h = await header.answer;
      assert.equal(h.headers['fn-http-status'], '203');
      assert.equal(h.headers['fn-http-h-x-ok'], 'yes');
      assert.equal(h.headers['fn-http-h-x-deep'], undefined);
      assert.equal(h.text, 'hi');

      // The same header in a stream's prelude, and a status nested deep.
      const stream = await invoked(d, { ...gateway, 'fn-call-id': 'deep-prelude' });
      const prelude = `{"statusCode":${deepArray(DEEP)},"headers":{"x-deep":${deepArray(DEEP)},"x-ok":"yes"}}`;
      const runtime = request({
        host: '127.0.0.1', port: d.port, method: 'POST', path: '/2018-06-01/runtime/invocation/deep-prelude/response',
        headers: { 'lambda-runtime-function-response-mode': 'streaming', 'content-type': 'application/vnd.awslambda.http-integration-response' },
      });
      const acked = once(runtime, 'response') as Promise<[IncomingMessage]>;
      runtime.end(Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('streamed')]));
      const [ack] = await acked;
      ack.resume();
      assert.equal(ack.statusCode, 202);
      const s = await stream.answer;
      assert.equal(s.headers['fn-http-status'], '500');
      assert.equal(s.headers['fn-http-h-x-ok'], 'yes');
      assert.equal(s.text, 'streamed');
      await stillServes(d);
    }));
});
