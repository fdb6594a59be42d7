// The Lambda Invoke API's request reading (api/lambda-request.ts) and its error mapping
// (api/errors.ts toLambdaError): FunctionName and ARN forms, Qualifier, X-Amz-* headers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentError, StreamCutError, type AgentErrorKind } from '../../agent/errors.js';
import { LambdaApiError, outcomeMessage, toLambdaError } from '../../api/errors.js';
import { UnauthorizedError } from '../../api/auth.js';
import {
  forwardedHeaders, functionNameIn, INVOKE_PATH, invokeOptions, isLambdaApiPath, logTail, parseFunctionName, qualifierParam, sigV4Region,
  STREAM_PATH, STREAM_TYPES, type FunctionRef, type LambdaPath,
} from '../../api/lambda-request.js';
import { logResult, reportExpected } from '../../api/lambda-log.js';
import type { CallLog } from '../../agent/agent.js';
import type { App, Fn } from '../../store/types.js';
import { DriverError, ImageNotFoundError, LogDestinationError, NetworkNotFoundError } from '../../drivers/errors.js';
import { DatabaseTimeoutError, NotFoundError } from '../../store/errors.js';

const refused = (type: string, status = 400) => (err: unknown) => {
  assert.ok(err instanceof LambdaApiError, `expected a LambdaApiError, got ${String(err)}`);
  assert.equal(err.type, type);
  assert.equal(err.status, status);
  return true;
};

describe('parseFunctionName', () => {
  const ok: [string, string | undefined, FunctionRef][] = [
    ['my-function', undefined, { name: 'my-function' }],
    ['my_fn.v2', undefined, { name: 'my_fn.v2' }],
    ['01JABCDEFGHJKMNPQRSTVWXYZ0', undefined, { name: '01JABCDEFGHJKMNPQRSTVWXYZ0' }],
    ['function', undefined, { name: 'function' }],
    ['my-function:$LATEST', undefined, { name: 'my-function', qualifier: '$LATEST' }],
    ['my-function:prod', undefined, { name: 'my-function', qualifier: 'prod' }],
    ['my-function', '$LATEST', { name: 'my-function', qualifier: '$LATEST' }],
    ['my-function:7', '7', { name: 'my-function', qualifier: '7' }],
    ['arn:aws:lambda:eu-west-1:123456789012:function:my-function', undefined,
      { name: 'my-function', region: 'eu-west-1', account: '123456789012' }],
    ['arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST', undefined,
      { name: 'my-function', qualifier: '$LATEST', region: 'us-east-1', account: '123456789012' }],
    ['arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f', undefined, { name: 'f', region: 'us-gov-west-1', account: '123456789012' }],
    ['123456789012:function:my-function', undefined, { name: 'my-function', account: '123456789012' }],
    ['function:my-function', undefined, { name: 'my-function' }],
  ];
  for (const [raw, q, want] of ok) {
    test(`${raw}${q !== undefined ? ` ?Qualifier=${q}` : ''}`, () => assert.deepEqual(parseFunctionName(raw, q), want));
  }

  const bad: [string, string | undefined][] = [
    ['', undefined],
    ['has space', undefined],
    ['tilde~name', undefined],
    ['a:b:c', undefined],
    ['arn:aws:lambda:us-east-1:123:function:f', undefined], // an account is 12 digits
    ['\u0000', undefined],
    ['x'.repeat(171), undefined],
    ['f', 'bad qualifier!'],
    ['f', 'q'.repeat(129)],
    ['f:prod', 'dev'], // the name's qualifier and the parameter differ
  ];
  for (const [raw, q] of bad) {
    test(`refuses ${JSON.stringify(raw.slice(0, 40))}${q !== undefined ? ` ?Qualifier=${q.slice(0, 20)}` : ''}`, () => {
      assert.throws(() => parseFunctionName(raw, q), refused('InvalidParameterValueException'));
    });
  }
});

