// What real, unmodified clients send and expect, checked against the daemon: aws-lambda-go's
// chunked responses with error trailers, the 1 MiB X-Ray cause header of the Java/Go/Python/
// Ruby clients, the Rust lambda-extension crate's strict parsing of Logs API records, the
// register and client-context answers the service gives, and streamed function URL answers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertAccepted, assertApiError, finishStream, freePort, invoke, register, startSink, subscribeTelemetry, until, warm, withDaemon, withSink, type Answer, type Daemon, type Invocation, type Json, type Sink,
} from '../helpers/daemon.js';
import { LOG_FROM_HEADER, LOG_HEADER, REPORT_LATE_HEADER, STREAMING_HEADER, STREAMING_MODE, STREAM_ERROR_MESSAGE_TRAILER, STREAM_ERROR_TRAILER } from '../../runtime/wire.js';

/** A POST as Go's net/http sends an io.Reader body: chunked, trailers declared up front. */
async function postChunked(d: Daemon, id: string, chunks: string[], trailers?: Record<string, string>, headers: Record<string, string> = {}): Promise<number> {
  const req = request({
    host: '127.0.0.1', port: d.port, method: 'POST', path: `/2018-06-01/runtime/invocation/${id}/response`,
    headers: {
      'content-type': 'application/json', 'transfer-encoding': 'chunked',
      trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body', ...headers,
    },
  });
  const answered = once(req, 'response') as Promise<[IncomingMessage]>;
  for (const c of chunks) req.write(c);
  if (trailers) req.addTrailers(trailers);
  req.end();
  const [res] = await answered;
  res.resume();
  return res.statusCode ?? 0;
}

