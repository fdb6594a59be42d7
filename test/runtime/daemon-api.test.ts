// The daemon's Lambda APIs on the host: the test plays the runtime (its bootstrap is a
// do-nothing `sleep`) and the extensions, and checks the documented answers: status codes,
// exact error types, bodies and the invoke headers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertAccepted, assertApiError, assertFailure, finishStream, invoke, newGeneration, register, warm, withDaemon, withSink, withTcpSink, type Daemon, type Json,
} from '../helpers/daemon.js';
import { QUALIFIER_HEADER, STREAMING_HEADER, STREAMING_MODE } from '../../runtime/wire.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;
const MAX_PAYLOAD = 6 * 1024 * 1024 + 100;
const ACCOUNT_ID = '012345678912';
const SLEEPER = '#!/bin/sh\nexec sleep 1000\n';

describe('Runtime API', () => {
  test('a response: 202 {"status":"OK"}, the caller gets 200 with the body as JSON', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'call-ok' });
      assert.equal(inv.id, 'call-ok');
      assert.equal(inv.event.text, '{"a":1}');
      assertAccepted(await d.post('call-ok', 'response', '{"answer":42}', { 'content-type': 'text/plain' }));
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.equal(a.text, '{"answer":42}');
    }));

  test('an unknown request id: 400 InvalidRequestID, for /response and /error', () =>
    withDaemon({}, async (d) => {
      assertApiError(await d.post('nobody', 'response'), 400, 'InvalidRequestID');
      const inv = await invoke(d, { 'fn-call-id': 'real' });
      assertApiError(await d.post('other', 'response'), 400, 'InvalidRequestID');
      assertApiError(await d.post('other', 'error'), 400, 'InvalidRequestID');
      assertAccepted(await d.post(inv.id, 'response'));
      assert.equal((await inv.answer).status, 200);
    }));

  test('a second /response or /error for the same id: 403 InvalidStateTransition', () =>
    withDaemon({}, async (d) => {
      const first = await invoke(d, { 'fn-call-id': 'r1' });
      assertAccepted(await d.post('r1', 'response', '1'));
      assertApiError(await d.post('r1', 'response', '2'), 403, 'InvalidStateTransition');
      assertApiError(await d.post('r1', 'error', '{}'), 403, 'InvalidStateTransition');
      assert.equal((await first.answer).text, '1');

      const second = await invoke(d, { 'fn-call-id': 'e1' });
      assertAccepted(await d.post('e1', 'error', '{"errorMessage":"boom","errorType":"Oops"}'));
      assertApiError(await d.post('e1', 'error', '{}'), 403, 'InvalidStateTransition');
      assertApiError(await d.post('e1', 'response', '{}'), 403, 'InvalidStateTransition');
      assert.equal((await second.answer).status, 502);
    }));

  test('/init/error after the first next: 403 InvalidStateTransition', () =>
    withDaemon({}, async (d) => {
      await warm(d);
      const a = await d.api('POST', '/2018-06-01/runtime/init/error', {
        headers: { 'lambda-runtime-function-error-type': 'Runtime.Oops' }, body: '{"errorMessage":"late","errorType":"Runtime.Oops"}',
      });
      assertApiError(a, 403, 'InvalidStateTransition');
    }));

  test('/init/error before the first next: 202; the first call retries init, and its caller gets the body posted again', () =>
    withDaemon({}, async (d) => {
      const posted = '{"errorMessage":"cannot load handler","errorType":"Runtime.ImportModuleError"}';
      const initError = () => d.api('POST', '/2018-06-01/runtime/init/error', {
        headers: { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError', 'content-type': 'application/json' }, body: posted,
      });
      assertAccepted(await initError());
      const firstGen = d.descendants();
      const call = d.call('{}', { 'fn-call-id': 'after-init-error' });
      // The retry (phase invoke) starts a new runtime, which fails the same way.
      await newGeneration(d, firstGen);
      assertAccepted(await initError());
      const a = await call;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], 'Runtime.ImportModuleError');
      assert.equal(a.text, posted);
    }));

  test('Lambda-Runtime-Function-Response-Mode: buffered: 400 InvalidFunctionResponseMode, the caller 502 Runtime.InvalidResponseModeHeader', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'mode' });
      const a = await d.post('mode', 'response', '{}', { 'lambda-runtime-function-response-mode': 'buffered' });
      assertApiError(a, 400, 'InvalidFunctionResponseMode');
      const body = assertFailure(await inv.answer, 502, 'Runtime.InvalidResponseModeHeader');
      assert.match(body.errorMessage, /^RequestId: mode Error: /);
    }));

  test(`a /response over ${MAX_PAYLOAD} bytes: 413 RequestEntityTooLarge; exactly ${MAX_PAYLOAD} is accepted`, () =>
    withDaemon({}, async (d) => {
      const big = await invoke(d, { 'fn-call-id': 'big' });
      const a = await d.post('big', 'response', Buffer.alloc(MAX_PAYLOAD + 1, 'a'));
      assertApiError(a, 413, 'RequestEntityTooLarge');
      assert.equal((a.json() as Json).errorMessage, `Exceeded maximum allowed payload size (${MAX_PAYLOAD} bytes).`);
      const caller = await big.answer;
      assert.equal(caller.status, 502);
      assert.equal(caller.headers['x-amz-function-error'], 'Function.ResponseSizeTooLarge');
      assert.equal((caller.json() as Json).errorType, 'Function.ResponseSizeTooLarge');

      const edge = await invoke(d, { 'fn-call-id': 'edge' });
      assertAccepted(await d.post('edge', 'response', Buffer.alloc(MAX_PAYLOAD, 'b')));
      const ok = await edge.answer;
      assert.equal(ok.status, 200);
      assert.equal(ok.body.length, MAX_PAYLOAD);
    }));

  test('next carries the invoke headers: request id, deadline, ARN, client context, trace id; its content type is application/json whatever the caller sent', () =>
    withDaemon({ functionName: 'hdrs' }, async (d) => {
      // Init over first: a call that waits for it has its deadline moved by the wait.
      await warm(d);
      const deadline = new Date(Date.now() + 60_000);
      const ctx = { client: { app_title: 'kiln' }, custom: { k: 'v' } };
      const inv = await invoke(d, {
        'fn-call-id': 'hdr-1',
        'fn-deadline': deadline.toISOString(),
        'x-amz-client-context': Buffer.from(JSON.stringify(ctx)).toString('base64'),
        'content-type': 'text/plain',
      }, 'hello');
      const h = inv.event.headers;
      assert.equal(h['lambda-runtime-aws-request-id'], 'hdr-1');
      assert.equal(h['lambda-runtime-deadline-ms'], String(deadline.getTime()));
      assert.equal(h['lambda-runtime-invoked-function-arn'], `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:hdrs`);
      assert.match(String(h['lambda-runtime-trace-id']), TRACE);
      assert.deepEqual(JSON.parse(String(h['lambda-runtime-client-context'])), ctx);
      // As the service and RIE send it: awslambdaric hands a handler raw bytes for any other type.
      assert.equal(h['content-type'], 'application/json');
      assert.equal(h['lambda-runtime-cognito-identity'], undefined);
      assert.equal(inv.event.text, 'hello');
      assertAccepted(await d.post('hdr-1', 'response'));
      await inv.answer;

      // The caller's trace id is passed on; no Fn-Deadline means now + the fn's timeout (30 s).
      const before = Date.now();
      const traced = await invoke(d, { 'fn-call-id': 'hdr-2', 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' });
      const t = traced.event.headers;
      assert.equal(t['lambda-runtime-trace-id'], 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
      assert.equal(t['content-type'], 'application/json');
      assert.equal(t['lambda-runtime-client-context'], undefined);
      const ms = Number(t['lambda-runtime-deadline-ms']);
      assert.ok(ms >= before + 30_000 && ms <= Date.now() + 30_000, `deadline ${ms}`);
      assertAccepted(await d.post('hdr-2', 'response'));
      await traced.answer;

      // The version the Lambda APIs' caller named ends the ARN, as the service's; anything else is no version.
      for (const [qualifier, arn] of [['$LATEST', `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:hdrs:$LATEST`], ['a:b', `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:hdrs`]] as const) {
        const q = await invoke(d, { 'fn-call-id': `q-${qualifier}`, [QUALIFIER_HEADER]: qualifier });
        assert.equal(q.event.headers['lambda-runtime-invoked-function-arn'], arn);
        assertAccepted(await d.post(`q-${qualifier}`, 'response'));
        await q.answer;
      }

      // Through a trigger the caller's headers come wrapped, its trace id with them: the
      // invocation's is that one, and the event's headers always carry the invocation's.
      const trigger = { 'fn-intent': 'httprequest', 'fn-http-method': 'POST', 'fn-http-request-url': 'http://h/t/app/p' };
      const viaTrigger = await invoke(d, { ...trigger, 'fn-call-id': 'hdr-3', 'fn-http-h-x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' });
      assert.equal(viaTrigger.event.headers['lambda-runtime-trace-id'], 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
      assert.equal((viaTrigger.event.json() as { headers: Record<string, string> }).headers['x-amzn-trace-id'], 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
      assertAccepted(await d.post('hdr-3', 'response'));
      await viaTrigger.answer;
      const untraced = await invoke(d, { ...trigger, 'fn-call-id': 'hdr-4' });
      const generated = String(untraced.event.headers['lambda-runtime-trace-id']);
      assert.match(generated, TRACE);
      assert.equal((untraced.event.json() as { headers: Record<string, string> }).headers['x-amzn-trace-id'], generated);
      assertAccepted(await d.post('hdr-4', 'response'));
      await untraced.answer;
    }));

  test('a call without Fn-Call-Id gets a generated UUID request id', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d);
      assert.match(inv.id, UUID);
      assertAccepted(await d.post(inv.id, 'response'));
      assert.equal((await inv.answer).status, 200);
    }));

  test('/error: the caller gets 502, X-Amz-Function-Error from the error type header, the body verbatim', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'err' });
      const posted = '{"errorMessage":"boom","errorType":"TypeError","stackTrace":["at x"]}';
      assertAccepted(await d.post('err', 'error', posted, { 'lambda-runtime-function-error-type': 'TypeError', 'content-type': 'application/json' }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], 'TypeError');
      assert.equal(a.text, posted);

      // Without the header: Unhandled.
      const plain = await invoke(d, { 'fn-call-id': 'err2' });
      assertAccepted(await d.post('err2', 'error', '{"errorMessage":"x"}'));
      assert.equal((await plain.answer).headers['x-amz-function-error'], 'Unhandled');
    }));

  test('/error with an error-cause document: the caller gets it without errorCause, as application/json', () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'cause' });
      const doc = { errorMessage: 'bad', errorType: 'Boom', stackTrace: ['a'], errorCause: { paths: ['/x'], exceptions: [] } };
      assertAccepted(await d.post('cause', 'error', JSON.stringify(doc), {
        'content-type': 'application/vnd.aws.lambda.error.cause+json', 'lambda-runtime-function-error-type': 'Boom',
      }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.deepEqual(a.json(), { errorMessage: 'bad', errorType: 'Boom', stackTrace: ['a'] });
    }));

  test('a streamed response: the caller gets chunks as they come (200, kiln-response-mode), the runtime 202 at the end', () =>
    withDaemon({}, async (d) => {
      const next = d.next();
      // The caller's side, read raw: the first chunk must arrive while the runtime still streams.
      const call = request({ socketPath: join(d.dir, 'lsnr.sock'), method: 'POST', path: '/call', headers: { 'fn-call-id': 'stream' } });
      call.end('{}');
      assert.equal((await next).status, 200);
      const runtime = request({
        host: '127.0.0.1', port: d.port, method: 'POST', path: '/2018-06-01/runtime/invocation/stream/response',
        headers: { 'lambda-runtime-function-response-mode': 'streaming', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' },
      });
      const runtimeAnswer = once(runtime, 'response') as Promise<[IncomingMessage]>;
      runtime.write('part1 ');
      const [res] = (await once(call, 'response')) as [IncomingMessage];
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers[STREAMING_HEADER], STREAMING_MODE);
      assert.equal(res.headers['content-type'], 'text/plain');
      const [first] = (await once(res, 'data')) as [Buffer];
      assert.equal(first.toString(), 'part1 ', 'the first chunk comes before the stream ends');
      assert.equal(await finishStream(runtime, runtimeAnswer, res, 'part2'), 'part2');
    }));

  test('a Fn-Deadline already past: 504 Sandbox.Timedout at once', () =>
    withDaemon({}, async (d) => {
      void d.next();
      await sleep(100);
      const t0 = Date.now();
      const a = await d.call('{}', { 'fn-call-id': 'late', 'fn-deadline': new Date(Date.now() - 1000).toISOString() });
      assert.ok(Date.now() - t0 < 1000);
      assertFailure(a, 504, 'Sandbox.Timedout');
    }));

  test('next after /init/error: 403 InvalidStateTransition', () =>
    withDaemon({}, async (d) => {
      assertAccepted(await d.api('POST', '/2018-06-01/runtime/init/error', { body: '{"errorMessage":"x","errorType":"Runtime.X"}' }));
      assertApiError(await d.next(), 403, 'InvalidStateTransition');
      const again = await d.api('POST', '/2018-06-01/runtime/init/error', { body: '{}' });
      assertApiError(again, 403, 'InvalidStateTransition');
    }));

  // Bug (runtime/lambda-api.ts, POST /runtime/init/error): readBody's TooLarge is not mapped,
  // so an oversized init error answers 500 InternalServerError with the byte count as message.
  test(`/init/error over ${MAX_PAYLOAD} bytes: 413 RequestEntityTooLarge`, () =>
    withDaemon({}, async (d) => {
      const a = await d.api('POST', '/2018-06-01/runtime/init/error', { body: Buffer.alloc(MAX_PAYLOAD + 1, 'e') });
      assertApiError(a, 413, 'RequestEntityTooLarge');
    }));

  test('an unknown path: 404 with an error body', () =>
    withDaemon({}, async (d) => {
      assertApiError(await d.api('GET', '/2018-06-01/runtime/nothing'), 404, 'ResourceNotFound');
      assertApiError(await d.api('POST', '/2020-01-01/extension/whatever'), 404, 'ResourceNotFound');
      const ping = await d.api('GET', '/2018-06-01/ping');
      assert.equal(ping.status, 200);
      assert.equal(ping.text, 'pong');
    }));

  // The service's router (go-chi) answers a known path asked with another method 405, one
  // Allow header per method it takes, no body (these were 404 ResourceNotFound).
  const wrongMethods: [method: string, path: string, allow: string[]][] = [
    ['PUT', '/2018-06-01/runtime/invocation/next', ['GET']],
    ['DELETE', '/2018-06-01/runtime/invocation/next', ['GET']],
    ['GET', '/2018-06-01/runtime/invocation/some-id/response', ['POST']],
    ['PUT', '/2018-06-01/runtime/invocation/some-id/error', ['POST']],
    ['GET', '/2018-06-01/runtime/init/error', ['POST']],
    ['POST', '/2018-06-01/ping', ['GET']],
    ['GET', '/2020-01-01/extension/register', ['POST']],
    ['POST', '/2020-01-01/extension/event/next', ['GET']],
    ['GET', '/2020-01-01/extension/exit/error', ['POST']],
    ['GET', '/2022-07-01/telemetry', ['PUT']],
    ['DELETE', '/2020-08-15/logs', ['PUT', 'POST']],
  ];
  test(`a known path with a method it does not take (${wrongMethods.length} of them): 405, Allow, no body`, () =>
    withDaemon({}, async (d) => {
      for (const [method, path, allow] of wrongMethods) {
        const a = await d.api(method, path, { body: '{"events":["INVOKE"]}' });
        assert.equal(a.status, 405, `${method} ${path}: ${a.text}`);
        const allowed = a.rawHeaders.filter((_, i) => i % 2 === 1 && a.rawHeaders[i - 1]!.toLowerCase() === 'allow');
        assert.deepEqual(allowed, allow, `${method} ${path}`);
        assert.equal(a.headers['content-length'], '0');
        assert.equal(a.text, '');
      }
      // None of them moved the sandbox: a call runs as usual.
      const inv = await invoke(d, { 'fn-call-id': 'after-405' });
      assertAccepted(await d.post(inv.id, 'response', '"fine"'));
      assert.equal((await inv.answer).text, '"fine"');
    }));
});

