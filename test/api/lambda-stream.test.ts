// InvokeWithResponseStream (api/lambda-stream.ts) through AWS's own, unmodified
// @aws-sdk/client-lambda, against a real server on SQLite with real containers: lambda fns
// that stream (a plain-Node custom runtime, and the AWS runtime interface client's
// streamifyResponse), a buffered lambda fn, and an http-stream fn (the tester fixture).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient,
  type InvokeWithResponseStreamCommandInput, type InvokeWithResponseStreamCommandOutput, type InvokeWithResponseStreamCompleteEvent,
  type ServiceInputTypes, type ServiceOutputTypes,
} from '@aws-sdk/client-lambda';
// Types only (erased): the SDK's own middleware type, from the package the SDK is built on.
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually } from '../helpers/containers.js';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { fixtureImage } from '../helpers/images.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call, startServer, type TestServer } from '../helpers/server.js';
import { STREAMING_HEADER, STREAMING_MODE, STREAM_ERROR_TRAILER } from '../../runtime/wire.js';

const enc = new TextEncoder();
const payload = (v: unknown) => enc.encode(JSON.stringify(v));
const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

/** A client as a Lambda user makes one, pointed at Kiln; one attempt, so errors show at once. */
const lambdaClient = (endpoint: string, sessionToken?: string) => new LambdaClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'x', secretAccessKey: 'y', ...(sessionToken !== undefined && { sessionToken }) },
});

/** A streamed call read to its end: what the SDK gave, each event in order, and when each chunk came. */
interface Streamed {
  out: InvokeWithResponseStreamCommandOutput;
  events: ('PayloadChunk' | 'InvokeComplete')[];
  chunks: Buffer[];
  /** Milliseconds from the send to each chunk. */
  chunkAt: number[];
  doneAt: number;
  complete: InvokeWithResponseStreamCompleteEvent | undefined;
  text: string;
  requestId: string;
}

async function streamed(client: LambdaClient, input: InvokeWithResponseStreamCommandInput): Promise<Streamed> {
  const t0 = Date.now();
  const out = await client.send(new InvokeWithResponseStreamCommand(input));
  const r: Omit<Streamed, 'doneAt' | 'text' | 'requestId'> = { out, events: [], chunks: [], chunkAt: [], complete: undefined };
  for await (const event of out.EventStream ?? []) {
    if (event.PayloadChunk) {
      r.events.push('PayloadChunk');
      r.chunks.push(Buffer.from(event.PayloadChunk.Payload ?? new Uint8Array()));
      r.chunkAt.push(Date.now() - t0);
    } else if (event.InvokeComplete) {
      r.events.push('InvokeComplete');
      r.complete = event.InvokeComplete;
    }
  }
  return { ...r, doneAt: Date.now() - t0, text: Buffer.concat(r.chunks).toString('utf8'), requestId: out.$metadata.requestId ?? '' };
}

/** The SDK's error for a call Kiln refused: its name (the Lambda type) and HTTP status. */
async function sdkError(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('the SDK did not throw');
}

/** A stream that ended well: 200, $LATEST, the event-stream type, and a bare InvokeComplete last. */
function assertWhole(r: Streamed): void {
  assert.equal(r.out.StatusCode, 200);
  assert.equal(r.out.ExecutedVersion, '$LATEST');
  assert.equal(r.out.ResponseStreamContentType, 'application/vnd.amazon.eventstream');
  assert.equal(r.events.at(-1), 'InvokeComplete');
  assert.equal(r.events.filter((e) => e === 'InvokeComplete').length, 1);
  assert.deepEqual(r.complete, {}, JSON.stringify(r.complete));
}