/** The runtime's streaming POST of invocation `id`'s response (chunked, text/plain), for the test to write. */
const streamingPost = (d: Daemon, id: string): ClientRequest => request({
  host: '127.0.0.1', port: d.port, method: 'POST', path: `/2018-06-01/runtime/invocation/${id}/response`,
  headers: { 'lambda-runtime-function-response-mode': 'streaming', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' },
});


/** An extension (the test) subscribed to the Telemetry API and parked, then an invoke the runtime has taken. */
async function invokeWatched(d: Daemon, sink: Sink, callId: string): Promise<Invocation> {
  const id = await register(d, 'otel', []);
  await subscribeTelemetry(d, id, sink.port);
  void d.eventNext(id);
  return invoke(d, { 'fn-call-id': callId });
}

describe('Runtime API: what real runtimes send', () => {
  test('a chunked /response without the streaming mode header is a buffered response', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'go-chunked' });
      assert.equal(await postChunked(d, 'go-chunked', ['{"ans', 'wer":', '42}']), 202);
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.headers[STREAMING_HEADER], undefined, 'not relayed as a stream');
      assert.equal(a.headers['content-length'], String(a.body.length));
      assert.equal(a.text, '{"answer":42}');
    }));

  test('a buffered /response that ends with error trailers: the caller gets that error', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'go-trailer' });
      const error = { errorMessage: 'reader failed', errorType: 'errorString' };
      const status = await postChunked(d, 'go-trailer', ['{"partial'], {
        'Lambda-Runtime-Function-Error-Type': 'errorString',
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
      });
      assert.equal(status, 202);
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], 'errorString');
      assert.deepEqual(a.json(), error);
    }));

  test('a streamed /response that fails before its first byte (streamifyResponse throwing): the caller gets the error, not an empty 200', () =>
    withDaemon({}, async (d) => {
      const streaming = { 'lambda-runtime-function-response-mode': 'streaming' };
      const error = { errorType: 'Error', errorMessage: 'handler threw', trace: ['at handler'] };
      const inv = await invoke(d, { 'fn-call-id': 'stream-throws' });
      const status = await postChunked(d, 'stream-throws', [], {
        'Lambda-Runtime-Function-Error-Type': 'Error', 'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
      }, streaming);
      assert.equal(status, 202);
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], 'Error');
      assert.deepEqual(a.json(), error);

      // Once bytes went out the answer is a 200: the error type follows in Kiln's trailer (the
      // agent then cuts the caller's stream short).
      const mid = await invoke(d, { 'fn-call-id': 'stream-mid' });
      assert.equal(await postChunked(d, 'stream-mid', ['part'], { 'Lambda-Runtime-Function-Error-Type': 'Error', 'Lambda-Runtime-Function-Error-Body': '' }, streaming), 202);
      const m = await mid.answer;
      assert.equal(m.status, 200);
      assert.equal(m.text, 'part');
      assert.equal(m.trailers[STREAM_ERROR_TRAILER], 'Error');
      assert.equal(m.trailers[STREAM_ERROR_MESSAGE_TRAILER], undefined, 'an error body without a message: none');
      // The runtime's error message follows beside its type (base64: any text fits a trailer).
      const said = await invoke(d, { 'fn-call-id': 'stream-mid-said' });
      const midError = { errorType: 'RangeError', errorMessage: 'failed after part 1 — ünïcode', trace: ['at handler'] };
      assert.equal(await postChunked(d, 'stream-mid-said', ['part'], {
        'Lambda-Runtime-Function-Error-Type': 'RangeError', 'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(midError)).toString('base64'),
      }, streaming), 202);
      const ms = await said.answer;
      assert.equal(ms.trailers[STREAM_ERROR_TRAILER], 'RangeError');
      assert.equal(Buffer.from(String(ms.trailers[STREAM_ERROR_MESSAGE_TRAILER]), 'base64').toString('utf8'), midError.errorMessage);
      // A stream that ends well has no such trailer.
      const whole = await invoke(d, { 'fn-call-id': 'stream-whole' });
      assert.equal(await postChunked(d, 'stream-whole', ['all', ' of it'], undefined, streaming), 202);
      const w = await whole.answer;
      assert.equal(w.text, 'all of it');
      assert.equal(w.trailers[STREAM_ERROR_TRAILER], undefined);
      assert.equal(w.trailers[REPORT_LATE_HEADER], undefined, 'no extension at work: END and REPORT are not held back');
    }));

  test("a stream that ends while an INVOKE extension is still at work says in a trailer that END and REPORT follow (its head went out long before)", () =>
    withDaemon({}, async (d) => {
      const streaming = { 'lambda-runtime-function-response-mode': 'streaming' };
      const ext = await register(d, 'slow', ['INVOKE']);
      const first = d.eventNext(ext);
      const inv = await invoke(d, { 'fn-call-id': 'stream-late' });
      assert.equal((await first).status, 200, 'the extension has the INVOKE event, and works on');
      assert.equal(await postChunked(d, 'stream-late', ['all', ' of it'], undefined, streaming), 202);
      const a = await inv.answer;
      assert.equal(a.text, 'all of it');
      assert.equal(a.trailers[REPORT_LATE_HEADER], '1');
      assert.equal(a.trailers[STREAM_ERROR_TRAILER], undefined);
      void d.next();
      await sleep(100);
      assert.doesNotMatch(d.output(), /REPORT RequestId: stream-late/, 'not while the extension works');
      void d.eventNext(ext);
      await until(() => /END RequestId: stream-late\nREPORT RequestId: stream-late\tDuration: /.test(d.output()), 5000, () => `no END and REPORT: ${d.output()}`);
    }));

  test('the invoke and extension headers are spelled as the service spells them (shell runtimes grep them raw)', () =>
    withDaemon({}, async (d) => {
      const names = (a: Answer) => a.rawHeaders.filter((_, i) => i % 2 === 0);
      const reg = await d.register('spelled-ext', { events: ['INVOKE'] });
      assert.ok(names(reg).includes('Lambda-Extension-Identifier'), names(reg).join(', '));
      const ev = d.eventNext(String(reg.headers['lambda-extension-identifier']));
      const inv = await invoke(d, { 'fn-call-id': 'spelled', 'x-amz-client-context': Buffer.from('{"a":1}').toString('base64') });
      for (const n of ['Content-Type', 'Lambda-Runtime-Aws-Request-Id', 'Lambda-Runtime-Deadline-Ms', 'Lambda-Runtime-Invoked-Function-Arn', 'Lambda-Runtime-Trace-Id', 'Lambda-Runtime-Client-Context']) {
        assert.ok(names(inv.event).includes(n), `${n} in ${names(inv.event).join(', ')}`);
      }
      assert.ok(names(await ev).includes('Lambda-Extension-Event-Identifier'));
      assertAccepted(await d.post('spelled', 'response'));
      await inv.answer;
    }));

  test('/error with a 200 KiB Lambda-Runtime-Function-XRay-Error-Cause header: 202 (clients send up to 1 MiB)', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'xray' });
      const cause = JSON.stringify({ working_directory: '/var/task', exceptions: [{ message: 'x'.repeat(200 * 1024), type: 'RecursionError' }], paths: [] });
      assertAccepted(await d.post('xray', 'error', '{"errorMessage":"deep","errorType":"RecursionError"}', {
        'lambda-runtime-function-error-type': 'RecursionError', 'lambda-runtime-function-xray-error-cause': cause, 'content-type': 'application/json',
      }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal((a.json() as Json).errorType, 'RecursionError');
    }));

  test('a client context or cognito identity that is not a JSON object is not passed on (runtimes JSON.parse them)', () =>
    withDaemon({}, async (d) => {
      const bad = await invoke(d, {
        'fn-call-id': 'ctx-bad', 'x-amz-client-context': Buffer.from('not json').toString('base64'), 'x-amz-cognito-identity': 'nope',
      });
      assert.equal(bad.event.headers['lambda-runtime-client-context'], undefined);
      assert.equal(bad.event.headers['lambda-runtime-cognito-identity'], undefined);
      assertAccepted(await d.post('ctx-bad', 'response'));
      await bad.answer;

      const cognito = '{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}';
      const good = await invoke(d, { 'fn-call-id': 'ctx-good', 'x-amz-cognito-identity': cognito });
      assert.equal(good.event.headers['lambda-runtime-cognito-identity'], cognito);
      assertAccepted(await d.post('ctx-good', 'response'));
      await good.answer;
    }));
});