test('functionNameIn: only POST {prefix}{one segment}{suffix} of the API asked', () => {
  const cases: [string, LambdaPath, string | undefined][] = [
    ['/2015-03-31/functions/f/invocations', INVOKE_PATH, 'f'],
    ['/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations', INVOKE_PATH, 'arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af'],
    ['/2015-03-31/functions//invocations', INVOKE_PATH, undefined],
    ['/2015-03-31/functions/a/b/invocations', INVOKE_PATH, undefined],
    ['/2015-03-31/functions/f', INVOKE_PATH, undefined],
    ['/2015-03-31/functions/f/configuration', INVOKE_PATH, undefined],
    ['/2014-11-13/functions/f/invoke-async', INVOKE_PATH, undefined],
    ['/2021-11-15/functions/f/response-streaming-invocations', INVOKE_PATH, undefined],
    ['/2021-11-15/functions/f/response-streaming-invocations', STREAM_PATH, 'f'],
    ['/2021-11-15/functions/my-fn%3A%24LATEST/response-streaming-invocations', STREAM_PATH, 'my-fn%3A%24LATEST'],
    ['/2021-11-15/functions//response-streaming-invocations', STREAM_PATH, undefined],
    ['/2021-11-15/functions/a/b/response-streaming-invocations', STREAM_PATH, undefined],
    ['/2021-11-15/functions/f/invocations', STREAM_PATH, undefined],
    ['/2015-03-31/functions/f/response-streaming-invocations', STREAM_PATH, undefined],
  ];
  for (const [path, api, want] of cases) assert.equal(functionNameIn(path, api), want, path);
});

test('isLambdaApiPath: every path under a Lambda API version date, whatever follows', () => {
  for (const url of [
    '/2015-03-31/functions/f/invocations', '/2015-03-31/functions/x', '/2021-11-15/functions/f/response-streaming-invocations?Qualifier=1',
    '/2015-03-31/functions', '/2015-03-31/functions/', '/2016-08-19/account-settings/', '/2018-10-31/layers?MaxItems=1', '/2021-11-15',
  ]) assert.ok(isLambdaApiPath(url), url);
  for (const url of ['/invoke/f', '/v2/fns', '/t/app/2021-11-15/functions/', '/2015-03-3/functions', '/2015-03-31x/functions', '/version', '/']) assert.ok(!isLambdaApiPath(url), url);
});

test('qualifierParam', () => {
  assert.equal(qualifierParam('/x'), undefined);
  assert.equal(qualifierParam('/x?Qualifier='), undefined);
  assert.equal(qualifierParam('/x?Qualifier=%24LATEST'), '$LATEST');
  assert.equal(qualifierParam('/x?other=1&Qualifier=prod'), 'prod');
});

test('sigV4Region reads the credential scope', () => {
  assert.equal(sigV4Region('AWS4-HMAC-SHA256 Credential=x/20261201/eu-central-1/lambda/aws4_request, SignedHeaders=host, Signature=ab'), 'eu-central-1');
  assert.equal(sigV4Region('Bearer abc'), undefined);
  assert.equal(sigV4Region(undefined), undefined);
  assert.equal(sigV4Region('Credential=x/20261201/eu-central-1/lambda/aws4_request'), undefined, 'not a SigV4 header');
  // The unanchored pattern took 1.2 s of the event loop on this one (quadratic in its length).
  const crafted = `AWS4-HMAC-SHA256 ${'Credential='.repeat(10_000)}`;
  const started = performance.now();
  assert.equal(sigV4Region(crafted), undefined);
  assert.ok(performance.now() - started < 100, `took ${performance.now() - started} ms`);
});

describe('invokeOptions', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
  const ok: [Record<string, string>, ReturnType<typeof invokeOptions>][] = [
    [{}, { invocationType: 'RequestResponse', tail: false }],
    [{ 'x-amz-invocation-type': 'RequestResponse', 'x-amz-log-type': 'Tail' }, { invocationType: 'RequestResponse', tail: true }],
    [{ 'x-amz-invocation-type': 'Event', 'x-amz-log-type': 'Tail' }, { invocationType: 'Event', tail: false }],
    [{ 'x-amz-invocation-type': 'DryRun' }, { invocationType: 'DryRun', tail: false }],
    [{ 'x-amz-log-type': 'None' }, { invocationType: 'RequestResponse', tail: false }],
    [{ 'x-amz-client-context': b64({ custom: { a: 1 } }) }, { invocationType: 'RequestResponse', tail: false }],
  ];
  for (const [h, want] of ok) test(`accepts ${JSON.stringify(h)}`, () => assert.deepEqual(invokeOptions(h), want));

  const bad: [Record<string, string>, string][] = [
    [{ 'x-amz-invocation-type': 'event' }, 'InvalidParameterValueException'],
    [{ 'x-amz-invocation-type': 'Async' }, 'InvalidParameterValueException'],
    [{ 'x-amz-log-type': 'tail' }, 'InvalidParameterValueException'],
    [{ 'x-amz-client-context': 'not base64!' }, 'InvalidRequestContentException'],
    [{ 'x-amz-client-context': b64([1, 2]) }, 'InvalidRequestContentException'],
    [{ 'x-amz-client-context': Buffer.from('{"a":').toString('base64') }, 'InvalidRequestContentException'],
    [{ 'x-amz-client-context': b64({ pad: 'x'.repeat(3000) }) }, 'InvalidRequestContentException'],
  ];
  for (const [h, type] of bad) {
    test(`refuses ${JSON.stringify(h).slice(0, 80)}`, () => assert.throws(() => invokeOptions(h), refused(type)));
  }

  test('InvokeWithResponseStream\'s types: RequestResponse and DryRun, no Event', () => {
    assert.deepEqual(invokeOptions({ 'x-amz-log-type': 'Tail' }, STREAM_TYPES), { invocationType: 'RequestResponse', tail: true });
    assert.deepEqual(invokeOptions({ 'x-amz-invocation-type': 'DryRun' }, STREAM_TYPES), { invocationType: 'DryRun', tail: false });
    assert.throws(() => invokeOptions({ 'x-amz-invocation-type': 'Event' }, STREAM_TYPES), (err: unknown) =>
      refused('InvalidParameterValueException')(err) && (err as Error).message === 'Invalid X-Amz-Invocation-Type: "Event"; valid values are RequestResponse and DryRun');
  });
});