describe('Extensions API', () => {
  test('register without Lambda-Extension-Name: 403 Extension.InvalidExtensionName', () =>
    withDaemon({}, async (d) => {
      assertApiError(await d.register(undefined), 403, 'Extension.InvalidExtensionName');
      assertApiError(await d.register(''), 403, 'Extension.InvalidExtensionName');
    }));

  test('register with configurationKeys: 403 InvalidRequestFormat', () =>
    withDaemon({}, async (d) => {
      assertApiError(await d.register('cfg', { events: ['INVOKE'], configurationKeys: ['a'] }), 403, 'InvalidRequestFormat');
    }));

  test('register with an unknown event: 403 Extension.InvalidEventType', () =>
    withDaemon({}, async (d) => {
      assertApiError(await d.register('bad', { events: ['INVOKE', 'RESTORE'] }), 403, 'Extension.InvalidEventType');
      // Not a list at all: the body does not parse as the service's RegisterRequest.
      assertApiError(await d.register('bad2', { events: 'INVOKE' }), 403, 'InvalidRequestFormat');
    }));

  test('an internal extension asking for SHUTDOWN: 403 Extension.InvalidEventType; an external one may', () =>
    withDaemon({ extensions: { ext1: SLEEPER } }, async (d) => {
      assertApiError(await d.register('internal', { events: ['INVOKE', 'SHUTDOWN'] }), 403, 'Extension.InvalidEventType');
      await register(d, 'ext1', ['INVOKE', 'SHUTDOWN']);
    }));

  test('the same name twice: 403 Extension.InvalidExtensionState', () =>
    withDaemon({}, async (d) => {
      await register(d, 'twice', ['INVOKE']);
      assertApiError(await d.register('twice', { events: ['INVOKE'] }), 403, 'Extension.InvalidExtensionState');
    }));

  test('register after init: 403 Extension.RegistrationClosed', () =>
    withDaemon({}, async (d) => {
      await warm(d);
      assertApiError(await d.register('late', { events: ['INVOKE'] }), 403, 'Extension.RegistrationClosed');
    }));

  test('the 11th registration: 403 Extension.TooManyExtensions', () =>
    withDaemon({}, async (d) => {
      for (let i = 1; i <= 10; i++) await register(d, `ext-${i}`, ['INVOKE']);
      assertApiError(await d.register('ext-11', { events: ['INVOKE'] }), 403, 'Extension.TooManyExtensions');
    }));

  test('a successful register: 200, a UUID identifier, {functionName, functionVersion, handler} (+ accountId on request)', () =>
    withDaemon({ functionName: 'regfn', env: { _HANDLER: 'index.handler' } }, async (d) => {
      const a = await d.register('plain', {});
      assert.equal(a.status, 200, a.text);
      assert.match(String(a.headers['lambda-extension-identifier']), UUID);
      assert.deepEqual(a.json(), { functionName: 'regfn', functionVersion: '$LATEST', handler: 'index.handler' });

      const b = await d.register('with-account', { events: ['INVOKE'] }, { 'lambda-extension-accept-feature': 'accountId' });
      assert.equal(b.status, 200, b.text);
      assert.deepEqual(b.json(), { functionName: 'regfn', functionVersion: '$LATEST', handler: 'index.handler', accountId: ACCOUNT_ID });
      assert.notEqual(a.headers['lambda-extension-identifier'], b.headers['lambda-extension-identifier']);
    }));

  test('event/next without, with a malformed, with an unknown identifier: 403 Missing/Invalid/UnknownExtensionIdentifier', () =>
    withDaemon({}, async (d) => {
      assertApiError(await d.api('GET', '/2020-01-01/extension/event/next'), 403, 'Extension.MissingExtensionIdentifier');
      assertApiError(await d.eventNext('not-a-uuid'), 403, 'Extension.InvalidExtensionIdentifier');
      assertApiError(await d.eventNext('0b7e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4'), 403, 'Extension.UnknownExtensionIdentifier');
    }));

  test('init/error without Lambda-Extension-Function-Error-Type: 403 Extension.MissingHeader; with it: 202 and the call fails Extension.InitError', () =>
    withDaemon({}, async (d) => {
      const id = await register(d, 'failing', ['INVOKE']);
      const path = '/2020-01-01/extension/init/error';
      assertApiError(await d.api('POST', path, { headers: { 'lambda-extension-identifier': id } }), 403, 'Extension.MissingHeader');
      assertApiError(await d.api('POST', '/2020-01-01/extension/exit/error', { headers: { 'lambda-extension-identifier': id } }), 403, 'Extension.MissingHeader');
      const initError = (ext: string) => d.api('POST', path, {
        headers: { 'lambda-extension-identifier': ext, 'lambda-extension-function-error-type': 'Extension.ConfigInvalid' }, body: '{}',
      });
      assertAccepted(await initError(id));
      // The first call retries init; the extension (the test) registers again and fails again.
      const firstGen = d.descendants();
      const call = d.call('{}', { 'fn-call-id': 'init-failed' });
      await newGeneration(d, firstGen);
      assertAccepted(await initError(await register(d, 'failing', ['INVOKE'])));
      assertFailure(await call, 502, 'Extension.InitError');
    }));

  test('exit/error mid-invoke: 202, and the caller gets 502 Extension.ExitError; init/error once Ready: 403', () =>
    withDaemon({}, async (d) => {
      const id = await register(d, 'quitter', ['INVOKE']);
      const ev = d.eventNext(id);
      const inv = await invoke(d, { 'fn-call-id': 'quit' });
      assert.equal((await ev).status, 200);
      const headers = { 'lambda-extension-identifier': id, 'lambda-extension-function-error-type': 'Extension.Fatal' };
      assertApiError(await d.api('POST', '/2020-01-01/extension/init/error', { headers }), 403, 'Extension.InvalidExtensionState');
      assertAccepted(await d.api('POST', '/2020-01-01/extension/exit/error', { headers, body: '{}' }));
      const body = assertFailure(await inv.answer, 502, 'Extension.ExitError');
      assert.match(body.errorMessage, /^RequestId: quit Error: .*quitter.*Extension\.Fatal/);
    }));

  test('the INVOKE event: {eventType, deadlineMs, requestId, invokedFunctionArn, tracing} and an event identifier', () =>
    withDaemon({ functionName: 'evfn' }, async (d) => {
      const id = await register(d, 'watcher', ['INVOKE']);
      const ev = d.eventNext(id);
      const deadline = new Date(Date.now() + 45_000);
      const inv = await invoke(d, { 'fn-call-id': 'ev-1', 'fn-deadline': deadline.toISOString() });
      const a = await ev;
      assert.equal(a.status, 200, a.text);
      assert.match(String(a.headers['content-type']), /^application\/json/);
      assert.match(String(a.headers['lambda-extension-event-identifier']), UUID);
      const body = a.json() as Json;
      assert.deepEqual(Object.keys(body).sort(), ['deadlineMs', 'eventType', 'invokedFunctionArn', 'requestId', 'tracing']);
      assert.equal(body.eventType, 'INVOKE');
      // The call came before init was over: its deadline moved by the (short) wait for it.
      const moved = body.deadlineMs - deadline.getTime();
      assert.ok(moved >= 0 && moved < 1000, `deadline moved ${moved} ms`);
      assert.equal(String(body.deadlineMs), inv.event.headers['lambda-runtime-deadline-ms'], 'the runtime and the extension get one deadline');
      assert.equal(body.requestId, 'ev-1');
      assert.equal(body.invokedFunctionArn, `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:evfn`);
      assert.equal(body.tracing.type, 'X-Amzn-Trace-Id');
      assert.equal(body.tracing.value, inv.event.headers['lambda-runtime-trace-id']);
      assert.match(body.tracing.value, TRACE);
      assertAccepted(await d.post('ev-1', 'response'));
      assert.equal((await inv.answer).status, 200);

      // The invoke stays busy until the extension is back in next.
      void d.next();
      let idle = false;
      const idled = d.idle().then(() => (idle = true));
      await sleep(150);
      assert.equal(idle, false, 'idle while the extension still works');
      void d.eventNext(id);
      await idled;
    }));
});

