// The API's bearer-token check (api/auth.ts): which paths are public, how the header is read,
// and what a missing or wrong token answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerToken, isPublicPath, originForm, tokenCheck, UnauthorizedError } from '../../api/auth.js';
import { toHttpError } from '../../api/errors.js';

const publicCases: { method: string; path: string; want: boolean }[] = [
  { method: 'GET', path: '/', want: true },
  { method: 'HEAD', path: '/', want: true },
  { method: 'GET', path: '/version', want: true },
  { method: 'GET', path: '/ui', want: true },
  { method: 'GET', path: '/ui/', want: true },
  { method: 'GET', path: '/ui/app.js', want: true },
  { method: 'POST', path: '/t/app/hello', want: true },
  { method: 'DELETE', path: '/t/app/x/y', want: true },
  { method: 'POST', path: '/', want: false },
  { method: 'POST', path: '/version', want: false },
  { method: 'POST', path: '/ui/', want: false },
  { method: 'GET', path: '/version/', want: false },
  { method: 'GET', path: '/VERSION', want: false },
  { method: 'GET', path: '/uix', want: false },
  { method: 'GET', path: '/v2/apps', want: false },
  { method: 'POST', path: '/invoke/01J000000000000000000000', want: false },
  { method: 'GET', path: '/metrics', want: false },
  { method: 'GET', path: '/T/app/hello', want: false },
  { method: 'GET', path: '//v2/apps', want: false },
  { method: 'GET', path: '/bogus', want: false },
];
for (const c of publicCases) {
  test(`isPublicPath ${c.method} ${c.path} is ${c.want}`, () => assert.equal(isPublicPath(c.method, c.path), c.want));
}

test('with KILN_AUTH_INVOKE off, /invoke/ is public and nothing else changes', () => {
  const open = { invoke: false };
  assert.equal(isPublicPath('POST', '/invoke/01J000000000000000000000', open), true);
  // The Lambda Invoke API takes guessable names: it stays guarded either way.
  assert.equal(isPublicPath('POST', '/2015-03-31/functions/hello/invocations', open), false);
  assert.equal(isPublicPath('POST', '/2015-03-31/functions/hello/invocations'), false);
  for (const path of ['/v2/fns', '/metrics', '/invoke', '/INVOKE/x']) assert.equal(isPublicPath('POST', path, open), false, path);
  const check = tokenCheck(['abcdefghijklmnop'], open)!;
  assert.equal(check('POST', '/invoke/x', {}), undefined);
  assert.ok(check('GET', '/v2/apps', {}) instanceof UnauthorizedError);
});

const targetCases: { target: string; want: string }[] = [
  { target: '/v2/apps', want: '/v2/apps' },
  { target: 'http://host/t/app/x?a=1', want: '/t/app/x?a=1' },
  { target: 'HTTP://host:8080/ui/', want: '/ui/' },
  { target: 'http://host', want: '/' },
  { target: 'https://host/v2/apps', want: '/v2/apps' },
  { target: 'http://h/t/../v2/apps', want: '/v2/apps' },
  { target: '*', want: '*' },
  { target: 'http://[bad', want: 'http://[bad' },
  { target: 'v2/apps', want: 'v2/apps' },
];
for (const c of targetCases) {
  test(`originForm(${JSON.stringify(c.target)}) is ${JSON.stringify(c.want)}`, () => assert.equal(originForm(c.target), c.want));
}

const headerCases: { header: string | undefined; want: string | undefined }[] = [
  { header: undefined, want: undefined },
  { header: '', want: undefined },
  { header: 'Bearer abc', want: 'abc' },
  { header: 'bearer abc', want: 'abc' },
  { header: 'BEARER  abc ', want: 'abc' },
  { header: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', want: undefined },
  { header: 'Bearer', want: undefined },
  { header: 'Bearer a b', want: undefined },
  { header: 'Bearerabc', want: undefined },
];
for (const c of headerCases) {
  test(`bearerToken(${JSON.stringify(c.header)}) is ${JSON.stringify(c.want)}`, () => assert.equal(bearerToken(c.header), c.want));
}

test('no tokens configured: no check at all', () => assert.equal(tokenCheck([]), undefined));

test('a check passes either configured token, on every protected path', () => {
  const check = tokenCheck(['abcdefghijklmnop', 'qrstuvwxyz012345'])!;
  for (const token of ['abcdefghijklmnop', 'qrstuvwxyz012345']) {
    assert.equal(check('POST', '/v2/apps', { authorization: `Bearer ${token}` }), undefined);
    assert.equal(check('POST', '/invoke/x', { authorization: `bearer ${token}` }), undefined);
  }
  assert.equal(check('POST', '/t/app/hello', {}), undefined, 'triggers are public');
});

test('a missing token is 401 with a bare Bearer challenge; a wrong one says invalid_token', () => {
  const check = tokenCheck(['abcdefghijklmnop'])!;
  const missing = check('GET', '/v2/apps', {});
  assert.ok(missing instanceof UnauthorizedError);
  assert.deepEqual(toHttpError(missing), {
    status: 401,
    body: { message: 'Authentication required: send "Authorization: Bearer <token>"' },
    headers: { 'WWW-Authenticate': 'Bearer realm="kiln"' },
  });
  for (const header of ['Bearer abcdefghijklmno', 'Bearer abcdefghijklmnopq', 'Bearer ABCDEFGHIJKLMNOP', 'Bearer  ']) {
    const wrong = check('GET', '/v2/apps', { authorization: header });
    const http = toHttpError(wrong);
    assert.equal(http.status, 401, header);
    assert.equal(http.headers?.['WWW-Authenticate'], header.trim() === 'Bearer' ? 'Bearer realm="kiln"' : 'Bearer realm="kiln", error="invalid_token"', header);
  }
  assert.ok(check('GET', '/v2/apps', { authorization: 'Basic YWJjZGVmZ2hpamtsbW5vcA==' }) instanceof UnauthorizedError);
});

test('a metrics token (KILN_METRICS_TOKENS) passes GET and HEAD /metrics and nothing else', () => {
  const check = tokenCheck(['full-token-0123456789'], { invoke: true, metricsTokens: ['scrape-token-0123456'] })!;
  const with_ = (t: string) => ({ authorization: `Bearer ${t}` });
  assert.equal(check('GET', '/metrics', with_('scrape-token-0123456')), undefined);
  assert.equal(check('HEAD', '/metrics', with_('scrape-token-0123456')), undefined);
  assert.equal(check('GET', '/metrics', with_('full-token-0123456789')), undefined, 'a full token still reads it');
  for (const [method, path] of <[string, string][]>[['GET', '/v2/apps'], ['POST', '/metrics'], ['GET', '/metrics/'], ['POST', '/invoke/01J0000000000000000000000X'], ['GET', '/2015-03-31/functions/f/invocations']]) {
    assert.equal(check(method, path, with_('scrape-token-0123456'))?.reason, 'invalid', `${method} ${path}`);
  }
});
