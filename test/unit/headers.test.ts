import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { deadlineFrom, FDK_HEAD_BYTES, headBytes, headerText, toCallerResponse, toContainerHeaders, type CallContext, type CallerResponse, type Headers } from '../../agent/headers.js';

const CALL_ID = '01J0000000000000000000CALL';
const DEADLINE = '2024-01-02T03:04:05.678Z';
const invokeCtx: CallContext = { callId: CALL_ID, deadline: DEADLINE };
const gatewayCtx: CallContext = {
  callId: CALL_ID,
  deadline: DEADLINE,
  gateway: { method: 'PUT', url: 'http://localhost:8080/t/app/path?q=1' },
};

/** What every container request carries, whatever the caller sent. */
const fnHeaders = (bodyLength: number): Headers => ({
  'Fn-Call-Id': CALL_ID,
  'Fn-Deadline': DEADLINE,
  'Content-Length': String(bodyLength),
});
const gatewayHeaders = (bodyLength: number): Headers => ({
  'Fn-Http-Method': 'PUT',
  'Fn-Http-Request-Url': 'http://localhost:8080/t/app/path?q=1',
  'Fn-Intent': 'httprequest',
  ...fnHeaders(bodyLength),
});

/** Every hop-by-hop header Node could hand us (names lowercased, as IncomingHttpHeaders has them). */
const hopByHop: IncomingHttpHeaders = {
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  'transfer-encoding': 'chunked',
  upgrade: 'websocket',
  te: 'trailers',
  trailer: 'x-checksum',
  'proxy-authorization': 'Basic Zm9vOmJhcg==',
  'proxy-authenticate': 'Basic',
  'proxy-connection': 'keep-alive',
  host: 'localhost:8080',
  'content-length': '999',
  expect: '100-continue',
};