describe('Runtime API: how clients use their connection', () => {
  /** A raw connection to the Lambda APIs and everything that came back on it. */
  function rawClient(d: Daemon) {
    const s = connect({ port: d.port, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => {});
    return { s, got: () => got, closed: once(s, 'close') };
  }
  const eventFor = (id: string) => new RegExp(`\r\nLambda-Runtime-Aws-Request-Id: ${id}\r\n`);

  test('a next pipelined behind a /response waits for it and gets the next event, not the same one again', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'first' });
      const c = rawClient(d);
      try {
        c.s.write(
          'POST /2018-06-01/runtime/invocation/first/response HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"ok"' +
          'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.equal((await inv.answer).text, '"ok"');
        const second = d.call('{"b":2}', { 'fn-call-id': 'second' });
        await until(() => eventFor('second').test(c.got()), 5000, () => `no second event: ${JSON.stringify(c.got())}`);
        // Before, the pipelined next ran while the response was read, and got "first" again.
        assert.doesNotMatch(c.got(), eventFor('first'));
        assert.match(c.got(), /^HTTP\/1\.1 202 /);
        assertAccepted(await d.post('second', 'response', '"two"'));
        assert.equal((await second).text, '"two"');
      } finally {
        c.s.destroy();
      }
    }));

  test('a next whose client half-closed once it was sent still gets its event (nc -N, socat)', () =>
    withDaemon({}, async (d) => {
      const c = rawClient(d);
      c.s.end('GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n');
      // The FIN reaches the daemon before there is an event to give.
      await sleep(150);
      const answer = d.call('{"x":1}', { 'fn-call-id': 'half' });
      // Before, the daemon closed at the FIN and the event went nowhere: a 504 at the deadline.
      await until(() => eventFor('half').test(c.got()), 5000, () => `no event: ${JSON.stringify(c.got())}`);
      assert.match(c.got(), /\r\n\r\n\{"x":1\}$/);
      await c.closed;
      assertAccepted(await d.post('half', 'response', '"done"'));
      assert.equal((await answer).text, '"done"');
    }));
});

describe('Extensions API: register bodies', () => {
  const raw = (d: Daemon, body: string) =>
    d.api('POST', '/2020-01-01/extension/register', { headers: { 'lambda-extension-name': 'raw' }, body });

  test('not JSON, no body, events not a list: 403 InvalidRequestFormat (not 400)', () =>
    withDaemon({}, async (d) => {
      assertApiError(await raw(d, '{'), 403, 'InvalidRequestFormat');
      assertApiError(await raw(d, ''), 403, 'InvalidRequestFormat');
      assertApiError(await raw(d, '{"events":"INVOKE"}'), 403, 'InvalidRequestFormat');
      assertApiError(await raw(d, '{"events":["INVOKE","RESTORE"]}'), 403, 'Extension.InvalidEventType');
    }));

  test('the Rust and Go clients\' bodies, with Lambda-Extension-Accept-Feature: 200', () =>
    withDaemon({}, async (d) => {
      const a = await d.register('rust-ext', { events: ['INVOKE'] }, { 'lambda-extension-accept-feature': 'accountId' });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.equal((a.json() as Json).accountId, '012345678912');
      const b = await d.register('go-ext', { events: null });
      assert.equal(b.status, 200, b.text);
      assert.deepEqual(Object.keys(b.json() as Json).sort(), ['functionName', 'functionVersion', 'handler']);
    }));
});

