// api/invoke-log.ts: which failures are the platform's (a warn line), and the debug line's cost.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { invokeDetached } from '../../api/invoke-handler.js';
import { platformFailure, traceInvoke, warnPlatformFailure } from '../../api/invoke-log.js';
import type { Invoker } from '../../api/deps.js';
import { createLogger } from '../../api/logger.js';
import { AgentError, StreamCutError, WaitExpired, type AgentErrorKind } from '../../agent/errors.js';
import { ContainerConfigError, DriverError, ImageNotFoundError, NetworkNotFoundError } from '../../drivers/errors.js';
import { NotFoundError } from '../../store/errors.js';

const agent = (kind: AgentErrorKind) => new AgentError(kind, kind);

const cases: { name: string; err: unknown; want: string | undefined }[] = [
  { name: 'the engine unreachable', err: new DriverError('connect ECONNREFUSED /var/run/docker.sock'), want: 'engine' },
  { name: 'a container not ready in time', err: agent('start-timeout'), want: 'start-timeout' },
  { name: 'a container that exited before ready', err: agent('init-failed'), want: 'init-failed' },
  { name: 'no capacity (503 / 429)', err: new WaitExpired(), want: 'server-busy' },
  { name: 'an image not to be had', err: new ImageNotFoundError('x:1', 'no such image'), want: 'image-unavailable' },
  { name: 'the engine refusing the container as configured', err: new ContainerConfigError('container failed to start: ...'), want: 'container-config' },
  { name: 'a network not on the engine', err: new NetworkNotFoundError('x'), want: 'container-config' },
  // The function's own failures, the caller's, and what is already logged elsewhere.
  { name: 'the function timed out', err: agent('timeout'), want: undefined },
  { name: 'the function died mid-call', err: agent('function-failed'), want: undefined },
  { name: 'an invalid function response', err: agent('invalid-response'), want: undefined },
  { name: 'a response too large', err: agent('response-too-large'), want: undefined },
  { name: 'a stream the function broke off', err: new StreamCutError('Runtime.TruncatedResponse'), want: undefined },
  { name: 'the caller went away', err: agent('cancelled'), want: undefined },
  { name: 'a request too large', err: agent('request-too-large'), want: undefined },
  { name: 'a fn too big for the host', err: agent('too-big-for-host'), want: undefined },
  { name: 'the server stopping', err: agent('shutting-down'), want: undefined },
  { name: 'no such fn', err: new NotFoundError('fn', 'Fn not found'), want: undefined },
  { name: 'a bug (a 500, logged as an error already)', err: new Error('boom'), want: undefined },
];
for (const c of cases) {
  test(`platformFailure: ${c.name}`, () => assert.equal(platformFailure(c.err), c.want));
}

function capture(level: 'info' | 'debug') {
  const out: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { out.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { log: createLogger(level, sink), out };
}

test('warnPlatformFailure logs the platform’s failures at warn with call id, fn id, kind and message; nothing else', async () => {
  const { log, out } = capture('info');
  warnPlatformFailure(log, new DriverError('connect ENOENT /x.sock'), 'CALL1', 'FN1');
  warnPlatformFailure(log, agent('timeout'), 'CALL2', 'FN1');
  await new Promise((r) => setImmediate(r));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.level, 40);
  assert.equal(out[0]!.call_id, 'CALL1');
  assert.equal(out[0]!.fn_id, 'FN1');
  assert.equal(out[0]!.kind, 'engine');
  assert.equal(out[0]!.error, 'connect ENOENT /x.sock');
});

/** KILN_TRUST_PROXY unset: the peer is the caller, whatever X-Forwarded-For says. */
const NO_PROXY = () => false;

const fakeExchange = (answered = true) => {
  const req = Object.assign(new EventEmitter(), { method: 'POST', url: '/invoke/FN1?access_token=s3cret&x=1', readableAborted: !answered, headers: { 'x-forwarded-for': '203.0.113.9' }, socket: { remoteAddress: '10.0.0.7' } }) as unknown as IncomingMessage;
  // node:http's default statusCode is 200, answered or not.
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableEnded: answered, headersSent: answered }) as unknown as ServerResponse;
  return { req, res };
};

