import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { answerHeaders, functionUrlAnswer, functionUrlEvent, gatewayRequest, sourceIpOf } from '../../runtime/function-url.js';

/** A request as node:http gives it the daemon: the raw lines, and req.headers made from them. */
function req(lines: [string, string][]): { headers: IncomingHttpHeaders; rawHeaders: string[] } {
  const headers: IncomingHttpHeaders = {};
  for (const [k, v] of lines) {
    const name = k.toLowerCase();
    const had = headers[name];
    headers[name] = had === undefined ? v : `${String(had)}, ${v}`;
  }
  return { headers, rawHeaders: lines.flat() };
}

test('gatewayRequest: only calls with Fn-Intent: httprequest, headers unwrapped', () => {
  assert.equal(gatewayRequest(req([['fn-call-id', 'x']])), undefined);
  const g = gatewayRequest(req([['Fn-Intent', 'httprequest'], ['Fn-Http-Method', 'PATCH'], ['Fn-Http-Request-Url', '/t/a/b?c=d'], ['Fn-Http-H-X-A', '1'], ['Fn-Http-H-X-A', '2'], ['fn-http-h-host', 'h']]));
  assert.deepEqual({ ...g, headers: { ...g?.headers } }, { method: 'PATCH', url: '/t/a/b?c=d', headers: { 'x-a': '1,2', host: 'h' } });
});

// Headers are read into an object of no prototype: an object's own names are a caller's headers too.
test('gatewayRequest: headers named constructor, __proto__ or toString are headers like any other', () => {
  const g = gatewayRequest(req([['fn-intent', 'httprequest'], ['Fn-Http-H-Constructor', 'y'], ['Fn-Http-H-__proto__', 'p1'], ['Fn-Http-H-__proto__', 'p2'], ['Fn-Http-H-toString', 't']]));
  assert.deepEqual(Object.entries(g!.headers), [['constructor', 'y'], ['__proto__', 'p1,p2'], ['tostring', 't']]);
  const event = functionUrlEvent(g!, Buffer.alloc(0), 'id', 0, 'fn');
  assert.equal(JSON.parse(JSON.stringify(event)).headers.constructor, 'y');
});

// As a function URL: a repeated header's values joined with commas (Node's parser joined the
// wrapped lines with ", "), and every Cookie line's cookies in the event's cookies.
test('gatewayRequest: a repeated header joined with commas, and each Cookie line\'s cookies kept', () => {
  const g = gatewayRequest(req([
    ['Fn-Intent', 'httprequest'], ['Fn-Http-H-X-Foo', 'a'], ['Fn-Http-H-Cookie', 'c1=v1; c2=v2'], ['Fn-Http-H-X-Foo', 'b, c'], ['Fn-Http-H-Cookie', 'c3=v3'],
    ['Fn-Http-H-Content-Type', 'text/plain'], ['Fn-Http-H-Content-Type', 'text/html'],
  ]));
  assert.deepEqual({ ...g?.headers }, { 'x-foo': 'a,b, c', cookie: 'c1=v1; c2=v2; c3=v3', 'content-type': 'text/plain,text/html' });
  const event = functionUrlEvent(g!, Buffer.alloc(0), 'id', 0, 'fn');
  assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2', 'c3=v3']);
  assert.equal((event.headers as Record<string, string>)['x-foo'], 'a,b, c');
});

test('gatewayRequest: the caller address from Kiln-Source-Ip, not from a wrapped header', () => {
  const g = gatewayRequest(req([['fn-intent', 'httprequest'], ['kiln-source-ip', '172.17.0.1'], ['fn-http-h-x-forwarded-for', '6.6.6.6'], ['fn-http-h-kiln-source-ip', '7.7.7.7']]));
  assert.equal(g?.sourceIp, '172.17.0.1');
  assert.equal(g?.headers['x-forwarded-for'], '6.6.6.6');
});

const sourceIpCases: { given: string | undefined; want: string }[] = [
  { given: '172.17.0.1', want: '172.17.0.1' },
  { given: '::ffff:203.0.113.7', want: '203.0.113.7' },
  { given: '::FFFF:10.0.0.1', want: '10.0.0.1' },
  { given: '2001:db8::1', want: '2001:db8::1' },
  { given: '::1', want: '::1' },
  { given: undefined, want: '127.0.0.1' },
  { given: '  ', want: '127.0.0.1' },
];
for (const c of sourceIpCases) test(`sourceIpOf ${JSON.stringify(c.given)}`, () => assert.equal(sourceIpOf(c.given), c.want));