describe('Logs API delivery: the Logs API\'s own record shapes', () => {
  const logsSubscription = (port: number, schemaVersion: string): Json => ({
    schemaVersion,
    destination: { protocol: 'HTTP', URI: `http://sandbox:${port}/logs` },
    types: ['platform', 'function'],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
  });

  for (const schemaVersion of ['2020-08-15', '2021-03-18']) {
    test(`schema ${schemaVersion}: logsSubscription, start, end, report; no Telemetry API records`, () =>
      withSink((sink) =>
        withDaemon({}, async (d) => {
          const id = await register(d, 'log-shipper', []);
          const a = await d.api('PUT', '/2020-08-15/logs', {
            headers: { 'lambda-extension-identifier': id }, body: JSON.stringify(logsSubscription(sink.port, schemaVersion)),
          });
          assert.equal(a.status, 200, a.text);
          assert.equal(a.text, '"OK"');
          void d.eventNext(id);
          await warm(d);
          await sink.waitFor('platform.report');
          const events = sink.events();
          const types = events.map((e) => String(e.type));
          for (const t of ['platform.initStart', 'platform.initRuntimeDone', 'platform.initReport', 'platform.telemetrySubscription']) {
            assert.ok(!types.includes(t), `no ${t} for a Logs API subscriber: ${types.join(', ')}`);
          }
          const one = (type: string): Json => {
            const e = events.find((x) => x.type === type);
            assert.ok(e, `${type} in ${types.join(', ')}`);
            return e.record as Json;
          };
          assert.deepEqual(one('platform.logsSubscription'), { name: 'log-shipper', state: 'Subscribed', types: ['platform', 'function'] });
          assert.deepEqual(one('platform.start'), { requestId: 'warm', version: '$LATEST' });
          assert.deepEqual(one('platform.end'), { requestId: 'warm' });
          assert.ok(types.indexOf('platform.end') < types.indexOf('platform.report'), 'end before report');
          const report = one('platform.report');
          assert.deepEqual(Object.keys(report).sort(), ['metrics', 'requestId']);
          assert.equal(typeof report.metrics.durationMs, 'number');
          assert.ok(Number.isInteger(report.metrics.billedDurationMs));
          assert.equal(report.metrics.memorySizeMB, 128);
          if (schemaVersion === '2021-03-18') assert.deepEqual(one('platform.runtimeDone'), { requestId: 'warm', status: 'success' });
          else assert.ok(!types.includes('platform.runtimeDone'), 'runtimeDone only from 2021-03-18');
        }),
      ));
  }
});

describe('HTTP triggers: headers node:http cannot write', () => {
  const gateway = { 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/app/h' };
  test('a function URL result with a bad header name or value answers with the rest; the daemon lives on', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { ...gateway, 'fn-call-id': 'bad-headers' });
      const result = { statusCode: 200, headers: { 'x-price': '10 €', 'bad name': 'x', 'x-split': 'a\r\nb', 'x-ok': 'yes' }, cookies: ['a=b', 'c=\n'], body: 'hi' };
      assert.equal((await d.post(inv.id, 'response', JSON.stringify(result))).status, 202);
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.text, 'hi');
      assert.equal(a.headers['fn-http-h-x-ok'], 'yes');
      // UTF-8 bytes, as the service's server writes them.
      assert.equal(Buffer.from(String(a.headers['fn-http-h-x-price']), 'latin1').toString('utf8'), '10 €');
      assert.equal(a.headers['fn-http-h-bad name'], undefined);
      assert.equal(a.headers['fn-http-h-x-split'], undefined);
      assert.equal(a.headers['fn-http-h-set-cookie'], 'a=b');
      // The same through a stream's prelude.
      const s = await invoke(d, { ...gateway, 'fn-call-id': 'bad-prelude' });
      const prelude = JSON.stringify({ statusCode: 202, headers: { 'bad name': 'x', 'x-ok': 'yes' } });
      await d.post(s.id, 'response', Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('streamed')]), {
        'lambda-runtime-function-response-mode': 'streaming', 'content-type': 'application/vnd.awslambda.http-integration-response',
      });
      const b = await s.answer;
      assert.equal(b.headers['fn-http-status'], '202');
      assert.equal(b.headers['fn-http-h-x-ok'], 'yes');
      assert.equal(b.text, 'streamed');
      const after = await invoke(d, { 'fn-call-id': 'after' });
      assert.equal((await d.post(after.id, 'response', '{"alive":true}')).status, 202);
      assert.deepEqual((await after.answer).json(), { alive: true });
    }));
});