const containerCases: { name: string; incoming: IncomingHttpHeaders; ctx: CallContext; bodyLength: number; expected: Headers }[] = [
  {
    name: 'invoke: no headers gives only the Fn headers',
    incoming: {},
    ctx: invokeCtx,
    bodyLength: 0,
    expected: fnHeaders(0),
  },
  {
    name: 'invoke: ordinary headers pass through unchanged',
    incoming: { 'content-type': 'application/json', accept: 'text/plain', 'x-foo-bar': 'baz' },
    ctx: invokeCtx,
    bodyLength: 12,
    expected: { 'content-type': 'application/json', accept: 'text/plain', 'x-foo-bar': 'baz', ...fnHeaders(12) },
  },
  {
    name: "invoke: the caller's Fn-Call-Id and Fn-Deadline give way to the call's own",
    incoming: { 'fn-call-id': 'evil', 'fn-deadline': '9999-01-01T00:00:00Z', 'fn-intent': 'x', accept: '*/*' },
    ctx: invokeCtx,
    bodyLength: 0,
    expected: { 'fn-intent': 'x', accept: '*/*', ...fnHeaders(0) },
  },
  {
    name: "trigger: the caller's Fn-Call-Id travels wrapped, like any of its headers",
    incoming: { 'fn-call-id': 'evil' },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: { 'Fn-Http-H-Fn-Call-Id': 'evil', ...gatewayHeaders(0) },
  },
  {
    name: "a caller's Kiln-Source-Ip never reaches the container, unwrapped or wrapped; the call's own does",
    incoming: { 'kiln-source-ip': '6.6.6.6', 'x-keep': 'k' },
    ctx: { ...invokeCtx, sourceIp: '172.17.0.1' },
    bodyLength: 0,
    expected: { 'x-keep': 'k', 'Kiln-Source-Ip': '172.17.0.1', ...fnHeaders(0) },
  },
  {
    name: "a caller's Kiln-Qualifier never reaches the container, unwrapped or wrapped; the call's own does",
    incoming: { 'kiln-qualifier': 'prod', 'x-keep': 'k' },
    ctx: { ...invokeCtx, qualifier: '$LATEST' },
    bodyLength: 0,
    expected: { 'x-keep': 'k', 'Kiln-Qualifier': '$LATEST', ...fnHeaders(0) },
  },
  {
    name: "trigger: a caller's Kiln-Qualifier is not wrapped either",
    incoming: { 'kiln-qualifier': 'prod' },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: gatewayHeaders(0),
  },
  {
    name: "trigger: a caller's Kiln-Source-Ip is not wrapped either",
    incoming: { 'kiln-source-ip': '6.6.6.6' },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: gatewayHeaders(0),
  },
  {
    name: 'invoke: every hop-by-hop header is dropped',
    incoming: { ...hopByHop, 'x-keep': 'yes' },
    ctx: invokeCtx,
    bodyLength: 3,
    expected: { 'x-keep': 'yes', ...fnHeaders(3) },
  },
  {
    name: 'invoke: headers named in Connection are dropped (case and spaces ignored)',
    incoming: { connection: 'close, X-Secret ,x-other', 'x-secret': 's', 'x-other': 'o', 'x-keep': 'k' },
    ctx: invokeCtx,
    bodyLength: 0,
    expected: { 'x-keep': 'k', ...fnHeaders(0) },
  },
  {
    name: 'invoke: the caller cannot override Content-Length; bodyLength wins',
    incoming: { 'content-length': '5' },
    ctx: invokeCtx,
    bodyLength: 1234,
    expected: fnHeaders(1234),
  },
  {
    name: 'invoke: array-valued headers stay arrays',
    incoming: { 'x-multi': ['a', 'b'] as unknown as string, 'set-cookie': ['c=1', 'd=2'] },
    ctx: invokeCtx,
    bodyLength: 0,
    expected: { 'x-multi': ['a', 'b'], 'set-cookie': ['c=1', 'd=2'], ...fnHeaders(0) },
  },
  {
    name: 'invoke: undefined values are skipped',
    incoming: { 'x-undefined': undefined, 'x-set': 'v' },
    ctx: invokeCtx,
    bodyLength: 0,
    expected: { 'x-set': 'v', ...fnHeaders(0) },
  },
  {
    name: 'gateway: no headers gives only the gateway and Fn headers',
    incoming: {},
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: gatewayHeaders(0),
  },
  {
    // Go keeps Host apart from a request's headers, so Fn wraps none for an http-stream fn.
    name: 'gateway: Host is not wrapped for an http-stream fn',
    incoming: { host: 'api.example.com' },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: gatewayHeaders(0),
  },
  {
    // A function URL event carries it; Connection may still name it, and then it goes.
    name: 'gateway: a Lambda daemon gets the caller\'s Host wrapped, the other hop-by-hop headers not',
    incoming: { ...hopByHop, host: 'api.example.com' },
    ctx: { ...gatewayCtx, lambda: true },
    bodyLength: 0,
    expected: { 'Fn-Http-H-Host': 'api.example.com', ...gatewayHeaders(0) },
  },
  {
    name: 'gateway: a Lambda daemon gets no Host a Connection header names',
    incoming: { host: 'api.example.com', connection: 'host' },
    ctx: { ...gatewayCtx, lambda: true },
    bodyLength: 0,
    expected: gatewayHeaders(0),
  },
  {
    name: 'invoke: a Lambda daemon gets no Host outside a trigger',
    incoming: { host: 'api.example.com' },
    ctx: { ...invokeCtx, lambda: true },
    bodyLength: 0,
    expected: fnHeaders(0),
  },
  {
    name: 'gateway: each header is wrapped with its canonical name',
    incoming: { 'x-foo-bar': 'baz', accept: '*/*', 'user-agent': 'curl/8', 'www-authenticate': 'Basic', 'x-123-abc': '1' },
    ctx: gatewayCtx,
    bodyLength: 7,
    expected: {
      'Fn-Http-H-X-Foo-Bar': 'baz',
      'Fn-Http-H-Accept': '*/*',
      'Fn-Http-H-User-Agent': 'curl/8',
      'Fn-Http-H-Www-Authenticate': 'Basic',
      'Fn-Http-H-X-123-Abc': '1',
      ...gatewayHeaders(7),
    },
  },
  {
    name: 'gateway: Content-Type is wrapped and also kept as is',
    incoming: { 'content-type': 'text/plain; charset=utf-8' },
    ctx: gatewayCtx,
    bodyLength: 5,
    expected: {
      'Fn-Http-H-Content-Type': 'text/plain; charset=utf-8',
      'Content-Type': 'text/plain; charset=utf-8',
      ...gatewayHeaders(5),
    },
  },
  {
    name: 'gateway: hop-by-hop and Connection-listed headers are not wrapped',
    incoming: { ...hopByHop, connection: 'keep-alive, x-secret', 'x-secret': 's', 'x-keep': 'k' },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: { 'Fn-Http-H-X-Keep': 'k', ...gatewayHeaders(0) },
  },
  {
    name: 'gateway: array-valued headers stay arrays',
    incoming: { 'set-cookie': ['a=1', 'b=2'], 'x-multi': ['x', 'y'] as unknown as string },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: { 'Fn-Http-H-Set-Cookie': ['a=1', 'b=2'], 'Fn-Http-H-X-Multi': ['x', 'y'], ...gatewayHeaders(0) },
  },
  {
    name: 'gateway: the caller cannot spoof the gateway headers (they come wrapped, ours are set)',
    incoming: { 'fn-http-method': 'DELETE', 'fn-intent': 'other', 'fn-call-id': 'spoofed' },
    ctx: gatewayCtx,
    bodyLength: 0,
    expected: {
      'Fn-Http-H-Fn-Http-Method': 'DELETE',
      'Fn-Http-H-Fn-Intent': 'other',
      'Fn-Http-H-Fn-Call-Id': 'spoofed',
      ...gatewayHeaders(0),
    },
  },
];