test('functionUrlEvent: sourceIp is the caller address, never X-Forwarded-For', () => {
  const rc = (g: Parameters<typeof functionUrlEvent>[0]) => (functionUrlEvent(g, Buffer.alloc(0), 'r', 0, 'f').requestContext as Record<string, any>).http.sourceIp;
  assert.equal(rc({ method: 'GET', url: '/t/a/p', headers: { 'x-forwarded-for': '6.6.6.6' }, sourceIp: '::ffff:172.17.0.1' }), '172.17.0.1');
  // The daemon called directly (no Kiln in front): the loopback, whatever the header says.
  assert.equal(rc({ method: 'GET', url: '/t/a/p', headers: { 'x-forwarded-for': '6.6.6.6' } }), '127.0.0.1');
});

const eventCases: { name: string; url: string; headers?: Record<string, string>; body?: string | Buffer; want: Record<string, unknown> }[] = [
  { name: 'the trigger prefix is cut from the path', url: '/t/app/hello/world', want: { rawPath: '/hello/world', rawQueryString: '' } },
  { name: 'the app root is /', url: '/t/app', want: { rawPath: '/' } },
  {
    name: 'a full URL, as Kiln sends it, gives the same path and query',
    url: 'http://localhost:8080/t/app/hello?x=1',
    want: { rawPath: '/hello', rawQueryString: 'x=1', queryStringParameters: { x: '1' } },
  },
  { name: 'repeated query parameters join with commas', url: '/t/a/p?x=1&y=2&x=3', want: { rawQueryString: 'x=1&y=2&x=3', queryStringParameters: { x: '1,3', y: '2' } } },
  { name: 'cookies move out of the headers', url: '/t/a/p', headers: { cookie: 'a=1; b=2' }, want: { cookies: ['a=1', 'b=2'], headers: {} } },
  { name: 'a text body stays text', url: '/t/a/p', headers: { 'content-type': 'application/json' }, body: '{"a":1}', want: { body: '{"a":1}', isBase64Encoded: false } },
  { name: 'a binary body is base64', url: '/t/a/p', headers: { 'content-type': 'image/png' }, body: Buffer.from([0, 255]), want: { body: 'AP8=', isBase64Encoded: true } },
  { name: 'no body, no body field', url: '/t/a/p', want: { isBase64Encoded: false } },
  { name: 'text/* stays text', url: '/t/a/p', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'héllo', want: { body: 'héllo', isBase64Encoded: false } },
  { name: 'a +json type stays text', url: '/t/a/p', headers: { 'content-type': 'application/vnd.api+json' }, body: '{}', want: { body: '{}', isBase64Encoded: false } },
  // curl --data-binary's default type, and no type at all: function URLs pass both as base64.
  { name: 'a form post is base64', url: '/t/a/p', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2', want: { body: 'YT0xJmI9Mg==', isBase64Encoded: true } },
  { name: 'a body with no content type is base64', url: '/t/a/p', body: Buffer.from([0x06, 0xb9, 0x5b]), want: { body: 'Brlb', isBase64Encoded: true } },
  { name: 'bytes that are no UTF-8 are base64 whatever the type says', url: '/t/a/p', headers: { 'content-type': 'text/plain' }, body: Buffer.from([0x61, 0xff, 0xfe]), want: { body: 'Yf/+', isBase64Encoded: true } },
  // The agent builds the URL from the caller's Host header, which may be no host at all.
  { name: 'a URL whose host does not parse keeps its path and query', url: 'http://[/t/app/p?x=1', want: { rawPath: '/p', rawQueryString: 'x=1', queryStringParameters: { x: '1' } } },
  { name: 'a protocol-relative target that does not parse: /', url: '//[', want: { rawPath: '/', rawQueryString: '' } },
];

for (const c of eventCases) {
  test(`functionUrlEvent: ${c.name}`, () => {
    const body = typeof c.body === 'string' ? Buffer.from(c.body) : (c.body ?? Buffer.alloc(0));
    const e = functionUrlEvent({ method: 'POST', url: c.url, headers: c.headers ?? {} }, body, 'req-1', 1_700_000_000_000, 'Hello');
    assert.equal(e.version, '2.0');
    assert.equal(e.routeKey, '$default');
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(e[k], v, k);
    if (body.length === 0) assert.equal('body' in e, false);
    const rc = e.requestContext as Record<string, any>;
    assert.equal(rc.requestId, 'req-1');
    assert.equal(rc.timeEpoch, 1_700_000_000_000);
    assert.equal(rc.time, '14/Nov/2023:22:13:20 +0000', 'as function URLs write it');
    assert.equal(rc.http.method, 'POST');
    assert.equal(rc.http.path, e.rawPath);
  });
}

const DEEP = '['.repeat(100_000) + ']'.repeat(100_000);

const answerCases: { name: string; payload: string; status: number; headers: Record<string, string | string[]>; body: string }[] = [
  { name: 'a plain object is a JSON 200', payload: '{"a":1}', status: 200, headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
  { name: 'a string result is a JSON 200', payload: '"hi"', status: 200, headers: { 'content-type': 'application/json' }, body: '"hi"' },
  { name: 'not JSON at all passes through', payload: 'oops', status: 200, headers: { 'content-type': 'application/json' }, body: 'oops' },
  { name: 'statusCode, headers, cookies and body', payload: '{"statusCode":404,"headers":{"X-A":"b"},"cookies":["c=1"],"body":"nope"}', status: 404, headers: { 'x-a': 'b', 'set-cookie': ['c=1'] }, body: 'nope' },
  { name: 'a base64 body is decoded', payload: '{"statusCode":200,"body":"aGk=","isBase64Encoded":true}', status: 200, headers: {}, body: 'hi' },
  { name: 'an object body is JSON', payload: '{"statusCode":200,"body":{"x":1}}', status: 200, headers: {}, body: '{"x":1}' },
  { name: 'a bad statusCode is a 502', payload: '{"statusCode":"abc"}', status: 502, headers: {}, body: '' },
  // JSON.parse takes these; JSON.stringify, Number() and String() of them overflow the stack.
  { name: 'a body nested 100,000 deep is a 502', payload: `{"statusCode":200,"body":${DEEP}}`, status: 502, headers: {}, body: '' },
  { name: 'a statusCode nested 100,000 deep is a 502', payload: `{"statusCode":${DEEP},"body":"b"}`, status: 502, headers: {}, body: 'b' },
];

for (const c of answerCases) {
  test(`functionUrlAnswer: ${c.name}`, () => {
    const a = functionUrlAnswer(Buffer.from(c.payload));
    assert.equal(a.status, c.status);
    assert.deepEqual(a.headers, c.headers);
    assert.equal(a.body.toString(), c.body);
  });
}

describe('answerHeaders: what node:http can write', () => {
  const cases: { name: string; headers: unknown; cookies: unknown; out: Record<string, string | string[]> }[] = [
    { name: 'names lower-cased, values as strings', headers: { 'X-A': 'b', 'X-N': 5 }, cookies: undefined, out: { 'x-a': 'b', 'x-n': '5' } },
    { name: 'a name that is not a token: dropped', headers: { 'bad name': 'x', 'x-ok': 'y' }, cookies: undefined, out: { 'x-ok': 'y' } },
    { name: 'a value with CR/LF: dropped', headers: { 'x-split': 'a\r\nb' }, cookies: undefined, out: {} },
    { name: 'UTF-8 text: kept, as its bytes', headers: { 'x-price': '10 €' }, cookies: undefined, out: { 'x-price': Buffer.from('10 €').toString('latin1') } },
    { name: 'cookies: set-cookie, bad ones dropped', headers: {}, cookies: ['a=b', 'c=\n', 'd=e'], out: { 'set-cookie': ['a=b', 'd=e'] } },
    { name: 'no usable cookies: no set-cookie', headers: {}, cookies: ['\r'], out: {} },
    { name: 'not objects: nothing', headers: 'x', cookies: 'y', out: {} },
    { name: 'a value or cookie nested 100,000 deep: dropped', headers: { 'x-deep': JSON.parse(DEEP), 'x-ok': '1' }, cookies: [JSON.parse(DEEP), 'a=b'], out: { 'x-ok': '1', 'set-cookie': ['a=b'] } },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(answerHeaders(c.headers, c.cookies), c.out));
});