describe('a response stream whose caller has gone', () => {
  test("the runtime's streaming POST still ends with 202 and the sandbox takes the next invoke", () =>
    withDaemon({}, async (d) => {
      const next = d.next();
      const call = request({ socketPath: join(d.dir, 'lsnr.sock'), method: 'POST', path: '/call', headers: { 'fn-call-id': 'gone' } });
      call.on('error', () => {});
      call.end('{}');
      assert.equal((await next).status, 200);
      // The agent's connection goes (the caller cancelled) before the runtime answers.
      call.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const runtime = request({
        host: '127.0.0.1', port: d.port, method: 'POST', path: '/2018-06-01/runtime/invocation/gone/response',
        headers: { 'lambda-runtime-function-response-mode': 'streaming', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' },
      });
      const acked = once(runtime, 'response') as Promise<[IncomingMessage]>;
      // More than the socket's buffer, so a writer waiting for 'drain' would wait forever.
      for (let i = 0; i < 64; i++) runtime.write(Buffer.alloc(64 * 1024, 120));
      runtime.end();
      const [ack] = await acked;
      assert.equal(ack.statusCode, 202);
      ack.resume();
      const after = await invoke(d, { 'fn-call-id': 'after-gone' });
      assert.equal((await d.post(after.id, 'response', '{"ok":1}')).status, 202);
      assert.deepEqual((await after.answer).json(), { ok: 1 });
    }));
});

/** A Node runtime that streams each answer and prints a line just before it ends the stream. */
const LAST_LINE_STREAMER = `
import http from 'node:http';
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const next = () => new Promise((resolve) => http.get({ host, port, path: '/2018-06-01/runtime/invocation/next' }, (m) => {
  m.resume();
  m.on('end', () => resolve(m.headers['lambda-runtime-aws-request-id']));
}));
for (;;) {
  const id = await next();
  const r = http.request({ host, port, method: 'POST', path: '/2018-06-01/runtime/invocation/' + id + '/response',
    headers: { 'lambda-runtime-function-response-mode': 'streaming', 'content-type': 'text/plain' } });
  const done = new Promise((resolve) => r.on('response', (x) => { x.resume(); x.on('end', resolve); }));
  r.write('part\\n');
  console.log('last line of ' + id);
  r.end();
  await done;
}`;

describe('a response stream that outlives the deadline', () => {
  /** A streaming POST that writes `chunks` and then never ends; resolves with how it ended. */
  const endlessStream = (d: Daemon, id: string, chunks: string[]): Promise<string> => {
    const runtime = streamingPost(d, id);
    // The head goes out at once, chunks or none: the daemon takes the stream from its headers.
    runtime.flushHeaders();
    for (const c of chunks) runtime.write(c);
    return new Promise((resolve) => {
      runtime.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      runtime.on('response', (res) => resolve(`answered ${res.statusCode}`));
    });
  };

  test('a stream already begun is cut at the deadline (trailer Sandbox.Timedout); the sandbox resets and takes the next invoke', { timeout: 15_000 }, () =>
    withDaemon({}, async (d) => {
      const deadline = new Date(Date.now() + 700).toISOString();
      const inv = await invoke(d, { 'fn-call-id': 'endless', 'fn-deadline': deadline });
      const t0 = Date.now();
      const runtimeSaw = endlessStream(d, 'endless', ['part 0\n']);
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.text, 'part 0\n');
      assert.equal(a.trailers[STREAM_ERROR_TRAILER], 'Sandbox.Timedout');
      assert.match(Buffer.from(String(a.trailers[STREAM_ERROR_MESSAGE_TRAILER]), 'base64').toString('utf8'), /^RequestId: endless Error: Task timed out after \d+\.00 seconds$/);
      assert.ok(Date.now() - t0 < 3000, `cut after ${Date.now() - t0} ms`);
      assert.equal(await runtimeSaw, 'ECONNRESET', "the runtime's POST is cut too");
      // Its END and REPORT are logged once it is cut, with the time it ran and the service's line
      // saying why it ended (not when it began, as a success).
      assert.equal(a.headers[LOG_HEADER], undefined, 'the lines wait for the stream');
      await d.waitForOutput(/Task timed out/);
      const m = /START RequestId: endless Version: \S+\nEND RequestId: endless\nREPORT RequestId: endless\tDuration: ([\d.]+) ms\t.*\n\S+Z endless Task timed out after \d+\.00 seconds\n/.exec(d.stdout().toString('utf8'));
      assert.ok(m, d.output());
      assert.ok(Number(m[1]) >= 600, `REPORT's duration ${m[1]} ms: from the invoke to the cut`);
      // The runtime is restarted (a timeout resets the sandbox): once the reset is over, the
      // next invoke runs a fresh init.
      assert.equal((await d.idle()).status, 200);
      const after = await invoke(d, { 'fn-call-id': 'after-endless' });
      assert.equal((await d.post(after.id, 'response', '{"ok":1}')).status, 202);
      assert.deepEqual((await after.answer).json(), { ok: 1 });
    }));

  test("a stream's END and REPORT follow its end: its duration includes the streaming", { timeout: 15_000 }, () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'slow-stream' });
      const runtime = streamingPost(d, inv.id);
      const posted = once(runtime, 'response') as Promise<[IncomingMessage]>;
      runtime.write('first\n');
      await sleep(500);
      runtime.end('last\n');
      const [res] = await posted;
      res.resume();
      assert.equal(res.statusCode, 202);
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.text, 'first\nlast\n');
      assert.equal(a.headers[LOG_HEADER], undefined, 'the lines wait for the stream');
      await d.waitForOutput(/REPORT RequestId: slow-stream/);
      const out = d.stdout().toString('utf8');
      const m = /START RequestId: slow-stream Version: \S+\nEND RequestId: slow-stream\nREPORT RequestId: slow-stream\tDuration: ([\d.]+) ms\t[^\n]*\n/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) >= 450, `REPORT's duration ${m[1]} ms: until the stream's end`);
      assert.doesNotMatch(out, /timed out/);
    }));

  test('a line printed just before a stream ends comes before its END, call after call', { timeout: 60_000 }, () =>
    withDaemon({ command: ['node', '--input-type=module', '-e', LAST_LINE_STREAMER] }, async (d) => {
      const froms: number[] = [];
      for (let i = 0; i < 30; i++) {
        const a = await d.call('{}', { 'fn-call-id': `ll${i}` });
        assert.equal(a.status, 200, a.text);
        froms.push(Number(a.headers[LOG_FROM_HEADER]));
      }
      await d.waitForOutput(/REPORT RequestId: ll29\t/);
      const out = d.stdout();
      for (let i = 0; i < 30; i++) {
        const part = out.subarray(froms[i], froms[i + 1] ?? out.length).toString();
        assert.match(part, new RegExp(`\nlast line of ll${i}\nEND RequestId: ll${i}\n`), part);
      }
    }));

  test('a stream that sent nothing by the deadline answers 504 Sandbox.Timedout', { timeout: 15_000 }, () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'silent', 'fn-deadline': new Date(Date.now() + 500).toISOString() });
      const runtimeSaw = endlessStream(d, 'silent', []);
      const a = await inv.answer;
      assert.equal(a.status, 504);
      assert.equal(a.headers[STREAMING_HEADER], undefined);
      assert.equal((a.json() as Json).errorType, 'Sandbox.Timedout');
      assert.equal(await runtimeSaw, 'ECONNRESET');
    }));
});