test('traceInvoke at info does nothing: no trail, no listener', () => {
  const { log } = capture('info');
  const { req, res } = fakeExchange();
  assert.equal(traceInvoke(log, req, res, NO_PROXY), undefined);
  assert.equal(res.listenerCount('close'), 0);
});

test('traceInvoke at debug logs one line as pino-http does when the answer is done', async () => {
  const { log, out } = capture('debug');
  const { req, res } = fakeExchange();
  const trail = traceInvoke(log, req, res, NO_PROXY);
  assert.ok(trail);
  trail.callId = 'CALL1';
  trail.fnId = 'FN1';
  res.emit('close');
  await new Promise((r) => setImmediate(r));
  assert.equal(out.length, 1);
  const { level, msg, req: r, res: s, call_id, fn_id, responseTime } = out[0]!;
  assert.deepEqual({ level, msg, req: r, res: s, call_id, fn_id }, { level: 20, msg: 'request completed', req: { method: 'POST', url: '/invoke/FN1?access_token=[redacted]&x=1', remoteAddress: '10.0.0.7' }, res: { statusCode: 200 }, call_id: 'CALL1', fn_id: 'FN1' });
  assert.equal(typeof responseTime, 'number');
});

// The caller's address as KILN_TRUST_PROXY says: a trusted peer's X-Forwarded-For.
test('traceInvoke names the caller behind a trusted proxy', async () => {
  const { log, out } = capture('debug');
  const { req, res } = fakeExchange();
  traceInvoke(log, req, res, () => true);
  res.emit('close');
  await new Promise((r) => setImmediate(r));
  assert.equal((out[0]!.req as { remoteAddress?: string }).remoteAddress, '203.0.113.9');
});

test('traceInvoke: a caller gone before any answer is logged with no status (not the 200 node:http starts with)', async () => {
  const { log, out } = capture('debug');
  const { req, res } = fakeExchange(false);
  traceInvoke(log, req, res, NO_PROXY);
  res.emit('close');
  await new Promise((r) => setImmediate(r));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.msg, 'request aborted');
  assert.equal(out[0]!.res, undefined);
});

test('a detached call that fails after its 202: the platform\'s failure at warn with fn_id, the function\'s own not at all, anything else at error', async () => {
  const failWith = (err: unknown): Invoker => ({
    invoke: async (spec) => {
      spec.onAccepted?.();
      throw err;
    },
    admit: () => undefined,
  }) as Invoker;
  const spec = { callId: 'CALL1', fn: { id: 'FN1' } } as unknown as Parameters<typeof invokeDetached>[1];
  const cases: { err: unknown; level?: number; kind?: string }[] = [
    { err: new AgentError('timeout', 'Timed out') },
    { err: new AgentError('function-failed', 'error receiving function response') },
    { err: new DriverError('connect ENOENT /x.sock'), level: 40, kind: 'engine' },
    { err: new AgentError('server-busy', 'Timed out - server too busy'), level: 40, kind: 'server-busy' },
    { err: new TypeError('a bug'), level: 50 },
  ];
  for (const c of cases) {
    const { log, out } = capture('info');
    await invokeDetached(failWith(c.err), spec, log, () => {});
    await new Promise((r) => setImmediate(r));
    if (c.level === undefined) {
      assert.equal(out.length, 0, `${String(c.err)}: ${JSON.stringify(out)}`);
      continue;
    }
    assert.equal(out.length, 1, String(c.err));
    assert.equal(out[0]!.level, c.level);
    assert.equal(out[0]!.call_id, 'CALL1');
    assert.equal(out[0]!.fn_id, 'FN1');
    if (c.kind) assert.equal(out[0]!.kind, c.kind);
  }
});