/** A stream that ended with the function's error: InvokeComplete names it (and nothing else follows). */
function assertFailed(r: Streamed, errorCode: string, details: string | RegExp): void {
  assert.equal(r.out.StatusCode, 200);
  assert.equal(r.out.ExecutedVersion, '$LATEST');
  assert.equal(r.events.at(-1), 'InvokeComplete');
  assert.equal(r.complete?.ErrorCode, errorCode, JSON.stringify(r.complete));
  if (typeof details === 'string') assert.equal(r.complete?.ErrorDetails, details);
  else assert.match(r.complete?.ErrorDetails ?? '', details);
}

const timedOut = (r: Streamed) => `RequestId: ${r.requestId} Error: Task timed out after 1.00 seconds`;

describe('InvokeWithResponseStream through @aws-sdk/client-lambda', () => {
  let s: AgentSuite;
  let client: LambdaClient;
  let lambdaFn: { id: string; name: string };
  let slowLambda: { id: string; name: string };
  let ricFn: { id: string; name: string };
  let httpFn: { id: string; name: string };
  let slowHttp: { id: string; name: string };
  const invoke = (input: InvokeWithResponseStreamCommandInput) => streamed(client, input);

  before(async () => {
    const [image, ric] = await Promise.all([lambdaFixtureImage('node-runtime'), lambdaFixtureImage('node-ric')]);
    s = await agentSuite('lambda-stream');
    client = lambdaClient(s.srv.url, 'session-token-secret');
    lambdaFn = await s.mkFn('stream-lambda', { image, format: 'lambda' });
    slowLambda = await s.mkFn('slow-stream-lambda', { image, format: 'lambda', timeout: 1 });
    ricFn = await s.mkFn('ric-streamify', { image: ric, format: 'lambda', config: { STREAM: '1' } });
    httpFn = await s.mkFn('stream-http');
    slowHttp = await s.mkFn('slow-stream-http', { timeout: 1 });
  });
  after(async () => {
    client.destroy();
    await s.close();
  });

  test('a response-streaming lambda fn: each chunk a PayloadChunk as the runtime writes it, long before the end', async () => {
    // Four chunks 700 ms apart: the stream takes over 2 s, and its first chunk comes at once.
    const r = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'stream', chunks: 4, gapMs: 700 }) });
    assertWhole(r);
    assert.equal(r.text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\n');
    assert.deepEqual(r.events, ['PayloadChunk', 'PayloadChunk', 'PayloadChunk', 'PayloadChunk', 'InvokeComplete']);
    assert.ok(r.doneAt >= 2000, `the stream took ${r.doneAt} ms`);
    assert.ok(r.chunkAt[0]! < r.doneAt - 1500, `first chunk at ${r.chunkAt[0]} ms, end at ${r.doneAt} ms: the answer was buffered`);
    for (let i = 1; i < r.chunkAt.length; i++) assert.ok(r.chunkAt[i]! - r.chunkAt[i - 1]! >= 400, `chunks at ${r.chunkAt.join(', ')} ms`);
    const [recorded] = (await s.calls(lambdaFn.id)).filter((c) => c.id === r.requestId);
    assert.equal(recorded?.status, 'success', 'recorded under its request id');
  });

  test('the AWS runtime interface client\'s streamifyResponse handler streams through', async () => {
    const r = await invoke({ FunctionName: ricFn.name, Payload: payload({}) });
    assertWhole(r);
    assert.equal(r.text, 'part 0\npart 1\npart 2\npart 3\n');
    assert.ok(r.chunks.length >= 3, `${r.chunks.length} chunks`);
  });

  test('a buffered lambda fn: its payload as PayloadChunk events, by id, name, ARN and $LATEST', async () => {
    const names = [lambdaFn.id, lambdaFn.name, `arn:aws:lambda:us-east-1:012345678912:function:${lambdaFn.name}`, `${lambdaFn.name}:$LATEST`];
    for (const FunctionName of names) {
      const r = await invoke({ FunctionName, Payload: payload({ hello: FunctionName }) });
      assertWhole(r);
      const body = JSON.parse(r.text) as { echo: unknown; headers: Record<string, string> };
      assert.deepEqual(body.echo, { hello: FunctionName });
      assert.equal(body.headers['lambda-runtime-aws-request-id'], r.requestId, 'the Lambda request id is the call id');
    }
    const q = await invoke({ FunctionName: lambdaFn.name, Qualifier: '$LATEST', Payload: payload({ q: 1 }) });
    assert.deepEqual(JSON.parse(q.text).echo, { q: 1 });
  });

  test('ClientContext and the trace id reach a lambda fn\'s runtime', async () => {
    const ctx = { client: { installation_id: 'i-1' }, custom: { tenant: 'kiln' }, env: {} };
    const r = await invoke({ FunctionName: lambdaFn.name, Payload: payload({}), ClientContext: b64json(ctx) });
    assert.deepEqual(JSON.parse(JSON.parse(r.text).headers['lambda-runtime-client-context']), ctx);
  });

  test('an http-stream fn: its answer streams through, and it never sees a credential', async () => {
    const r = await invoke({ FunctionName: httpFn.name, Payload: payload({ n: 42 }) });
    assertWhole(r);
    const echo = JSON.parse(r.text) as { body: string; headers: Record<string, string> };
    assert.equal(echo.body, JSON.stringify({ n: 42 }));
    for (const name of ['authorization', 'x-amz-security-token', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-invocation-type']) {
      assert.equal(echo.headers[name], undefined, `${name} reached the function`);
    }
    assert.equal(echo.headers['fn-call-id'], r.requestId);
  });

  test('an http-stream fn that writes a little at a time: each piece as it comes, not held for a length', async () => {
    const r = await invoke({ FunctionName: httpFn.name, Payload: payload({ chunks: 4, gapMs: 600 }) });
    assertWhole(r);
    assert.equal(r.text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\n');
    assert.ok(r.chunks.length >= 3, `${r.chunks.length} chunks`);
    assert.ok(r.chunkAt[0]! < r.doneAt - 1200, `first chunk at ${r.chunkAt[0]} ms, end at ${r.doneAt} ms: the answer was buffered`);
  });

  test('the caller going away mid-stream cancels the call', async () => {
    const gone = new AbortController();
    const out = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: lambdaFn.name, Payload: payload({ action: 'stream', chunks: 50, gapMs: 200 }) }), { abortSignal: gone.signal });
    const id = out.$metadata.requestId;
    await assert.rejects(async () => {
      for await (const event of out.EventStream ?? []) if (event.PayloadChunk) gone.abort();
    });
    assert.ok(await eventually(async () => (await s.calls(lambdaFn.id)).some((c) => c.id === id && c.status === 'cancelled'), 10_000), 'recorded as cancelled');
    // The fn still answers.
    assertWhole(await invoke({ FunctionName: lambdaFn.name, Payload: payload({}) }));
  });

  test('a large answer arrives whole and in order, read slowly', async () => {
    const bytes = 3 * 1024 * 1024;
    const out = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: httpFn.name, Payload: payload({ bytes }) }));
    let got = 0;
    let events = 0;
    let complete: InvokeWithResponseStreamCompleteEvent | undefined;
    for await (const event of out.EventStream ?? []) {
      if (event.PayloadChunk) {
        const p = Buffer.from(event.PayloadChunk.Payload ?? new Uint8Array());
        assert.ok(p.every((b) => b === 0x78), 'only the function\'s bytes');
        got += p.length;
        // A slow reader: the connection fills and Kiln has to wait for it.
        if (++events % 8 === 0) await new Promise((r) => setTimeout(r, 20));
      } else if (event.InvokeComplete) complete = event.InvokeComplete;
    }
    assert.equal(got, bytes);
    assert.ok(events > 1, 'in several chunks');
    assert.deepEqual(complete, {});
  });

  test('a lambda fn\'s error before its first byte: no PayloadChunk, InvokeComplete names its type and message', async () => {
    const r = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'error' }) });
    assert.deepEqual(r.events, ['InvokeComplete']);
    assertFailed(r, 'MyError', 'it failed');
    // Its record has the message too, as an Invoke's does, though the answer streamed through.
    await s.srv.agent.flushRecords();
    const [recorded] = (await s.calls(lambdaFn.id)).filter((c) => c.id === r.requestId);
    assert.equal(recorded?.error, 'function answered 502: MyError: it failed');
  });

  test('a stream its handler\'s error cuts: the parts so far, then InvokeComplete with the runtime\'s error', async () => {
    const r = await invoke({ FunctionName: ricFn.name, Payload: payload({ failAfter: 1 }) });
    assert.equal(r.text, 'part 0\npart 1\n');
    assertFailed(r, 'RangeError', 'failed after part 1');
    const [recorded] = (await s.calls(ricFn.id)).filter((c) => c.id === r.requestId);
    assert.equal(recorded?.status, 'error');
  });

  test('a stream still going at the fn timeout: the chunks so far, then InvokeComplete Sandbox.Timedout', async () => {
    const r = await invoke({ FunctionName: slowLambda.name, Payload: payload({ action: 'stream', chunks: 20, gapMs: 300 }) });
    assert.match(r.text, /^chunk 0\n(chunk \d+\n)*$/);
    assert.ok(!r.text.includes('chunk 19'), r.text);
    assertFailed(r, 'Sandbox.Timedout', timedOut(r));
    assert.ok(r.doneAt < 3000, `ended after ${r.doneAt} ms`);
    const [recorded] = (await s.calls(slowLambda.id)).filter((c) => c.id === r.requestId);
    assert.equal(recorded?.status, 'timeout');
  });

  test('a stream its reader holds up is still ended at the fn timeout: InvokeComplete Sandbox.Timedout', async () => {
    const out = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: slowLambda.name, Payload: payload({ action: 'stream', chunks: 400, chunkBytes: 256 * 1024, gapMs: 5 }) }));
    // Not read for a while: the connection fills, and the daemon's cut waits behind it. The call
    // is over by about the deadline and a second all the same; before, only the agent's backstop
    // (the timeout plus 10 s) ended it, and InvokeComplete said ServiceException.
    const id = out.$metadata.requestId;
    assert.ok(await eventually(async () => (await s.calls(slowLambda.id)).some((c) => c.id === id && c.status === 'timeout'), 4000), 'recorded as a timeout while unread');
    let complete: InvokeWithResponseStreamCompleteEvent | undefined;
    let got = 0;
    for await (const event of out.EventStream ?? []) {
      if (event.PayloadChunk) got += event.PayloadChunk.Payload?.length ?? 0;
      else if (event.InvokeComplete) complete = event.InvokeComplete;
    }
    assert.equal(complete?.ErrorCode, 'Sandbox.Timedout', JSON.stringify(complete));
    assert.ok(got < 400 * 256 * 1024, `${got} bytes: cut short`);
  });

  test('a lambda fn past its timeout before its first byte: InvokeComplete Sandbox.Timedout', async () => {
    const r = await invoke({ FunctionName: slowLambda.name, Payload: payload({ action: 'sleep', ms: 3000 }) });
    assert.deepEqual(r.events, ['InvokeComplete']);
    assertFailed(r, 'Sandbox.Timedout', timedOut(r));
  });

  test('an http-stream fn past its timeout: the same', async () => {
    const r = await invoke({ FunctionName: slowHttp.name, Payload: payload({ sleepMs: 3000 }) });
    assert.deepEqual(r.events, ['InvokeComplete']);
    assertFailed(r, 'Sandbox.Timedout', timedOut(r));
  });

  test('a crash: InvokeComplete Runtime.ExitError, from a lambda fn\'s daemon and from Kiln for an http-stream fn', async () => {
    const lambda = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'crash' }) });
    assertFailed(lambda, 'Runtime.ExitError', /^RequestId: \S+ Error: Runtime exited with error: exit status 7$/);
    const http = await invoke({ FunctionName: httpFn.name, Payload: payload({ crash: true }) });
    assertFailed(http, 'Runtime.ExitError', /^RequestId: \S+ Error: error receiving function response: container exited with code 1$/);
  });

  test('an http-stream fn\'s 502: InvokeComplete Unhandled with its answer as the details', async () => {
    const r = await invoke({ FunctionName: httpFn.name, Payload: payload({ status: 502 }) });
    assert.deepEqual(r.events, ['InvokeComplete']);
    assertFailed(r, 'Unhandled', /"body":"\{\\"status\\":502\}"/);
  });

  test('LogType Tail: InvokeComplete carries the log\'s last 4 KB, a lambda fn\'s START to REPORT', async () => {
    const r = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'stream', chunks: 2, gapMs: 10 }), LogType: 'Tail' });
    assert.equal(r.complete?.ErrorCode, undefined);
    const log = Buffer.from(r.complete?.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, new RegExp(`START RequestId: ${r.requestId} Version: \\$LATEST`));
    assert.match(log, new RegExp(`handling ${r.requestId}: stream`));
    assert.match(log, new RegExp(`REPORT RequestId: ${r.requestId}\\tDuration: `));
    const failed = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'error' }), LogType: 'Tail' });
    assert.equal(failed.complete?.ErrorCode, 'MyError');
    assert.match(Buffer.from(failed.complete?.LogResult ?? '', 'base64').toString('utf8'), new RegExp(`REPORT RequestId: ${failed.requestId}`));
    const http = await invoke({ FunctionName: httpFn.name, Payload: payload({ log: 'stream-tail-marker' }), LogType: 'Tail' });
    assert.equal(Buffer.from(http.complete?.LogResult ?? '', 'base64').toString('utf8'), 'stream-tail-marker\nstream-tail-marker\n');
    const none = await invoke({ FunctionName: httpFn.name, Payload: payload({}) });
    assert.equal(none.complete?.LogResult, undefined, 'no log unless asked');
  });

  test('DryRun: 204 once the fn is found, no events, and nothing runs', async () => {
    const before = (await s.calls(lambdaFn.id)).length;
    const r = await invoke({ FunctionName: lambdaFn.name, InvocationType: 'DryRun', Payload: payload({}) });
    assert.equal(r.out.StatusCode, 204);
    assert.deepEqual(r.events, []);
    assert.equal((await s.calls(lambdaFn.id)).length, before);
    const missing = await sdkError(invoke({ FunctionName: 'nope', InvocationType: 'DryRun' }));
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  test('Event is not this API\'s: 400 InvalidParameterValueException, and nothing runs', async () => {
    const before = (await s.calls(httpFn.id)).length;
    // The SDK's types allow RequestResponse and DryRun only; a caller may send it anyway.
    const e = await sdkError(invoke({ FunctionName: httpFn.name, InvocationType: 'Event' as 'DryRun', Payload: payload({}) }));
    assert.equal(e.name, 'InvalidParameterValueException');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Invalid X-Amz-Invocation-Type: "Event"; valid values are RequestResponse and DryRun');
    assert.equal((await s.calls(httpFn.id)).length, before);
  });

  test('platform errors before the stream are Invoke\'s: an unknown fn or qualifier 404, a bad payload 400', async () => {
    const e = await sdkError(invoke({ FunctionName: 'no-such-fn', Payload: payload({}) }));
    assert.equal(e.name, 'ResourceNotFoundException');
    assert.equal(e.status, 404);
    assert.equal(e.message, 'Function not found: arn:aws:lambda:us-east-1:012345678912:function:no-such-fn');
    const q = await sdkError(invoke({ FunctionName: lambdaFn.name, Qualifier: 'prod' }));
    assert.equal(q.name, 'ResourceNotFoundException');
    assert.equal(q.message, `Function not found: arn:aws:lambda:us-east-1:012345678912:function:${lambdaFn.name}:prod`);
    const bad = await sdkError(invoke({ FunctionName: lambdaFn.name, Payload: enc.encode('not json') }));
    assert.equal(bad.name, 'InvalidRequestContentException');
    assert.equal(bad.status, 400);
    const cc = await sdkError(invoke({ FunctionName: lambdaFn.name, ClientContext: 'bm90IGpzb24=' }));
    assert.equal(cc.name, 'InvalidRequestContentException');
  });

  test('another method on the path is a 405; the Invoke path is not this one', async () => {
    const url = `${s.srv.url}/2021-11-15/functions/${httpFn.name}/response-streaming-invocations`;
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await get.body?.cancel();
    // A plain client sees the raw event stream: a 200 whose body is event-stream messages.
    const r = await fetch(url, { method: 'POST', body: '{}' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/vnd.amazon.eventstream');
    assert.equal(r.headers.get('x-amz-executed-version'), '$LATEST');
    const id = r.headers.get('x-amzn-requestid');
    assert.ok(id);
    assert.equal(r.headers.get('fn-call-id'), id);
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(bytes.readUInt32BE(0) <= bytes.length, true);
    assert.ok(bytes.includes('InvokeComplete'));
  });
});

describe('InvokeWithResponseStream with KILN_AUTH_TOKENS set and KILN_AUTH_INVOKE=false', () => {
  const TOKEN = 'kiln-test-token-stream-0123456789';
  let db: TestDb;
  let srv: TestServer;
  let fn = { id: '', name: '' };

  before(async () => {
    const tester = await fixtureImage('tester');
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: TOKEN, KILN_AUTH_INVOKE: 'false' });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'stream-auth' }, auth);
    const made = await call(srv.url, 'POST', '/v2/fns', { name: 'guarded-stream', app_id: app.body.id, image: tester }, auth);
    assert.equal(made.status, 200);
    fn = made.body as { id: string; name: string };
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  /** The README's snippet: Kiln's bearer token in place of the SDK's SigV4 signature. */
  const withToken = (client: LambdaClient, token: string): LambdaClient => {
    const bearer: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers.authorization = `Bearer ${token}`;
      return next(args);
    };
    client.middlewareStack.addRelativeTo(bearer, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'kilnBearerToken' });
    return client;
  };

  test('/invoke is open, but this path still wants the token: 401 MissingAuthenticationTokenException, UnrecognizedClientException', async () => {
    const open = await fetch(`${srv.url}/invoke/${fn.id}`, { method: 'POST', body: '{}' });
    assert.equal(open.status, 200, 'KILN_AUTH_INVOKE=false leaves /invoke open');
    await open.body?.cancel();
    const plain = lambdaClient(srv.url);
    const e = await sdkError(plain.send(new InvokeWithResponseStreamCommand({ FunctionName: fn.name, Payload: payload({}) })));
    assert.equal(e.name, 'MissingAuthenticationTokenException');
    assert.equal(e.status, 401);
    // The buffered Invoke is guarded the same way.
    const i = await sdkError(plain.send(new InvokeCommand({ FunctionName: fn.name, Payload: payload({}) })));
    assert.equal(i.name, 'MissingAuthenticationTokenException');
    plain.destroy();
    const wrong = withToken(lambdaClient(srv.url), 'not-the-token-0123456789');
    const w = await sdkError(wrong.send(new InvokeWithResponseStreamCommand({ FunctionName: fn.name, Payload: payload({}) })));
    assert.equal(w.name, 'UnrecognizedClientException');
    assert.equal(w.status, 401);
    wrong.destroy();
  });

  test('with the token middleware it streams, and the token never reaches the function', async () => {
    const client = withToken(lambdaClient(srv.url), TOKEN);
    const r = await streamed(client, { FunctionName: fn.name, Payload: payload({ hi: 1 }) });
    assertWhole(r);
    const echo = JSON.parse(r.text) as { body: string; headers: Record<string, string> };
    assert.equal(echo.body, JSON.stringify({ hi: 1 }));
    assert.equal(echo.headers.authorization, undefined);
    client.destroy();
  });
});