describe('HTTP triggers: a streamed function URL answer', () => {
  test('a stream that fails before its prelude ends answers the error: nothing reached the caller yet', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'prelude-fails', 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/app/p' });
      const error = { errorType: 'Error', errorMessage: 'failed in the prelude' };
      const status = await postChunked(d, 'prelude-fails', ['{"statusCode":201,'], {
        'Lambda-Runtime-Function-Error-Type': 'Error', 'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
      }, { 'lambda-runtime-function-response-mode': 'streaming', 'content-type': 'application/vnd.awslambda.http-integration-response' });
      assert.equal(status, 202);
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], 'Error');
      assert.deepEqual(a.json(), error);
    }));

  test('aws-lambda-go\'s lambdaurl stream (chunked, the prelude\'s content type, no mode header) is answered as a function URL stream', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'go-url', 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/app/go' });
      const prelude = JSON.stringify({ statusCode: 201, headers: { 'Content-Type': 'text/plain' } });
      const status = await postChunked(d, 'go-url', [prelude, '\0\0\0\0\0\0\0\0', 'hello ', 'go'], undefined, {
        'content-type': 'application/vnd.awslambda.http-integration-response',
      });
      assert.equal(status, 202);
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.headers['fn-http-status'], '201');
      assert.equal(a.headers['content-type'], 'text/plain');
      assert.equal(a.text, 'hello go');
    }));

  test('the http-integration-response prelude becomes Fn-Http-Status and headers; the body streams after it', () =>
    withDaemon({}, async (d) => {
      const next = d.next();
      const call = request({
        socketPath: join(d.dir, 'lsnr.sock'), method: 'POST', path: '/call',
        headers: { 'fn-call-id': 'url-stream', 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/app/s' },
      });
      call.end();
      assert.equal((await next).status, 200);
      // As the Node client's awslambda.HttpResponseStream.from writes it.
      const runtime = request({
        host: '127.0.0.1', port: d.port, method: 'POST', path: '/2018-06-01/runtime/invocation/url-stream/response',
        headers: {
          'lambda-runtime-function-response-mode': 'streaming', 'transfer-encoding': 'chunked',
          'content-type': 'application/vnd.awslambda.http-integration-response',
          trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
        },
      });
      const acked = once(runtime, 'response') as Promise<[IncomingMessage]>;
      runtime.write(JSON.stringify({ statusCode: 201, headers: { 'Content-Type': 'text/plain', 'X-A': 'b' }, cookies: ['c=d'] }));
      runtime.write(Buffer.alloc(8));
      runtime.write('hello ');
      const [res] = (await once(call, 'response')) as [IncomingMessage];
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers[STREAMING_HEADER], STREAMING_MODE);
      assert.equal(res.headers['fn-http-status'], '201');
      assert.equal(res.headers['fn-http-h-x-a'], 'b');
      assert.equal(res.headers['fn-http-h-content-type'], 'text/plain');
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.equal(res.headers['fn-http-h-set-cookie'], 'c=d');
      assert.equal(await finishStream(runtime, acked, res, 'world'), 'hello world');
    }));
});

