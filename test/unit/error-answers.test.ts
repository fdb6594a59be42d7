// Every typed error's answer, as callers see it, from the one place that maps errors to HTTP
// (api/errors.ts): Fn's status, body and headers, and the Lambda APIs' status, type, message and
// headers. Whole answers are compared, so a change to any of them shows here.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AgentError, StreamCutError, type AgentErrorKind } from '../../agent/errors.js';
import { HostNotAllowedError } from '../../api/allowed-hosts.js';
import { UnauthorizedError } from '../../api/auth.js';
import { CrossSiteError } from '../../api/cross-site.js';
import { MethodNotAllowedError, PathNotFoundError } from '../../api/route-errors.js';
import {
  LambdaApiError, sendError, sendLambdaError, toHttpError, toLambdaError, toPublicHttpError, type HttpError, type LambdaErrorType, type LambdaOutcome,
} from '../../api/errors.js';
import { ContainerConfigError, DriverError, ImageNotFoundError } from '../../drivers/errors.js';
import { ImageRefError } from '../../drivers/image-name.js';
import {
  ConflictError, DatabaseConflictError, DatabaseFullError, DatabaseReadOnlyError, DatabaseTimeoutError, DatabaseUnavailableError, NotFoundError, UnstorableValueError,
} from '../../store/errors.js';

const RETRY = { 'Retry-After': '15' };
const fn = (status: number, message: string, headers?: Record<string, string>): HttpError =>
  headers ? { status, body: { message }, headers } : { status, body: { message } };
const platform = (status: number, type: string, message: string, headers?: Record<string, string>): LambdaOutcome =>
  ({ kind: 'platform', status, type, message, ...(headers && { headers }) } as LambdaOutcome);

/** Each AgentError kind: Fn's answer, and the Lambda APIs' (platform errors; function errors are below). */
const agentKinds: [AgentErrorKind, HttpError, LambdaOutcome | undefined][] = [
  ['timeout', fn(504, 'm'), undefined],
  ['start-timeout', fn(504, 'm'), platform(502, 'EC2UnexpectedException', 'm')],
  ['init-failed', fn(502, 'm'), platform(502, 'EC2UnexpectedException', 'm')],
  ['function-failed', fn(502, 'm'), undefined],
  ['invalid-response', fn(502, 'm'), platform(502, 'InvalidRuntimeException', 'm')],
  ['request-head-too-large', fn(431, 'm'), platform(400, 'InvalidRequestContentException', 'm')],
  ['response-too-large', fn(502, 'm'), undefined],
  ['request-too-large', fn(413, 'm'), platform(413, 'RequestTooLargeException', 'm')],
  ['server-busy', fn(503, 'm', RETRY), platform(429, 'TooManyRequestsException', 'm', RETRY)],
  ['too-big-for-host', fn(400, 'm'), platform(400, 'InvalidParameterValueException', 'm')],
  ['image-unavailable', fn(502, 'm'), platform(502, 'ResourceNotReadyException', 'm')],
  ['shutting-down', fn(503, 'm', RETRY), platform(500, 'ServiceException', 'm', RETRY)],
  ['unsupported-format', fn(501, 'm'), platform(502, 'InvalidRuntimeException', 'm')],
  ['out-of-resources', fn(503, 'm', RETRY), platform(503, 'ServiceException', 'm', RETRY)],
  ['runtime-unavailable', fn(503, 'm', RETRY), platform(503, 'ServiceException', 'm', RETRY)],
  ['network-refused', fn(502, 'm'), platform(502, 'ResourceNotReadyException', 'm')],
  ['cancelled', fn(499, 'm'), platform(500, 'ServiceException', 'm')],
];

describe('an AgentError of each kind', () => {
  for (const [kind, http, lambda] of agentKinds) {
    test(kind, () => {
      assert.deepEqual(toHttpError(new AgentError(kind, 'm')), http);
      if (lambda) assert.deepEqual(toLambdaError(new AgentError(kind, 'm')), lambda);
    });
  }
});

