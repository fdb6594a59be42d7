import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { pino } from 'pino';
import { ApiError, badRequest, type ErrorBody, sendError, sendLambdaError, toHttpError, toLambdaError } from '../../api/errors.js';
import { BodyStalledError } from '../../api/read-body.js';
import { ConflictError, DatabaseFullError, DatabaseTimeoutError, DatabaseUnavailableError, NotFoundError, UnstorableValueError } from '../../store/errors.js';

/** http-errors' errors, as express's modules throw them: an Error with a `type`, a status and `expose`. */
const httpError = (message: string, type: string, status: number): Error =>
  Object.assign(new Error(message), { type, status, expose: true });

const cases: { name: string; err: unknown; status: number; body: ErrorBody }[] = [
  { name: 'ApiError', err: new ApiError('Missing Name'), status: 400, body: { message: 'Missing Name' } },
  {
    name: 'ApiError with fields',
    err: new ApiError('Invalid JSON: field "name": bad', 'name'),
    status: 400,
    body: { message: 'Invalid JSON: field "name": bad', fields: 'name' },
  },
  { name: 'badRequest helper', err: badRequest('nope'), status: 400, body: { message: 'nope' } },
  {
    name: 'badRequest helper with fields',
    err: badRequest('nope', 'config.A'),
    status: 400,
    body: { message: 'nope', fields: 'config.A' },
  },
  {
    name: 'NotFoundError',
    err: new NotFoundError('app', 'App not found'),
    status: 404,
    body: { message: 'App not found' },
  },
  {
    name: 'NotFoundError for a call',
    err: new NotFoundError('call', 'Call not found'),
    status: 404,
    body: { message: 'Call not found' },
  },
  {
    name: 'ConflictError',
    err: new ConflictError('app', 'App already exists'),
    status: 409,
    body: { message: 'App already exists' },
  },
  {
    name: 'UnstorableValueError',
    err: new UnstorableValueError('trigger', 'Trigger source is too long for this database'),
    status: 400,
    body: { message: 'Trigger source is too long for this database' },
  },
  {
    name: 'an exposed 415 (encoding.unsupported)',
    err: httpError('unsupported content encoding "br"', 'encoding.unsupported', 415),
    status: 415,
    body: { message: 'unsupported content encoding "br"' },
  },
  {
    name: 'an exposed 415 (charset.unsupported)',
    err: httpError('unsupported charset "KOI8-R"', 'charset.unsupported', 415),
    status: 415,
    body: { message: 'unsupported charset "KOI8-R"' },
  },
  {
    name: 'an exposed request.size.invalid keeps its 400',
    err: httpError('request size did not match content length', 'request.size.invalid', 400),
    status: 400,
    body: { message: 'request size did not match content length' },
  },
  { name: 'plain Error', err: new Error('db exploded: password=secret'), status: 500, body: { message: 'internal server error' } },
  { name: 'TypeError', err: new TypeError('x is undefined'), status: 500, body: { message: 'internal server error' } },
  {
    name: 'an exposed client error of an unknown type keeps its status',
    err: httpError('whatever', 'something.else', 400),
    status: 400,
    body: { message: 'whatever' },
  },
  {
    name: 'a 4xx status that is not marked expose is a 500',
    err: Object.assign(new Error('secret detail'), { status: 400 }),
    status: 500,
    body: { message: 'internal server error' },
  },
  {
    name: 'an exposed 5xx is still a 500',
    err: httpError('upstream detail', 'something.else', 503),
    status: 500,
    body: { message: 'internal server error' },
  },
  { name: 'thrown string', err: 'boom', status: 500, body: { message: 'internal server error' } },
  { name: 'thrown number', err: 42, status: 500, body: { message: 'internal server error' } },
  { name: 'null', err: null, status: 500, body: { message: 'internal server error' } },
  { name: 'undefined', err: undefined, status: 500, body: { message: 'internal server error' } },
  { name: 'empty object', err: {}, status: 500, body: { message: 'internal server error' } },
];
test('toHttpError: the database not answering in time is a 503 to try again, its details left to the log', () => {
  const err = new DatabaseTimeoutError(500, 'the database at db:5432 did not answer within 500 ms (KILN_DB_TIMEOUT_MSECS)');
  assert.deepEqual(toHttpError(err), { status: 503, body: { message: 'database did not answer in time' }, headers: { 'Retry-After': '15' } });
});

