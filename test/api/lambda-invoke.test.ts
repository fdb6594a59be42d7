// The Lambda Invoke API front door (api/lambda-invoke.ts) through AWS's own, unmodified
// @aws-sdk/client-lambda, against a real server on SQLite with real containers: a lambda fn
// (Kiln's daemon and the node-runtime fixture) and an http-stream fn (the tester fixture).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeTime } from 'ulid';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-lambda';
// Types only (erased): the SDK's own middleware type, from the package the SDK is built on.
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually } from '../helpers/containers.js';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { fixtureImage } from '../helpers/images.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const enc = new TextEncoder();
const payload = (v: unknown) => enc.encode(JSON.stringify(v));
const parsed = (out: InvokeCommandOutput): any => JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'));
const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

/** A client as a Lambda user makes one, pointed at Kiln; one attempt, so errors show at once. */
const lambdaClient = (endpoint: string, sessionToken?: string) => new LambdaClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'x', secretAccessKey: 'y', ...(sessionToken !== undefined && { sessionToken }) },
});

/** The SDK's error for a call Kiln refused: its name (the Lambda type) and HTTP status. */
async function sdkError(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string; err: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message, err: err as Record<string, unknown> };
  }
  assert.fail('the SDK did not throw');
}

const ARN = (name: string) => `arn:aws:lambda:us-east-1:012345678912:function:${name}`;