/** Errors of other modules: Fn's answer and the Lambda APIs' (none where only Fn's paths throw it). */
const others: [string, unknown, HttpError, LambdaOutcome?][] = [
  ['a path that names nothing', new PathNotFoundError('GET', '/bogus'), fn(404, 'Path not found: GET /bogus')],
  ['a known path with another method', new MethodNotAllowedError('PATCH', '/v2/apps', ['GET', 'HEAD', 'POST']),
    fn(405, 'Method not allowed: PATCH /v2/apps', { Allow: 'GET, HEAD, POST' })],
  ['an invoke path with another method', new MethodNotAllowedError('GET', '/invoke/x', ['POST']), fn(405, 'Method not allowed: GET /invoke/x', { Allow: 'POST' })],
  ['an image not found', new ImageNotFoundError('img:1', 'gone'), fn(502, new ImageNotFoundError('img:1', 'gone').message),
    platform(502, 'ResourceNotReadyException', new ImageNotFoundError('img:1', 'gone').message)],
  ['an image reference that cannot be', new ImageRefError('BAD', 'upper case'), fn(502, new ImageRefError('BAD', 'upper case').message),
    platform(502, 'ResourceNotReadyException', new ImageRefError('BAD', 'upper case').message)],
  ['a container the engine will not make', new ContainerConfigError('bad net'), fn(502, 'bad net'), platform(502, 'ResourceNotReadyException', 'bad net')],
  ['the engine failing', new DriverError('boom'), fn(503, 'container engine error: boom', RETRY), platform(502, 'EC2UnexpectedException', 'container engine error: boom')],
  ['no token', new UnauthorizedError('missing'),
    fn(401, 'Authentication required: send "Authorization: Bearer <token>"', { 'WWW-Authenticate': 'Bearer realm="kiln"' }),
    platform(401, 'MissingAuthenticationTokenException', 'Authentication required: send "Authorization: Bearer <token>"', { 'WWW-Authenticate': 'Bearer realm="kiln"' })],
  ['a wrong token', new UnauthorizedError('invalid'),
    fn(401, 'Invalid authentication token', { 'WWW-Authenticate': 'Bearer realm="kiln", error="invalid_token"' }),
    platform(401, 'UnrecognizedClientException', 'Invalid authentication token', { 'WWW-Authenticate': 'Bearer realm="kiln", error="invalid_token"' })],
  ['a Host not allowed', new HostNotAllowedError('evil.example'), fn(403, new HostNotAllowedError('evil.example').message),
    platform(403, 'AccessDeniedException', new HostNotAllowedError('evil.example').message)],
  ['a cross-site request', new CrossSiteError('Sec-Fetch-Site: cross-site'), fn(403, "Cross-site request refused (Sec-Fetch-Site: cross-site): Kiln's API and invokes take requests from its own origin and from non-browser clients; HTTP triggers (/t/...) take them from anywhere")],
  ['something not found', new NotFoundError('fn', 'Fn not found'), fn(404, 'Fn not found'), platform(404, 'ResourceNotFoundException', 'Fn not found')],
  ['a conflict', new ConflictError('app', 'App already exists'), fn(409, 'App already exists'), platform(500, 'ServiceException', 'internal server error')],
  ['a value no column holds', new UnstorableValueError('app', 'too long'), fn(400, 'too long'), platform(500, 'ServiceException', 'internal server error')],
  ['the database not answering', new DatabaseTimeoutError(500), fn(503, 'database did not answer in time', RETRY),
    platform(503, 'ServiceException', 'database did not answer in time', RETRY)],
  ['a full database', new DatabaseFullError('full'), fn(503, 'database is full', RETRY), platform(503, 'ServiceException', 'database is full', RETRY)],
  ['a read-only database (GET /health)', new DatabaseReadOnlyError(), fn(503, 'database is read-only', RETRY),
    platform(503, 'ServiceException', 'database is read-only', RETRY)],
  ['an unavailable database', new DatabaseUnavailableError('refused'), fn(503, 'database unavailable', RETRY),
    platform(503, 'ServiceException', 'database unavailable', RETRY)],
  ['a deadlock lost each time', new DatabaseConflictError(3),
    fn(503, 'database conflict: the write met others changing the same rows; try again', { 'Retry-After': '1' }),
    platform(503, 'ServiceException', 'database conflict: the write met others changing the same rows; try again', { 'Retry-After': '1' })],
  ['a malformed percent-encoding', new URIError('URI malformed'), fn(400, 'Invalid URL: URI malformed'), platform(500, 'ServiceException', 'internal server error')],
  ['a bug', new Error('secret'), fn(500, 'internal server error'), platform(500, 'ServiceException', 'internal server error')],
];

describe('errors of other modules', () => {
  for (const [name, err, http, lambda] of others) {
    test(name, () => {
      assert.deepEqual(toHttpError(err), http);
      if (lambda) assert.deepEqual(toLambdaError(err), lambda);
    });
  }
});

/** A trigger's caller (toPublicHttpError): Fn's fixed words where the message holds the operator's detail. */
const publicCases: [string, unknown, HttpError][] = [
  ['a failed start with its output', new AgentError('init-failed', 'Container failed to initialize: exited with code 1: /srv/secret.js', { publicMessage: 'Container failed to initialize' }),
    fn(502, 'Container failed to initialize')],
  ['a configuration the engine refused (an unreachable syslog_url)', new ContainerConfigError("container failed to start: the app's syslog_url cannot be used: dial tcp 10.0.0.5:514"),
    fn(502, 'container failed to start')],
  ["the engine's own error (a host path)", new DriverError('starting container: mkdir /var/lib/docker/overlay2/x/merged/proc/x: no such file'),
    fn(503, 'container engine error', RETRY)],
  ['an image the engine cannot get', new ImageNotFoundError('registry.internal:5000/team/app:1', 'pull access denied'), fn(502, "the function's image is not available")],
  ['anything else: as to any caller', new DatabaseUnavailableError('refused'), fn(503, 'database unavailable', RETRY)],
  ['a bug', new Error('secret'), fn(500, 'internal server error')],
];