for (const c of containerCases) {
  test(`toContainerHeaders: ${c.name}`, () => {
    assert.deepEqual(toContainerHeaders(c.incoming, c.ctx, c.bodyLength), c.expected);
  });
}

test('toContainerHeaders: does not modify its input', () => {
  const incoming: IncomingHttpHeaders = { connection: 'x-a', 'x-a': '1', 'x-b': '2', 'set-cookie': ['a'] };
  const copy = structuredClone(incoming);
  toContainerHeaders(incoming, gatewayCtx, 1);
  toContainerHeaders(incoming, invokeCtx, 1);
  assert.deepEqual(incoming, copy);
});

const callerCases: { name: string; container: Headers; gateway: boolean; expected: CallerResponse }[] = [
  {
    name: 'not gateway: no headers gives 200 and none',
    container: {},
    gateway: false,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'not gateway: headers pass with lowercased names',
    container: { 'Content-Type': 'application/json', 'X-Custom': 'v', 'set-cookie': ['a=1', 'b=2'] },
    gateway: false,
    expected: { status: 200, headers: { 'content-type': 'application/json', 'x-custom': 'v', 'set-cookie': ['a=1', 'b=2'] } },
  },
  {
    name: "not gateway: a function's own Fn-Call-Id never replaces the platform's",
    container: { 'Fn-Call-Id': '01M8S4TQCK4A604K9C8RRQQDMG', 'X-Custom': 'v' },
    gateway: false,
    expected: { status: 200, headers: { 'x-custom': 'v' } },
  },
  {
    name: "not gateway: a function's Service-Worker-Allowed is dropped (no worker over the origin's /ui/)",
    container: { 'Service-Worker-Allowed': '/', 'X-Custom': 'v' },
    gateway: false,
    expected: { status: 200, headers: { 'x-custom': 'v' } },
  },
  {
    name: 'gateway: nor a wrapped Fn-Http-H-Service-Worker-Allowed, whatever its case',
    container: { 'Fn-Http-H-Service-Worker-Allowed': '/', 'fn-http-h-service-worker-allowed': '/ui/', 'Fn-Http-H-Cross-Origin-Opener-Policy': 'same-origin' },
    gateway: true,
    expected: { status: 200, headers: { 'cross-origin-opener-policy': 'same-origin' } },
  },
  {
    name: 'gateway: nor a wrapped Fn-Http-H-Fn-Call-Id',
    container: { 'Fn-Http-H-Fn-Call-Id': '01M8S4TQCK4A604K9C8RRQQDMG', 'Fn-Call-Id': 'x', 'Fn-Http-H-X-Custom': 'v' },
    gateway: true,
    expected: { status: 200, headers: { 'x-custom': 'v' } },
  },
  {
    name: 'not gateway: hop-by-hop headers are dropped, whatever their case',
    container: {
      Connection: 'keep-alive',
      'Keep-Alive': 'timeout=5',
      'Transfer-Encoding': 'chunked',
      Upgrade: 'h2c',
      TE: 'trailers',
      Trailer: 'x',
      'Proxy-Authenticate': 'Basic',
      'Proxy-Authorization': 'Basic x',
      'Proxy-Connection': 'close',
      Host: 'container',
      'Content-Length': '10',
      Expect: '100-continue',
      'X-Keep': 'k',
    },
    gateway: false,
    expected: { status: 200, headers: { 'x-keep': 'k' } },
  },
  {
    name: 'not gateway: headers named in a lowercase connection header are dropped',
    container: { connection: 'x-secret', 'x-secret': 's', 'x-keep': 'k' },
    gateway: false,
    expected: { status: 200, headers: { 'x-keep': 'k' } },
  },
  {
    // Names are compared case-insensitively everywhere else; the Connection header's own name too.
    name: 'not gateway: headers named in a capitalised Connection header are dropped',
    container: { Connection: 'X-Secret', 'X-Secret': 's', 'X-Keep': 'k' },
    gateway: false,
    expected: { status: 200, headers: { 'x-keep': 'k' } },
  },
  {
    name: 'not gateway: Fn-Http-Status and Fn-Http-H-* are not interpreted',
    container: { 'Fn-Http-Status': '404', 'Fn-Http-H-X-Foo': 'bar' },
    gateway: false,
    expected: { status: 200, headers: { 'fn-http-status': '404', 'fn-http-h-x-foo': 'bar' } },
  },
  {
    name: 'gateway: Fn-Http-Status sets the status',
    container: { 'Fn-Http-Status': '404' },
    gateway: true,
    expected: { status: 404, headers: {} },
  },
  {
    name: 'gateway: the lowest valid status, 200',
    container: { 'Fn-Http-Status': '200' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: a 1xx would be an interim response, so it gives 200',
    container: { 'Fn-Http-Status': '103' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: a status that is not three plain digits gives 200',
    container: { 'Fn-Http-Status': '2e2' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: 499, the highest status that is not a 5xx, passes',
    container: { 'Fn-Http-Status': '499' },
    gateway: true,
    expected: { status: 499, headers: {} },
  },
  // As Fn's gateway (fnStatus whenever the container answered under 400): 5xx included.
  ...([['500', 500], ['501', 501], ['502', 502], ['503', 503], ['504', 504], ['505', 505], ['599', 599]] as const).map(
    ([sent, status]) => ({
      name: `gateway: a function's ${sent} gives ${status}`,
      container: { 'Fn-Http-Status': sent },
      gateway: true,
      expected: { status, headers: {} },
    }),
  ),
  {
    name: 'gateway: status 99 is out of range and gives 200',
    container: { 'Fn-Http-Status': '99' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: status 600 is out of range and gives 200',
    container: { 'Fn-Http-Status': '600' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: a fractional status gives 200',
    container: { 'Fn-Http-Status': '201.5' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: a non-numeric status gives 200',
    container: { 'Fn-Http-Status': 'teapot' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: an empty status gives 200',
    container: { 'Fn-Http-Status': '' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: a negative status gives 200',
    container: { 'Fn-Http-Status': '-404' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: an array status uses its first value',
    container: { 'fn-http-status': ['201', '500'] },
    gateway: true,
    expected: { status: 201, headers: {} },
  },
  {
    name: 'gateway: Fn-Http-H-X is unwrapped to x, arrays stay arrays',
    container: { 'Fn-Http-H-X-Foo-Bar': 'baz', 'Fn-Http-H-Set-Cookie': ['a=1', 'b=2'], 'fn-http-h-location': '/next' },
    gateway: true,
    expected: { status: 200, headers: { 'x-foo-bar': 'baz', 'set-cookie': ['a=1', 'b=2'], location: '/next' } },
  },
  {
    name: 'gateway: a bare Fn-Http-H- prefix is dropped',
    container: { 'Fn-Http-H-': 'nothing' },
    gateway: true,
    expected: { status: 200, headers: {} },
  },
  {
    name: 'gateway: Content-Type passes, other unwrapped headers are dropped',
    container: { 'Content-Type': 'text/html', 'X-Other': 'o', 'Fn-Call-Id': 'c', 'Fn-Http-Method': 'GET' },
    gateway: true,
    expected: { status: 200, headers: { 'content-type': 'text/html' } },
  },
  {
    name: 'gateway: Fn-Http-H-Content-Type wins over Content-Type when it comes after',
    container: { 'Content-Type': 'text/plain', 'Fn-Http-H-Content-Type': 'application/json' },
    gateway: true,
    expected: { status: 200, headers: { 'content-type': 'application/json' } },
  },
  {
    name: 'gateway: Fn-Http-H-Content-Type wins over Content-Type when it comes before',
    container: { 'Fn-Http-H-Content-Type': 'application/json', 'Content-Type': 'text/plain' },
    gateway: true,
    expected: { status: 200, headers: { 'content-type': 'application/json' } },
  },
  {
    name: 'gateway: hop-by-hop headers are dropped before unwrapping',
    container: { 'Content-Length': '10', 'Transfer-Encoding': 'chunked', 'Fn-Http-H-X-Keep': 'k', 'Fn-Http-Status': '202' },
    gateway: true,
    expected: { status: 202, headers: { 'x-keep': 'k' } },
  },
  {
    // Unwrapped names are hop-by-hop too: a function must not be able to send the caller
    // Transfer-Encoding next to the Content-Length Kiln sets (a desync), or Connection/Upgrade.
    name: 'gateway: unwrapped hop-by-hop headers are dropped',
    container: {
      'Fn-Http-H-Transfer-Encoding': 'chunked',
      'Fn-Http-H-Connection': 'close',
      'Fn-Http-H-Keep-Alive': 'timeout=1',
      'Fn-Http-H-Upgrade': 'websocket',
      'Fn-Http-H-Trailer': 'x',
      'Fn-Http-H-Content-Length': '5',
      'Fn-Http-H-X-Keep': 'k',
    },
    gateway: true,
    // The length is no header of the answer's; it is said apart, for an answer to HEAD.
    expected: { status: 200, headers: { 'x-keep': 'k' }, declaredLength: 5 },
  },
  ...(['-1', '1e3', ' ', '12a', '1234567890123456'] as const).map((sent) => ({
    name: `gateway: a wrapped Content-Length of ${JSON.stringify(sent)} is no length`,
    container: { 'Fn-Http-H-Content-Length': sent },
    gateway: true,
    expected: { status: 200, headers: {} },
  })),
  {
    name: 'not gateway: a Content-Length is the connection\'s, never a declared length',
    container: { 'Content-Length': '5', 'Fn-Http-H-Content-Length': '7' },
    gateway: false,
    expected: { status: 200, headers: { 'fn-http-h-content-length': '7' } },
  },
  {
    name: 'gateway: everything together',
    container: {
      'content-type': 'text/plain',
      'fn-http-status': '418',
      'fn-http-h-x-a': '1',
      'fn-http-h-cache-control': 'no-store',
      'x-not-wrapped': 'dropped',
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
    },
    gateway: true,
    expected: { status: 418, headers: { 'content-type': 'text/plain', 'x-a': '1', 'cache-control': 'no-store' } },
  },
];

for (const c of callerCases) {
  test(`toCallerResponse: ${c.name}`, () => {
    assert.deepEqual(toCallerResponse(c.container, c.gateway), c.expected);
  });
}

const deadlineCases: { name: string; startMs: number; timeoutMs: number; expected: string }[] = [
  { name: 'the epoch plus nothing', startMs: 0, timeoutMs: 0, expected: '1970-01-01T00:00:00.000Z' },
  { name: 'keeps milliseconds', startMs: 1_700_000_000_123, timeoutMs: 30_000, expected: '2023-11-14T22:13:50.123Z' },
  { name: 'crosses a day boundary', startMs: Date.UTC(2024, 1, 28, 23, 59, 59, 500), timeoutMs: 1_000, expected: '2024-02-29T00:00:00.500Z' },
  { name: 'an hour timeout', startMs: Date.UTC(2024, 0, 1), timeoutMs: 3_600_000, expected: '2024-01-01T01:00:00.000Z' },
];

for (const c of deadlineCases) {
  test(`deadlineFrom: ${c.name}`, () => {
    const got = deadlineFrom(c.startMs, c.timeoutMs);
    assert.equal(got, c.expected);
    assert.equal(Date.parse(got), c.startMs + c.timeoutMs);
  });
}

test('headBytes: a head as written, name: value CRLF a value', () => {
  const rows: { headers: Record<string, string | string[]>; want: number }[] = [
    { headers: {}, want: 0 },
    { headers: { a: 'b' }, want: 6 },
    { headers: { cookie: ['x=1', 'y=2'] }, want: 2 * ('cookie'.length + 3 + 4) },
    { headers: { 'fn-http-h-cookie': 'c'.repeat(FDK_HEAD_BYTES) }, want: 16 + FDK_HEAD_BYTES + 4 },
  ];
  for (const r of rows) assert.equal(headBytes(r.headers), r.want, JSON.stringify(r.headers).slice(0, 60));
});

// A header value as node:http and undici give it (a Latin-1 character a byte) read as UTF-8 text.
const latin1 = (text: string): string => Buffer.from(text).toString('latin1');
const textCases: { name: string; value: string; text: string }[] = [
  { name: 'ASCII is as it is', value: 'Runtime.ExitError', text: 'Runtime.ExitError' },
  { name: 'an emoji sent as UTF-8', value: latin1('Hdr😀Type'), text: 'Hdr😀Type' },
  { name: 'accented letters sent as UTF-8', value: latin1('Erreur_é'), text: 'Erreur_é' },
  { name: 'a byte that is not UTF-8 is U+FFFD', value: 'bad\xe9', text: 'bad\uFFFD' },
  { name: 'empty', value: '', text: '' },
];
for (const c of textCases) test(`headerText: ${c.name}`, () => assert.equal(headerText(c.value), c.text));