describe('the Lambda Invoke API through @aws-sdk/client-lambda', () => {
  let s: AgentSuite;
  let client: LambdaClient;
  let lambdaFn: { id: string; name: string };
  let streamFn: { id: string; name: string };
  let slowLambda: { id: string; name: string };
  let slowStream: { id: string; name: string };
  let rieFn: { id: string; name: string };
  const invoke = (input: ConstructorParameters<typeof InvokeCommand>[0]) => client.send(new InvokeCommand(input));

  before(async () => {
    const image = await lambdaFixtureImage('node-runtime');
    s = await agentSuite('lambda-door');
    client = lambdaClient(s.srv.url, 'session-token-secret');
    lambdaFn = await s.mkFn('echo-lambda', { image, format: 'lambda' });
    slowLambda = await s.mkFn('slow-lambda', { image, format: 'lambda', timeout: 1 });
    rieFn = await s.mkFn('function', { image, format: 'lambda' });
    streamFn = await s.mkFn('echo-stream');
    slowStream = await s.mkFn('slow-stream', { timeout: 1 });
    // The same name in two apps.
    await s.mkFn('twice');
    const other = (await call(s.srv.url, 'POST', '/v2/apps', { name: 'lambda-door-2' })).body.id as string;
    assert.equal((await call(s.srv.url, 'POST', '/v2/fns', { name: 'twice', app_id: other, image: s.tester })).status, 200);
  });
  after(async () => {
    client.destroy();
    await s.close();
  });

  test('invokes a lambda fn by id, name, ARN, partial ARN and $LATEST: the payload round-trips', async () => {
    const names = [lambdaFn.id, lambdaFn.name, ARN(lambdaFn.name), `012345678912:function:${lambdaFn.name}`, `${lambdaFn.name}:$LATEST`, `${ARN(lambdaFn.name)}:$LATEST`];
    for (const FunctionName of names) {
      const out = await invoke({ FunctionName, Payload: payload({ hello: FunctionName }) });
      assert.equal(out.StatusCode, 200, FunctionName);
      assert.equal(out.FunctionError, undefined, FunctionName);
      assert.equal(out.ExecutedVersion, '$LATEST');
      assert.equal(out.LogResult, undefined, 'no log unless asked');
      const body = parsed(out);
      assert.deepEqual(body.echo, { hello: FunctionName });
      // The Lambda request id is Kiln's call id, and the answer says it.
      assert.equal(body.headers['lambda-runtime-aws-request-id'], out.$metadata.requestId);
    }
    const out = await invoke({ FunctionName: lambdaFn.name, Qualifier: '$LATEST', Payload: payload({ q: 1 }) });
    assert.deepEqual(parsed(out).echo, { q: 1 });
    const calls = await s.calls(lambdaFn.id);
    assert.ok(calls.some((c) => c.id === out.$metadata.requestId && c.status === 'success'), 'the call is recorded under its request id');
  });

  test('invokes an http-stream fn by name: the payload round-trips and the function never sees a credential', async () => {
    const out = await invoke({ FunctionName: streamFn.name, Payload: payload({ n: 42 }), ClientContext: b64json({ custom: { k: 'v' } }) });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    const echo = parsed(out);
    assert.equal(echo.body, JSON.stringify({ n: 42 }));
    const h = echo.headers as Record<string, string>;
    // The SDK signed the request (SigV4) with a session token: neither reaches the function.
    for (const name of ['authorization', 'x-amz-security-token', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-invocation-type']) {
      assert.equal(h[name], undefined, `${name} reached the function`);
    }
    assert.equal(h['x-amz-client-context'], b64json({ custom: { k: 'v' } }));
    assert.equal(h['fn-call-id'], out.$metadata.requestId);
  });

  test("the runtime's invoked function ARN carries the version the caller named, as the service's does, and none when it named none", async () => {
    const arnOf = async (req: Parameters<typeof invoke>[0]) => parsed(await invoke({ ...req, Payload: payload({}) })).headers['lambda-runtime-invoked-function-arn'];
    assert.match(await arnOf({ FunctionName: lambdaFn.name }), new RegExp(`:function:${lambdaFn.name}$`));
    assert.match(await arnOf({ FunctionName: lambdaFn.name, Qualifier: '$LATEST' }), new RegExp(`:function:${lambdaFn.name}:\\$LATEST$`));
    assert.match(await arnOf({ FunctionName: `${lambdaFn.name}:$LATEST` }), new RegExp(`:function:${lambdaFn.name}:\\$LATEST$`));
  });

  test('ClientContext reaches a lambda fn as the runtime\'s Lambda-Runtime-Client-Context', async () => {
    const ctx = { client: { installation_id: 'i-1' }, custom: { tenant: 'kiln' }, env: {} };
    const out = await invoke({ FunctionName: lambdaFn.name, Payload: payload({}), ClientContext: b64json(ctx) });
    assert.deepEqual(JSON.parse(parsed(out).headers['lambda-runtime-client-context']), ctx);
  });

  test('a lambda fn\'s error is FunctionError Unhandled with the error as the payload', async () => {
    const out = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'error' }) });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.deepEqual(parsed(out), { errorMessage: 'it failed', errorType: 'MyError', stackTrace: ['at handler'] });
  });

  test('an http-stream fn\'s 502 is FunctionError Unhandled with its answer as the payload', async () => {
    const out = await invoke({ FunctionName: streamFn.id, Payload: payload({ status: 502 }) });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(parsed(out).body, JSON.stringify({ status: 502 }));
  });

  test('LogType Tail: a lambda fn\'s LogResult is its log with START, its output, END and REPORT', async () => {
    const out = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'echo' }), LogType: 'Tail' });
    const id = out.$metadata.requestId!;
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, new RegExp(`START RequestId: ${id} Version: \\$LATEST`));
    assert.match(log, new RegExp(`handling ${id}: echo`));
    assert.match(log, new RegExp(`END RequestId: ${id}`));
    assert.match(log, new RegExp(`REPORT RequestId: ${id}\\tDuration: `));
    // A function error carries its log too.
    const failed = await invoke({ FunctionName: lambdaFn.name, Payload: payload({ action: 'error' }), LogType: 'Tail' });
    assert.equal(failed.FunctionError, 'Unhandled');
    assert.match(Buffer.from(failed.LogResult ?? '', 'base64').toString('utf8'), new RegExp(`REPORT RequestId: ${failed.$metadata.requestId}`));
  });

  test('an Invoke with no payload gives the function the event {}, as the service does', async () => {
    const out = await invoke({ FunctionName: lambdaFn.name });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'));
    assert.deepEqual(parsed(out).echo, {});
  });

  test("LogType Tail on a fn whose extension works on after the answer: the answer does not wait for it, and END and REPORT follow in the call's log", async () => {
    const fn = await s.mkFn('blog-tail', { image: await lambdaFixtureImage('blog-demo'), format: 'lambda', config: { EXTENSION_WORK_SECONDS: '1' } });
    const out = await invoke({ FunctionName: fn.name, Payload: payload({ tail: 1 }), LogType: 'Tail' });
    const id = out.$metadata.requestId!;
    assert.equal(out.StatusCode, 200);
    const tail = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    assert.match(tail, new RegExp(`START RequestId: ${id} Version: \\$LATEST`));
    assert.doesNotMatch(tail, /REPORT RequestId/, 'the extension was still at work: no REPORT yet');
    let log = '';
    await eventually(async () => {
      await s.srv.agent.flushRecords();
      const r = await call(s.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}/log`);
      log = String(r.body.log ?? '');
      return log.includes(`REPORT RequestId: ${id}`);
    }, 8000, 100);
    assert.match(log, new RegExp(`Done processing\n(?:.*\n)*?END RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: `), log);
  });

  test('LogType Tail: an http-stream fn\'s LogResult is its stdout and stderr, the last 4 KB of it', async () => {
    const out = await invoke({ FunctionName: streamFn.name, Payload: payload({ log: 'tail-marker-1' }), LogType: 'Tail' });
    assert.equal(Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'), 'tail-marker-1\ntail-marker-1\n');
    const long = `${'y'.repeat(3000)}-end`;
    const big = await invoke({ FunctionName: streamFn.name, Payload: payload({ log: long }), LogType: 'Tail' });
    const tail = Buffer.from(big.LogResult ?? '', 'base64');
    assert.equal(tail.length, 4096);
    assert.ok(tail.toString().endsWith(`${long}\n`));
  });

  test('Event: 202 at once, the call runs', async () => {
    const before = (await s.calls(streamFn.id)).length;
    const t0 = Date.now();
    const out = await invoke({ FunctionName: streamFn.name, InvocationType: 'Event', Payload: payload({ sleepMs: 2000 }) });
    assert.ok(Date.now() - t0 < 1500, `the 202 came after ${Date.now() - t0} ms: it waited for the function`);
    assert.equal(out.StatusCode, 202);
    assert.equal(Buffer.from(out.Payload ?? new Uint8Array()).length, 0);
    const id = out.$metadata.requestId;
    assert.ok(await eventually(async () => (await s.calls(streamFn.id)).some((c) => c.id === id && c.status === 'success'), 10_000),
      'the Event call ran and was recorded');
    assert.equal((await s.calls(streamFn.id)).length, before + 1);
  });

  test('DryRun: 204 once the fn is found, and nothing runs', async () => {
    const before = (await s.calls(lambdaFn.id)).length;
    const out = await invoke({ FunctionName: lambdaFn.name, InvocationType: 'DryRun', Payload: payload({}) });
    assert.equal(out.StatusCode, 204);
    assert.equal((await s.calls(lambdaFn.id)).length, before);
    const missing = await sdkError(invoke({ FunctionName: 'nope', InvocationType: 'DryRun' }));
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  // Ids begin with their time, and the calls list's time filters take a call's id to be within
  // a minute of its created_at: the id is made once the body is in, however long the upload took.
  test("a call's id (its request id) is made once its body has arrived, as /invoke's", async () => {
    const body = JSON.stringify({ slow: 'upload' });
    const { port } = new URL(s.srv.url);
    let sentAt = 0;
    const requestId = await new Promise<string>((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/2015-03-31/functions/${streamFn.name}/invocations`, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(String(res.headers['x-amzn-requestid'])) : reject(new Error(`status ${res.statusCode}`))));
      });
      r.on('error', reject);
      r.flushHeaders();
      setTimeout(() => {
        sentAt = Date.now();
        r.end(body);
      }, 1500);
    });
    assert.ok(decodeTime(requestId) >= sentAt - 5, `the id's time ${decodeTime(requestId)} is the body's arrival (${sentAt}), not the head's`);
    assert.ok(await eventually(async () => (await s.calls(streamFn.id)).some((c) => c.id === requestId), 10_000), 'the call is recorded under that id');
  });

  test('an unknown fn is ResourceNotFoundException 404 naming its ARN', async () => {
    const e = await sdkError(invoke({ FunctionName: 'no-such-fn', Payload: payload({}) }));
    assert.equal(e.name, 'ResourceNotFoundException');
    assert.equal(e.status, 404);
    assert.equal(e.message, `Function not found: ${ARN('no-such-fn')}`);
    assert.equal(e.err.Type, 'User');
    const arn = await sdkError(invoke({ FunctionName: 'arn:aws:lambda:eu-west-1:111122223333:function:gone' }));
    assert.equal(arn.message, 'Function not found: arn:aws:lambda:eu-west-1:111122223333:function:gone');
  });

  test('an answer that is about no call carries its request id but no Fn-Call-Id: an unknown fn, a body that is not JSON, a DryRun', async () => {
    const at = (name: string) => `${s.srv.url}/2015-03-31/functions/${name}/invocations`;
    const answers = [
      [await fetch(at('no-such-fn'), { method: 'POST', body: '{}' }), 404],
      [await fetch(at(lambdaFn.name), { method: 'POST', body: '{not json' }), 400],
      [await fetch(at(lambdaFn.name), { method: 'POST', body: '{}', headers: { 'X-Amz-Invocation-Type': 'DryRun' } }), 204],
    ] as const;
    for (const [r, status] of answers) {
      await r.arrayBuffer();
      assert.equal(r.status, status);
      assert.match(r.headers.get('x-amzn-requestid') ?? '', /^[0-9A-Z]{26}$/);
      assert.equal(r.headers.get('fn-call-id'), null, `${status}: there is no call to look up`);
    }
  });

  test('a version or alias other than $LATEST is ResourceNotFoundException', async () => {
    for (const input of [{ FunctionName: lambdaFn.name, Qualifier: 'prod' }, { FunctionName: `${lambdaFn.name}:7` }]) {
      const e = await sdkError(invoke(input));
      assert.equal(e.name, 'ResourceNotFoundException', JSON.stringify(input));
      assert.equal(e.status, 404);
      assert.match(e.message, /^Function not found: arn:aws:lambda:us-east-1:012345678912:function:echo-lambda:(prod|7)$/);
    }
  });

  test('a name in two apps is InvalidParameterValueException: invoke it by id', async () => {
    const e = await sdkError(invoke({ FunctionName: 'twice' }));
    assert.equal(e.name, 'InvalidParameterValueException');
    assert.equal(e.status, 400);
    assert.match(e.message, /more than one app \(lambda-door(-2)?, lambda-door(-2)?\): invoke it by its fn id/);
  });

  test('bad parameters are 400s in Lambda\'s shape', async () => {
    const e = await sdkError(invoke({ FunctionName: lambdaFn.name, Payload: enc.encode('not json') }));
    assert.equal(e.name, 'InvalidRequestContentException');
    assert.equal(e.status, 400);
    const cc = await sdkError(invoke({ FunctionName: lambdaFn.name, ClientContext: 'bm90IGpzb24=' }));
    assert.equal(cc.name, 'InvalidRequestContentException');
    assert.equal(cc.message, 'Client context must be a valid Base64-encoded JSON object.');
  });

  test('a lambda fn past its timeout: Unhandled, Sandbox.Timedout in the service\'s words', async () => {
    const out = await invoke({ FunctionName: slowLambda.name, Payload: payload({ action: 'sleep', ms: 3000 }) });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(parsed(out), { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${out.$metadata.requestId} Error: Task timed out after 1.00 seconds` });
  });

  test('a lambda fn whose response stream is cut at its deadline: Sandbox.Timedout, not a crash', async () => {
    // The timeout before left the sandbox to initialise again, within the next call's 1 s: on a
    // loaded machine that alone can run out. A quick call first (again until it answers) puts it behind.
    assert.ok(await eventually(async () => (await invoke({ FunctionName: slowLambda.name, Payload: payload({ action: 'hello' }) })).FunctionError === undefined, 30_000, 100));
    // The stream has begun (chunks every 300 ms) when the 1 s deadline cuts it.
    const out = await invoke({ FunctionName: slowLambda.name, Payload: payload({ action: 'stream', chunks: 20, gapMs: 300 }) });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(parsed(out), { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${out.$metadata.requestId} Error: Task timed out after 1.00 seconds` });
    const [recorded] = (await s.calls(slowLambda.id)).filter((c) => c.id === out.$metadata.requestId);
    assert.equal(recorded?.status, 'timeout');
    // Its log says so too: END and REPORT once it was cut (a second in), then the service's line.
    const id = out.$metadata.requestId!;
    let log = '';
    assert.ok(await eventually(async () => {
      log = String((await call(s.srv.url, 'GET', `/v2/fns/${slowLambda.id}/calls/${id}/log`)).body.log);
      return log.includes('Task timed out');
    }, 10_000, 100), log);
    const m = new RegExp(`END RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: ([\\d.]+) ms\t[^\n]*\n\\S+Z ${id} Task timed out after 1\\.00 seconds\n`).exec(log);
    assert.ok(m, log);
    assert.ok(Number(m[1]) >= 900, `REPORT's duration ${m[1]} ms`);
  });

  test('a lambda fn whose response stream its own error cuts: that error\'s type and message', async () => {
    const ric = await s.mkFn('ric-stream', { image: await lambdaFixtureImage('node-ric'), format: 'lambda', config: { STREAM: '1' } });
    const out = await invoke({ FunctionName: ric.name, Payload: payload({ failAfter: 1 }) });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    // The runtime's own words, as its error trailer gave them.
    assert.deepEqual(parsed(out), { errorType: 'RangeError', errorMessage: 'failed after part 1' });
  });

  test('an http-stream fn past its timeout: the same answer', async () => {
    const out = await invoke({ FunctionName: slowStream.name, Payload: payload({ log: 'before-the-timeout', sleepMs: 3000 }), LogType: 'Tail' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(parsed(out), { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${out.$metadata.requestId} Error: Task timed out after 1.00 seconds` });
    assert.match(Buffer.from(out.LogResult ?? '', 'base64').toString('utf8'), /before-the-timeout/, 'the log up to the timeout');
  });

  test('RIE\'s curl: POST /2015-03-31/functions/function/invocations -d \'{}\' with plain fetch', async () => {
    const url = `${s.srv.url}/2015-03-31/functions/function/invocations`;
    // Fn's gateway headers from the caller would turn the event into a function-URL request.
    const spoof = { 'Fn-Intent': 'httprequest', 'Fn-Http-Method': 'GET', 'Fn-Http-Request-Url': 'http://x/', 'Fn-Http-H-X-Forwarded-For': '10.0.0.1' };
    const r = await fetch(url, { method: 'POST', body: '{}', headers: { ...spoof, 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-amz-executed-version'), '$LATEST');
    const id = r.headers.get('x-amzn-requestid');
    assert.ok(id);
    assert.equal(r.headers.get('fn-call-id'), id);
    const body = (await r.json()) as { echo: unknown; headers: Record<string, string> };
    assert.deepEqual(body.echo, {});
    assert.equal(body.headers['lambda-runtime-trace-id'], 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    assert.match(body.headers['lambda-runtime-invoked-function-arn']!, /:function:function$/);
    assert.equal(rieFn.name, 'function');

    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(get.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    assert.deepEqual(await get.json(), { Type: 'User', message: `Method not allowed: GET ${new URL(url).pathname}` });
    // Lambda API operations Kiln does not serve answer in Lambda's shape, which an SDK can name.
    const getFunction = await fetch(`${s.srv.url}/2015-03-31/functions/function`);
    assert.equal(getFunction.status, 404);
    assert.equal(getFunction.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    assert.match(((await getFunction.json()) as { message: string }).message, /^Kiln serves the Lambda API's Invoke and InvokeWithResponseStream only, not GET \/2015-03-31\/functions\/function$/);
    const bad = await fetch(url, { method: 'POST', body: '{}', headers: { 'X-Amz-Invocation-Type': 'Async' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-amzn-errortype'), 'InvalidParameterValueException');
    assert.deepEqual(await bad.json(), { Type: 'User', message: 'Invalid X-Amz-Invocation-Type: "Async"; valid values are RequestResponse, Event and DryRun' });
  });
});

describe('the Lambda Invoke API with KILN_AUTH_TOKENS set', () => {
  const TOKEN = 'kiln-test-token-lambda-0123456789';
  let db: TestDb;
  let srv: TestServer;
  let fnName = '';

  before(async () => {
    const tester = await fixtureImage('tester');
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: TOKEN, FN_MAX_REQUEST_SIZE: '1000' });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'lambda-auth' }, auth);
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'guarded', app_id: app.body.id, image: tester }, auth);
    assert.equal(fn.status, 200);
    fnName = fn.body.name;
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  /** The README's snippet: Kiln's bearer token in place of the SDK's SigV4 signature. */
  const withToken = (client: LambdaClient, token: string): LambdaClient => {
    const bearer: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      request.headers.authorization = `Bearer ${token}`;
      return next(args);
    };
    client.middlewareStack.addRelativeTo(
      bearer,
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'kilnBearerToken' },
    );
    return client;
  };

  test('without the bearer token: 401 MissingAuthenticationTokenException; a wrong one: UnrecognizedClientException', async () => {
    const plain = lambdaClient(srv.url);
    const e = await sdkError(plain.send(new InvokeCommand({ FunctionName: fnName, Payload: payload({}) })));
    assert.equal(e.name, 'MissingAuthenticationTokenException');
    assert.equal(e.status, 401);
    plain.destroy();
    const wrong = withToken(lambdaClient(srv.url), 'not-the-token-0123456789');
    const w = await sdkError(wrong.send(new InvokeCommand({ FunctionName: fnName, Payload: payload({}) })));
    assert.equal(w.name, 'UnrecognizedClientException');
    assert.equal(w.status, 401);
    wrong.destroy();
  });

  test('with the token middleware it works, and the token never reaches the function', async () => {
    const client = withToken(lambdaClient(srv.url), TOKEN);
    const out = await client.send(new InvokeCommand({ FunctionName: fnName, Payload: payload({ hi: 1 }) }));
    assert.equal(out.StatusCode, 200);
    const echo = parsed(out);
    assert.equal(echo.body, JSON.stringify({ hi: 1 }));
    assert.equal(echo.headers.authorization, undefined);
    client.destroy();
  });

  test('a body over FN_MAX_REQUEST_SIZE is RequestTooLargeException 413', async () => {
    const client = withToken(lambdaClient(srv.url), TOKEN);
    const e = await sdkError(client.send(new InvokeCommand({ FunctionName: fnName, Payload: payload({ pad: 'x'.repeat(2000) }) })));
    assert.equal(e.name, 'RequestTooLargeException');
    assert.equal(e.status, 413);
    client.destroy();
  });
});