test('a database that cannot be reached is the same 503, naming no host or driver message; on the Lambda APIs a ServiceException as for the timeout', () => {
  const err = new DatabaseUnavailableError('the database is unavailable: connect ECONNREFUSED 10.0.0.5:5432');
  assert.deepEqual(toHttpError(err), { status: 503, body: { message: 'database unavailable' }, headers: { 'Retry-After': '15' } });
  assert.deepEqual(toLambdaError(err), { kind: 'platform', status: 503, type: 'ServiceException', message: 'database unavailable', headers: { 'Retry-After': '15' } });
  assert.deepEqual(toLambdaError(new DatabaseTimeoutError(500)), { kind: 'platform', status: 503, type: 'ServiceException', message: 'database did not answer in time', headers: { 'Retry-After': '15' } });
});

test("a full database is a 503 to try again once space is freed, saying so; on the Lambda APIs a ServiceException as for an unavailable one", () => {
  const err = new DatabaseFullError('the database is full: database or disk is full', { cause: Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }) });
  assert.deepEqual(toHttpError(err), { status: 503, body: { message: 'database is full' }, headers: { 'Retry-After': '15' } });
  assert.deepEqual(toLambdaError(err), { kind: 'platform', status: 503, type: 'ServiceException', message: 'database is full', headers: { 'Retry-After': '15' } });
});

test('a request body that stopped arriving is a 408 that closes the connection; on the Lambda APIs an InvalidRequestContentException', () => {
  const err = new BodyStalledError(1500);
  const message = 'Request timeout: no bytes of the request body arrived for 1.5 s';
  assert.deepEqual(toHttpError(err), { status: 408, body: { message }, headers: { Connection: 'close' } });
  assert.deepEqual(toLambdaError(err), { kind: 'platform', status: 408, type: 'InvalidRequestContentException', message, headers: { Connection: 'close' } });
});

for (const c of cases) {
  test(`toHttpError: ${c.name} -> ${c.status}`, () => {
    const got = toHttpError(c.err);
    assert.deepEqual(got, { status: c.status, body: c.body });
    if (c.body.fields === undefined) assert.ok(!('fields' in got.body), 'no fields key when there are none');
  });
}

test('ApiError is an Error carrying a message and fields, always a 400: other refusals have types of their own', () => {
  const err = new ApiError('msg', 'f');
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'ApiError');
  assert.equal(err.message, 'msg');
  assert.equal(err.fields, 'f');
  assert.deepEqual(toHttpError(err), { status: 400, body: { message: 'msg', fields: 'f' } });
});

// A failure's log line names the request's URL with its secret-looking query values masked, as
// the request lines do: a public trigger called with ?access_token= while the database is down
// wrote the token at error level.
test('sendError and sendLambdaError log the URL with secret query values masked', () => {
  const lines: Array<{ url?: string }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { url?: string }) });
  // An answer already begun: it is only cut, nothing is written.
  const answer = (): ServerResponse => ({ headersSent: true, destroyed: true, destroy: () => undefined }) as unknown as ServerResponse;
  sendError(answer(), new DatabaseUnavailableError('down'), log, { method: 'GET', url: '/t/app/x?access_token=S3cret&n=1' });
  sendLambdaError(answer(), new DatabaseUnavailableError('down'), log, { requestId: 'r', context: { url: '/2015-03-31/functions/f/invocations?api_key=S3cret' } });
  assert.deepEqual(lines.map((l) => l.url), ['/t/app/x?access_token=[redacted]&n=1', '/2015-03-31/functions/f/invocations?api_key=[redacted]']);
});