describe('streamed answers have their own bound, KILN_MAX_STREAMED_RESPONSE_SIZE', () => {
  let s: AgentSuite;
  let client: LambdaClient;
  let lambdaFn: { id: string; name: string };
  let httpFn: { id: string; name: string };
  const MAX = 4096;
  const STREAMED_MAX = 64 * 1024;

  before(async () => {
    s = await agentSuite('stream-bounds', { FN_MAX_RESPONSE_SIZE: String(MAX), KILN_MAX_STREAMED_RESPONSE_SIZE: String(STREAMED_MAX) });
    client = lambdaClient(s.srv.url);
    lambdaFn = await s.mkFn('bounded-lambda', { image: await lambdaFixtureImage('node-runtime'), format: 'lambda' });
    httpFn = await s.mkFn('bounded-http');
  });
  after(async () => {
    client.destroy();
    await s.close();
  });

  const streamOf = (bytes: number) => ({ action: 'stream', chunks: bytes / 2000, chunkBytes: 2000, gapMs: 1 });

  test('a Lambda response stream over FN_MAX_RESPONSE_SIZE reaches /invoke\'s caller whole', async () => {
    const r = await fetch(`${s.srv.url}/invoke/${lambdaFn.id}`, { method: 'POST', body: JSON.stringify(streamOf(20_000)) });
    assert.equal(r.status, 200);
    assert.equal((await r.text()).length, 20_000);
  });

  test('InvokeWithResponseStream passes on any fn\'s answer up to the streamed bound, and cuts one over it', async () => {
    const http = await streamed(client, { FunctionName: httpFn.name, Payload: payload({ bytes: 20_000 }) });
    assertWhole(http);
    assert.equal(http.text.length, 20_000);
    const lambda = await streamed(client, { FunctionName: lambdaFn.name, Payload: payload(streamOf(20_000)) });
    assertWhole(lambda);
    assert.equal(lambda.text.length, 20_000);
    const over = await streamed(client, { FunctionName: httpFn.name, Payload: payload({ bytes: STREAMED_MAX + 1000 }) });
    assert.equal(over.complete?.ErrorCode, 'Function.ResponseSizeTooLarge');
    assert.ok(over.text.length <= STREAMED_MAX, `${over.text.length} bytes passed on`);
  });

  test("an http-stream fn's Kiln-Function-Error trailer is not believed: its stream ends whole, a success", async () => {
    const r = await streamed(client, { FunctionName: httpFn.name, Payload: payload({ bytes: 20_000, trailers: { [STREAM_ERROR_TRAILER]: 'T'.repeat(5_000) } }) });
    assertWhole(r);
    assert.equal(r.text.length, 20_000);
    assert.equal((await s.calls(httpFn.id))[0]?.status, 'success');
  });

  test('only a lambda fn\'s daemon is believed when it says its answer is a stream: an http-stream fn saying so keeps FN_MAX_RESPONSE_SIZE', async () => {
    const r = await s.invoke(httpFn.id, { bytes: 20_000, headers: { [STREAMING_HEADER]: STREAMING_MODE } });
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), /too large/);
  });

  test('the Invoke API answers application/json for a fn that sets no type, as before: no sniffing there', async () => {
    const r = await fetch(`${s.srv.url}/2015-03-31/functions/${httpFn.name}/invocations`, { method: 'POST', body: JSON.stringify({ raw: 'hello' }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(await r.text(), 'hello');
  });

  test('answers the caller holds whole keep FN_MAX_RESPONSE_SIZE: /invoke of a plain answer, Invoke of a stream', async () => {
    const plain = await s.invoke(httpFn.id, { bytes: 20_000 });
    assert.equal(plain.status, 502);
    assert.match(JSON.stringify(plain.body), /too large/);
    const out = await client.send(new InvokeCommand({ FunctionName: lambdaFn.name, Payload: payload(streamOf(20_000)) }));
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')).errorType, 'Function.ResponseSizeTooLarge');
  });
});