describe('Telemetry API', () => {
  const subscription = (port: number, extra: Json = {}): Json => ({
    schemaVersion: '2022-12-13',
    destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${port}/telemetry` },
    types: ['platform', 'function'],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    ...extra,
  });
  const subscribe = (d: Daemon, id: string, body: Json, api: 'telemetry' | 'logs' = 'telemetry') =>
    d.api('PUT', api === 'telemetry' ? '/2022-07-01/telemetry' : '/2020-08-15/logs', {
      headers: { 'lambda-extension-identifier': id, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });

  test('subscribe during init: 200 "OK" (the JSON string, as text/plain), and the platform events are delivered', () =>
    withSink((sink) =>
      withDaemon({}, async (d) => {
        const id = await register(d, 'collector', []);
        const a = await subscribe(d, id, subscription(sink.port));
        assert.equal(a.status, 200, a.text);
        assert.equal(a.text, '"OK"');
        assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
        void d.eventNext(id);
        await warm(d);
        await sink.waitFor('platform.report');
        const types = sink.events().map((e) => String(e.type));
        for (const t of ['platform.initStart', 'platform.telemetrySubscription', 'platform.initRuntimeDone', 'platform.start', 'platform.runtimeDone', 'platform.report']) {
          assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
        }
        for (const e of sink.events()) assert.match(String(e.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        for (const b of sink.batches) {
          assert.equal(b.method, 'POST');
          assert.equal(b.contentType, 'application/json');
        }
      }),
    ));

  // Per the Telemetry API and Logs API guides (telemetry-api.md, runtimes-logs-api.md), a TCP
  // destination is a port that receives newline-delimited JSON.
  test('TCP destinations (Telemetry and Logs API): NDJSON lines on one kept connection each, from init to report', () =>
    withTcpSink((tel) =>
      withTcpSink((logs) =>
        withDaemon({}, async (d) => {
          const a = await register(d, 'tcp-telemetry', []);
          const sub = await subscribe(d, a, subscription(0, { destination: { protocol: 'TCP', port: tel.port } }));
          assert.equal(sub.status, 200, sub.text);
          assert.equal(sub.text, '"OK"');
          const b = await register(d, 'tcp-logs', []);
          const logsSub = subscription(0, { schemaVersion: '2021-03-18', destination: { protocol: 'TCP', port: logs.port } });
          assert.equal((await subscribe(d, b, logsSub, 'logs')).status, 200);
          void d.eventNext(a);
          void d.eventNext(b);
          await warm(d);
          await tel.waitFor('platform.report');
          await logs.waitFor('platform.report');
          const types = (sink: { events(): Json[] }) => sink.events().map((e) => String(e.type));
          for (const t of ['platform.initStart', 'platform.telemetrySubscription', 'platform.initRuntimeDone', 'platform.start', 'platform.runtimeDone', 'platform.report']) {
            assert.ok(types(tel).includes(t), `${t} in ${types(tel).join(', ')}`);
          }
          for (const t of ['platform.logsSubscription', 'platform.start', 'platform.runtimeDone', 'platform.end', 'platform.report']) {
            assert.ok(types(logs).includes(t), `${t} in ${types(logs).join(', ')}`);
          }
          assert.ok(!types(logs).includes('platform.initStart'), 'the Logs API has no init records');
          for (const sink of [tel, logs]) {
            assert.equal(sink.sockets.length, 1, 'one connection');
            assert.ok(sink.received[0]!.endsWith('\n'), 'every line ends with a newline');
          }
        }),
      ),
    ));

  test('bad buffering (maxItems 5), a bad destination host, a TCP port out of range, no types: 400 ValidationError', () =>
    withDaemon({}, async (d) => {
      const id = await register(d, 'validating', []);
      assertApiError(await subscribe(d, id, subscription(4243, { buffering: { maxItems: 5 } })), 400, 'ValidationError');
      assertApiError(await subscribe(d, id, subscription(4243, { destination: { protocol: 'HTTP', URI: 'http://example.com:4243/' } })), 400, 'ValidationError');
      assertApiError(await subscribe(d, id, subscription(4243, { destination: { protocol: 'TCP', port: 70000 } })), 400, 'ValidationError');
      assertApiError(await subscribe(d, id, subscription(4243, { types: [] })), 400, 'ValidationError');
      assertApiError(await subscribe(d, id, subscription(4243, { schemaVersion: '1999-01-01' })), 400, 'ValidationError');
      const notJson = await d.api('PUT', '/2022-07-01/telemetry', { headers: { 'lambda-extension-identifier': id }, body: '{' });
      assertApiError(notJson, 400, 'ValidationError');
      // The Logs API names its own: Logs.ValidationError, a body that is no JSON too.
      const logsNotJson = await d.api('PUT', '/2020-08-15/logs', { headers: { 'lambda-extension-identifier': id }, body: '{' });
      assertApiError(logsNotJson, 400, 'Logs.ValidationError');
    }));

  test('Telemetry and Logs for one extension: 400 (Logs.ValidationError from the Logs API); without an identifier: 403', () =>
    withDaemon({}, async (d) => {
      const id = await register(d, 'both', []);
      assert.equal((await subscribe(d, id, subscription(4243))).status, 200);
      assertApiError(await subscribe(d, id, subscription(4243, { schemaVersion: '2021-03-18' }), 'logs'), 400, 'Logs.ValidationError');
      const anon = await d.api('PUT', '/2022-07-01/telemetry', { body: JSON.stringify(subscription(4243)) });
      assertApiError(anon, 403, 'Extension.MissingExtensionIdentifier');
    }));

  test('the Logs API takes PUT and POST (schema 2021-03-18)', () =>
    withDaemon({}, async (d) => {
      const a = await register(d, 'logs-put', []);
      assert.equal((await subscribe(d, a, subscription(4243, { schemaVersion: '2021-03-18' }), 'logs')).status, 200);
      const b = await register(d, 'logs-post', []);
      const post = await d.api('POST', '/2020-08-15/logs', {
        headers: { 'lambda-extension-identifier': b }, body: JSON.stringify(subscription(4243, { schemaVersion: '2020-08-15' })),
      });
      assert.equal(post.status, 200, post.text);
      assert.equal(post.text, '"OK"');
    }));

  test('subscribe after init: 403 Telemetry.SubscriptionClosed (Logs.SubscriptionClosed for the Logs API)', () =>
    withDaemon({}, async (d) => {
      const id = await register(d, 'late-sub', []);
      void d.eventNext(id);
      await warm(d);
      assertApiError(await subscribe(d, id, subscription(4243)), 403, 'Telemetry.SubscriptionClosed');
      assertApiError(await subscribe(d, id, subscription(4243, { schemaVersion: '2021-03-18' }), 'logs'), 403, 'Logs.SubscriptionClosed');
    }));
});

describe('http-stream socket', () => {
  // The boot init is not on the invoke chain; idle must wait for it too.
  test('idle during the boot init waits until every party is parked', () =>
    withDaemon({}, async (d) => {
      const idle = d.idle().then(() => 'idle' as const);
      const first = await Promise.race([idle, sleep(300).then(() => 'pending' as const)]);
      assert.equal(first, 'pending', 'idle must wait for init (the runtime has not called next)');
      void d.next();
      assert.equal(await idle, 'idle');
    }));

  test('an unknown path: 404; idle with nothing running: 200', () =>
    withDaemon({}, async (d) => {
      assert.equal((await d.socket('GET', '/nothing')).status, 404);
      await warm(d);
      const a = await d.idle();
      assert.equal(a.status, 200);
      assert.deepEqual(a.json(), { idle: true });
    }));
});