test('forwardedHeaders keeps credentials and Invoke options from the function, passes the context and trace', () => {
  const out = forwardedHeaders({
    'authorization': 'AWS4-HMAC-SHA256 Credential=x/...', 'x-amz-security-token': 'tok', 'x-amz-date': '20261201T000000Z',
    'x-amz-content-sha256': 'abc', 'x-amz-invocation-type': 'RequestResponse', 'x-amz-log-type': 'Tail',
    'amz-sdk-invocation-id': 'u', 'amz-sdk-request': 'attempt=1', 'x-amz-user-agent': 'sdk',
    'x-amz-client-context': 'e30=', 'x-amzn-trace-id': 'Root=1-abc', 'content-type': 'application/json', 'user-agent': 'aws-sdk-js',
    // Fn's gateway protocol, which an Invoke never speaks: a caller must not fake a trigger call.
    'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': 'http://x/', 'fn-http-h-x-forwarded-for': '10.0.0.1',
  });
  assert.deepEqual(out, { 'x-amz-client-context': 'e30=', 'x-amzn-trace-id': 'Root=1-abc', 'content-type': 'application/json', 'user-agent': 'aws-sdk-js' });
});

test('reportExpected: a REPORT record unless the JSON format\'s system level hides INFO', () => {
  const cases: [Record<string, string>, boolean][] = [
    [{}, true],
    [{ AWS_LAMBDA_LOG_FORMAT: 'Text' }, true],
    [{ AWS_LAMBDA_LOG_FORMAT: 'JSON' }, true],
    [{ AWS_LAMBDA_LOG_FORMAT: 'json', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'debug' }, true],
    [{ AWS_LAMBDA_LOG_FORMAT: 'JSON', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'WARN' }, false],
    [{ AWS_LAMBDA_LOG_FORMAT: ' JSON ', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'error' }, false],
    [{ KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'WARN' }, true],
  ];
  for (const [config, want] of cases) assert.equal(reportExpected(config), want, JSON.stringify(config));
});

test("logResult: a lambda fn's Tail waits up to 500 ms for its REPORT, not when the daemon said it comes later", async () => {
  const started = (reportLate: boolean): CallLog => ({ bytes: 20, written: 20, reportLate, toString: () => 'START RequestId: r1\n', tail: () => Buffer.from('START RequestId: r1\n') });
  const target = { app: { config: {} }, fn: { format: 'lambda', config: {} } } as unknown as { app: App; fn: Fn };
  let t0 = performance.now();
  assert.equal(Buffer.from(await logResult(started(false), target, 'r1'), 'base64').toString(), 'START RequestId: r1\n');
  const waited = performance.now() - t0;
  assert.ok(waited >= 480, `waited ${waited} ms for a REPORT that never came`);
  t0 = performance.now();
  assert.equal(Buffer.from(await logResult(started(true), target, 'r1'), 'base64').toString(), 'START RequestId: r1\n');
  const late = performance.now() - t0;
  assert.ok(late < 300, `${late} ms: only the output's settling (at most 300 ms), not the REPORT's 500`);
});

test('logTail is the last 4 KB, base64', () => {
  assert.equal(Buffer.from(logTail(Buffer.from('a buffer')), 'base64').toString(), 'a buffer');
  assert.equal(Buffer.from(logTail('hello\n'), 'base64').toString(), 'hello\n');
  const long = `${'a'.repeat(5000)}${'b'.repeat(4096)}`;
  assert.equal(Buffer.from(logTail(long), 'base64').toString(), 'b'.repeat(4096));
});