describe('Telemetry API: timing, shapes, retries, idempotence', () => {
  test('initRuntimeDone at the runtime\'s first next (extensions still initialising), initReport once they are; runtimeDone and report shapes', () =>
    withSink((sink) =>
      withDaemon({}, async (d) => {
        const id = await register(d, 'otel', []);
        await subscribeTelemetry(d, id, sink.port);
        void d.next();
        await sink.waitFor('platform.initRuntimeDone');
        const types = () => sink.events().map((e) => String(e.type));
        assert.ok(!types().includes('platform.initReport'), 'init is not over while the extension has not called next');
        void d.eventNext(id);
        await sink.waitFor('platform.initReport');

        const inv = await invoke(d, { 'fn-call-id': 'shaped' });
        assertAccepted(await d.post(inv.id, 'response', '"12345"'));
        await inv.answer;
        // The runtime's turn ends at its next `next`, not at its response (the service's order).
        await sleep(200);
        assert.ok(!types().includes('platform.runtimeDone'), 'no runtimeDone while the runtime has not called next');
        void d.next();
        await sink.waitFor('platform.report');
        const rec = (type: string): Json => sink.events().find((e) => e.type === type)!.record as Json;
        const done = rec('platform.runtimeDone');
        assert.equal(done.requestId, 'shaped');
        assert.equal(done.status, 'success');
        assert.deepEqual(done.metrics.producedBytes, 7);
        assert.ok(done.metrics.durationMs >= 190, `the runtime's turn lasted until its next (${done.metrics.durationMs} ms)`);
        assert.deepEqual(done.spans.map((s: Json) => s.name), ['responseLatency', 'responseDuration', 'runtimeOverhead']);
        for (const s of done.spans) {
          assert.equal(typeof s.durationMs, 'number');
          assert.match(String(s.start), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        }
        assert.ok(done.spans[2].durationMs >= 190, `runtimeOverhead: from the response to the next (${done.spans[2].durationMs} ms)`);
        assert.equal(done.tracing.type, 'X-Amzn-Trace-Id');
        const report = rec('platform.report');
        assert.equal(report.status, 'success');
        for (const k of ['billedDurationMs', 'memorySizeMB', 'maxMemoryUsedMB']) assert.ok(Number.isInteger(report.metrics[k]), `${k} is an integer`);
        assert.equal(typeof report.metrics.durationMs, 'number');
      }),
    ));


  test('a response the platform rejects (a bad response mode) is an error in runtimeDone and report, not a success', () =>
    withSink((sink) =>
      withDaemon({}, async (d) => {
        const inv = await invokeWatched(d, sink, 'badmode');
        const posted = await d.post(inv.id, 'response', '"x"', { 'lambda-runtime-function-response-mode': 'buffered' });
        assert.equal(posted.status, 400);
        assert.equal((await inv.answer).status, 502);
        void d.next();
        await sink.waitFor('platform.report');
        for (const type of ['platform.runtimeDone', 'platform.report']) {
          const rec = sink.events().find((e) => e.type === type)!.record as Json;
          assert.equal(rec.status, 'error', type);
          assert.equal(rec.errorType, 'Runtime.InvalidResponseModeHeader', type);
        }
      }),
    ));

  // The statuses as RIE's reset names them: timeout (no errorType), and error for a crash.
  const statusOf = async (sink: Sink, type: string): Promise<Json> => {
    await sink.waitFor(type);
    return sink.events().find((e) => e.type === type)!.record as Json;
  };

  test('a timeout is status timeout in runtimeDone and report, with no errorType', () =>
    withSink((sink) =>
      withDaemon({ timeoutSec: 1 }, async (d) => {
        const slow = await invokeWatched(d, sink, 'slow');
        assert.equal((await slow.answer).status, 504);
        for (const type of ['platform.runtimeDone', 'platform.report']) {
          const rec = await statusOf(sink, type);
          assert.equal(rec.status, 'timeout', type);
          assert.ok(!('errorType' in rec), `${type} has no errorType`);
        }
      }),
    ));

  test('a runtime that dies mid-invoke is status error with Runtime.ExitError in runtimeDone and report', () =>
    withSink((sink) =>
      withDaemon({}, async (d) => {
        const crash = await invokeWatched(d, sink, 'crash');
        for (const pid of d.descendants()) process.kill(pid, 'SIGKILL');
        assert.equal((await crash.answer).status, 502);
        for (const type of ['platform.runtimeDone', 'platform.report']) {
          const rec = await statusOf(sink, type);
          assert.equal(rec.status, 'error', type);
          assert.equal(rec.errorType, 'Runtime.ExitError', type);
        }
      }),
    ));

  test('the batch is retried with backoff until the listener is up: init\'s events arrive, nothing dropped', async () => {
    const port = await freePort();
    let sink: Sink | undefined;
    try {
      await withDaemon({}, async (d) => {
        const id = await register(d, 'slow-listener', []);
        await subscribeTelemetry(d, id, port);
        await sleep(300);
        sink = await startSink(port);
        await sink.waitFor('platform.telemetrySubscription');
        const types = sink.events().map((e) => String(e.type));
        assert.ok(types.includes('platform.initStart'), types.join(', '));
        assert.ok(!types.includes('platform.logsDropped'), types.join(', '));
      });
    } finally {
      sink?.close();
    }
  });

  test('an extension\'s log line is the record as written (a string, no name added)', () =>
    withSink((sink) =>
      withDaemon({ extensions: { printer: '#!/bin/sh\necho "hello from ext"\nexec sleep 1000\n' } }, async (d) => {
        await d.waitForOutput(/hello from ext/);
        // The test registers in the script's name: the daemon launched it, so it is external.
        const id = await register(d, 'printer', ['SHUTDOWN']);
        await subscribeTelemetry(d, id, sink.port, ['extension']);
        await sink.waitFor('extension');
        assert.deepEqual(sink.events().filter((e) => e.type === 'extension').map((e) => e.record), ['hello from ext']);
      }),
    ));

  test('is idempotent: one subscription, init\'s events once, the second answered 200 and reported "Already subscribed"', () =>
    withSink((sink) =>
      withDaemon({}, async (d) => {
        const id = await register(d, 'twice', []);
        await subscribeTelemetry(d, id, sink.port);
        await subscribeTelemetry(d, id, sink.port);
        void d.eventNext(id);
        await warm(d);
        await sink.waitFor('platform.report');
        const events = sink.events();
        assert.equal(events.filter((e) => e.type === 'platform.initStart').length, 1);
        assert.equal(events.filter((e) => e.type === 'platform.report').length, 1);
        const subs = events.filter((e) => e.type === 'platform.telemetrySubscription').map((e) => (e.record as Json).state);
        assert.deepEqual(subs, ['Subscribed', 'Already subscribed']);
      }),
    ));

  test('one extension, two destinations, as the OpenTelemetry collector subscribes: each gets its own types; the documented trailing slash is the same path', () =>
    withSink((platform) => withSink((logs) =>
      withDaemon({ extensions: { collector: '#!/bin/sh\necho "hello from ext"\nexec sleep 1000\n' } }, async (d) => {
        await d.waitForOutput(/hello from ext/);
        const id = await register(d, 'collector', []);
        await subscribeTelemetry(d, id, platform.port, ['platform']);
        // The reference's own example URL: http://${AWS_LAMBDA_RUNTIME_API}/2022-07-01/telemetry/
        const second = await d.api('PUT', '/2022-07-01/telemetry/', {
          headers: { 'lambda-extension-identifier': id },
          body: JSON.stringify({ schemaVersion: '2022-12-13', types: ['extension'], destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${logs.port}/` } }),
        });
        assert.equal(second.status, 200, second.text);
        void d.eventNext(id);
        await warm(d);
        await platform.waitFor('platform.report');
        await logs.waitFor('extension');
        assert.deepEqual(logs.events().map((e) => e.type), ['extension'], 'only what the second subscription asked for');
        assert.deepEqual(logs.events()[0]!.record, 'hello from ext');
        assert.ok(platform.events().every((e) => String(e.type).startsWith('platform.')));
        const subs = platform.events().filter((e) => e.type === 'platform.telemetrySubscription').map((e) => (e.record as Json).types);
        assert.deepEqual(subs, [['platform'], ['extension']]);
      }),
    )));
});

describe('Telemetry API: a response stream\'s runtimeDone', () => {
  test('comes once the stream has ended, with the bytes streamed and the stream\'s time as responseDuration', () =>
    withSink((sink) =>
      withDaemon({}, async (d) => {
        const inv = await invokeWatched(d, sink, 'streamed');
        const runtime = streamingPost(d, inv.id);
        const acked = once(runtime, 'response') as Promise<[IncomingMessage]>;
        runtime.write('12345');
        await sleep(300);
        assert.ok(!sink.events().some((e) => e.type === 'platform.runtimeDone'), 'no runtimeDone while the stream runs');
        runtime.end('678');
        const [ack] = await acked;
        ack.resume();
        assert.equal(ack.statusCode, 202);
        void d.next();
        await sink.waitFor('platform.report');
        const done = sink.events().find((e) => e.type === 'platform.runtimeDone')!.record as Json;
        assert.equal(done.status, 'success');
        assert.equal(done.metrics.producedBytes, 8);
        const duration = done.spans.find((s: Json) => s.name === 'responseDuration');
        assert.ok(duration.durationMs >= 250, `responseDuration covers the stream (${duration.durationMs} ms)`);
        assert.ok(done.metrics.durationMs >= 250);
      }),
    ));
});