describe("what a trigger's caller is told", () => {
  for (const [name, err, http] of publicCases) {
    test(name, () => assert.deepEqual(toPublicHttpError(err), http));
  }
});

/** The service's status for each of its error types Kiln answers with. */
const lambdaTypes: [LambdaErrorType, number][] = [
  ['InvalidParameterValueException', 400],
  ['InvalidRequestContentException', 400],
  ['ResourceNotFoundException', 404],
  ['RequestTooLargeException', 413],
  ['TooManyRequestsException', 429],
  ['ServiceException', 500],
  ['EC2UnexpectedException', 502],
  ['InvalidRuntimeException', 502],
  ['ResourceNotReadyException', 502],
  ['UnknownOperationException', 404],
  ['MissingAuthenticationTokenException', 401],
  ['UnrecognizedClientException', 401],
  ['AccessDeniedException', 403],
];

describe('a LambdaApiError takes its status from its type', () => {
  for (const [type, status] of lambdaTypes) {
    test(`${type}: ${status}`, () => {
      const err = new LambdaApiError(type, 'm');
      assert.equal(err.status, status);
      assert.deepEqual(toLambdaError(err), platform(status, type, 'm'));
    });
  }
  test('unless told otherwise: an operation not served on a path that is, 405', () => {
    assert.deepEqual(toLambdaError(new LambdaApiError('UnknownOperationException', 'm', { status: 405 })), platform(405, 'UnknownOperationException', 'm'));
  });
});

test("the function's own failures on the Lambda APIs: Unhandled, with the service's types", () => {
  assert.deepEqual(toLambdaError(new AgentError('timeout', 'm')), { kind: 'function', errorType: 'Sandbox.Timedout', errorMessage: 'm' });
  assert.deepEqual(toLambdaError(new AgentError('function-failed', 'm')), { kind: 'function', errorType: 'Runtime.ExitError', errorMessage: 'm' });
  assert.deepEqual(toLambdaError(new AgentError('response-too-large', 'm')), { kind: 'function', errorType: 'Function.ResponseSizeTooLarge', errorMessage: 'm' });
  assert.deepEqual(toLambdaError(new StreamCutError('RangeError', 'x')), { kind: 'function', errorType: 'RangeError', errorMessage: 'x', verbatim: true });
});

/** What a response was sent: its status, headers and body. */
interface Sent {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A response not yet begun, whose request was read whole, that keeps what it is sent. */
function recorder(): { res: ServerResponse; sent: () => Sent } {
  let sent: Sent | undefined;
  const headers: Record<string, unknown> = {};
  const res = {
    headersSent: false,
    destroyed: false,
    req: { complete: true },
    setHeader: (k: string, v: unknown) => void (headers[k] = v),
    writeHead(status: number, h: Record<string, unknown>) {
      sent = { status, headers: { ...headers, ...h }, body: '' };
      return this;
    },
    end(body?: string) {
      if (sent && body !== undefined) sent.body = body;
    },
  };
  return { res: res as unknown as ServerResponse, sent: () => sent ?? assert.fail('nothing was sent') };
}

const quiet = pino({ level: 'silent' });

describe('what goes out on the wire', () => {
  test("Fn's 503 with Retry-After", () => {
    const r = recorder();
    sendError(r.res, new DatabaseUnavailableError('down'), quiet);
    assert.deepEqual(r.sent(), {
      status: 503,
      headers: { 'Retry-After': '15', 'content-type': 'application/json; charset=utf-8', 'content-length': 34 },
      body: '{"message":"database unavailable"}',
    });
  });
  test("the Lambda APIs' throttle: 429, its type in x-amzn-ErrorType, its Reason, the request's id", () => {
    const r = recorder();
    sendLambdaError(r.res, new AgentError('server-busy', 'busy'), quiet, { requestId: 'r1' });
    assert.deepEqual(r.sent(), {
      status: 429,
      headers: {
        'X-Amzn-RequestId': 'r1', 'Retry-After': '15', 'x-amzn-ErrorType': 'TooManyRequestsException',
        'content-type': 'application/json; charset=utf-8', 'content-length': 77,
      },
      body: '{"Type":"User","message":"busy","Reason":"ConcurrentInvocationLimitExceeded"}',
    });
  });
  test("a Lambda type whose model says Message, and a Service one", () => {
    const r = recorder();
    sendLambdaError(r.res, new NotFoundError('fn', 'Function not found: f'), quiet, { requestId: 'r2' });
    assert.deepEqual(r.sent(), {
      status: 404,
      headers: {
        'X-Amzn-RequestId': 'r2', 'x-amzn-ErrorType': 'ResourceNotFoundException',
        'content-type': 'application/json; charset=utf-8', 'content-length': 49,
      },
      body: '{"Type":"User","Message":"Function not found: f"}',
    });
    const s = recorder();
    sendLambdaError(s.res, new Error('bug'), quiet, { requestId: 'r3' });
    assert.deepEqual(s.sent().status, 500);
    assert.deepEqual(s.sent().body, '{"Type":"Service","Message":"internal server error"}');
  });
});