describe('toLambdaError', () => {
  const platform = (status: number, type: string): Record<string, unknown> => ({ kind: 'platform', status, type });
  const fnError = (errorType: string): Record<string, unknown> => ({ kind: 'function', errorType });
  const agent = (kind: AgentErrorKind) => new AgentError(kind, `agent says ${kind}`);
  const cases: [string, unknown, Record<string, unknown>][] = [
    ['a bad parameter', new LambdaApiError('InvalidParameterValueException', 'x'), platform(400, 'InvalidParameterValueException')],
    ['an unknown fn', new NotFoundError('fn', 'Fn not found'), platform(404, 'ResourceNotFoundException')],
    ['a body over the limit', agent('request-too-large'), platform(413, 'RequestTooLargeException')],
    ['no capacity', agent('server-busy'), platform(429, 'TooManyRequestsException')],
    ['shutting down', agent('shutting-down'), platform(500, 'ServiceException')],
    ['a container that would not start', agent('init-failed'), platform(502, 'EC2UnexpectedException')],
    ['a container slow to start', agent('start-timeout'), platform(502, 'EC2UnexpectedException')],
    ['an invalid function response', agent('invalid-response'), platform(502, 'InvalidRuntimeException')],
    ['no Lambda bundle', agent('unsupported-format'), platform(502, 'InvalidRuntimeException')],
    ['a missing image', new ImageNotFoundError('kiln-test/none:1', 'not found'), platform(502, 'ResourceNotReadyException')],
    ['a network no longer allowed', agent('network-refused'), platform(502, 'ResourceNotReadyException')],
    ['the engine failing', new DriverError('boom'), platform(502, 'EC2UnexpectedException')],
    ['a network the engine does not have', new NetworkNotFoundError('gone'), platform(502, 'ResourceNotReadyException')],
    ['a syslog_url the engine refuses', new LogDestinationError('dial tcp: refused'), platform(502, 'ResourceNotReadyException')],
    ['no token', new UnauthorizedError('missing'), platform(401, 'MissingAuthenticationTokenException')],
    ['a wrong token', new UnauthorizedError('invalid'), platform(401, 'UnrecognizedClientException')],
    ['a bug', new Error('oops'), platform(500, 'ServiceException')],
    ['the database not answering', new DatabaseTimeoutError(30_000), { ...platform(503, 'ServiceException'), message: 'database did not answer in time' }],
    ['a timeout', agent('timeout'), fnError('Sandbox.Timedout')],
    ['a crash mid-call', agent('function-failed'), fnError('Runtime.ExitError')],
    ['an answer over the limit', agent('response-too-large'), fnError('Function.ResponseSizeTooLarge')],
    ['a stream cut at the deadline', new StreamCutError('Sandbox.Timedout'), fnError('Sandbox.Timedout')],
    ['a stream cut by the runtime\'s error', new StreamCutError('RangeError'), fnError('RangeError')],
    ['a stream cut off by the runtime', new StreamCutError('Runtime.TruncatedResponse'), fnError('Runtime.TruncatedResponse')],
  ];
  for (const [name, err, want] of cases) {
    test(name, () => {
      const got = toLambdaError(err);
      for (const [k, v] of Object.entries(want)) assert.equal((got as unknown as Record<string, unknown>)[k], v, k);
    });
  }
  test('a timeout names the fn timeout as the service does', () => {
    assert.deepEqual(toLambdaError(agent('timeout'), 3), { kind: 'function', errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' });
  });
  test('a stream cut at the deadline names the fn timeout, as any timeout', () => {
    assert.deepEqual(toLambdaError(new StreamCutError('Sandbox.Timedout', 'RequestId: r Error: Task timed out after 2.00 seconds'), 2),
      { kind: 'function', errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' });
  });
  test('a stream cut by the function: its message as the daemon gave it, else what Kiln knows', () => {
    const given = toLambdaError(new StreamCutError('RangeError', 'failed after part 1'), 3);
    assert.deepEqual(given, { kind: 'function', errorType: 'RangeError', errorMessage: 'failed after part 1', verbatim: true });
    assert.equal(given.kind === 'function' && outcomeMessage('r1', given), 'failed after part 1');
    const bare = toLambdaError(new StreamCutError('RangeError'), 3);
    assert.equal(bare.kind === 'function' && outcomeMessage('r1', bare), 'RequestId: r1 Error: function failed mid-stream: RangeError');
  });
  test('429 carries Retry-After', () => {
    const got = toLambdaError(agent('server-busy'));
    assert.equal(got.kind === 'platform' && got.headers?.['Retry-After'], '15');
  });
});
