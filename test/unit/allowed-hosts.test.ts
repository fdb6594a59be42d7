// Without tokens, which Host names Kiln answers (api/allowed-hosts.ts, DNS rebinding).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedHostEntry, hostRefusal, hostRules, HostNotAllowedError, isAllowedHost, isLoopbackHost } from '../../api/allowed-hosts.js';
import { toHttpError, toLambdaError } from '../../api/errors.js';

const rules = hostRules(['kiln.lan', '.corp.example', 'kiln_1'], 'Build-Box.local', 'https://fn.example.com:8443/base');

const hostCases: { name: string; host: string | undefined; want: boolean; rules?: typeof rules }[] = [
  { name: 'none (HTTP/1.0)', host: undefined, want: true },
  { name: 'empty', host: '', want: true },
  { name: 'localhost', host: 'localhost', want: true },
  { name: 'localhost with a port', host: 'localhost:8080', want: true },
  { name: 'LOCALHOST, any case', host: 'LocalHost:8080', want: true },
  { name: 'localhost.', host: 'localhost.:8080', want: true },
  { name: 'a name under .localhost', host: 'app.localhost:8080', want: true },
  { name: 'a name ending in localhost without the dot', host: 'evillocalhost', want: false },
  { name: 'localhost as a label of another domain', host: 'localhost.evil.example', want: false },
  { name: 'IPv4 loopback', host: '127.0.0.1', want: true },
  { name: 'IPv4 with a port', host: '127.0.0.1:8080', want: true },
  { name: 'a LAN IPv4', host: '192.168.1.20:8080', want: true },
  { name: 'IPv6 loopback', host: '[::1]', want: true },
  { name: 'IPv6 with a port', host: '[::1]:8080', want: true },
  { name: 'IPv6 with a zone-less full address', host: '[fe80::1:2:3:4]:80', want: true },
  { name: 'a name in brackets', host: '[evil.example]:80', want: false },
  { name: 'brackets then junk', host: '[::1]x', want: false },
  { name: 'unbracketed IPv6', host: '::1', want: false },
  { name: 'a numeric name that is no dotted IPv4', host: '2130706433', want: false },
  { name: 'the DNS name of the rebinding page', host: 'evil.example:8080', want: false },
  { name: 'a port that is no number', host: 'localhost:80x', want: false },
  { name: 'the machine name', host: 'build-box.local:8080', want: true },
  { name: 'the machine name, any case, trailing dot', host: 'BUILD-BOX.LOCAL.', want: true },
  { name: "the machine name's first label", host: 'build-box:8080', want: true },
  { name: "another domain under the machine's first label", host: 'build-box.evil.example', want: false },
  { name: "FN_PUBLIC_LB_URL's host, any port", host: 'fn.example.com', want: true },
  { name: "a name under FN_PUBLIC_LB_URL's host", host: 'x.fn.example.com', want: false },
  { name: 'a listed name', host: 'kiln.lan:8080', want: true },
  { name: 'a listed name, upper case, trailing dot', host: 'KILN.LAN.:80', want: true },
  { name: 'a listed name with an underscore (a compose service)', host: 'kiln_1:8080', want: true },
  { name: 'a name under a listed name', host: 'x.kiln.lan', want: false },
  { name: 'a .domain entry: the domain itself', host: 'corp.example', want: true },
  { name: 'a .domain entry: a name under it', host: 'kiln.eu.corp.example:8080', want: true },
  { name: 'a .domain entry: a name that only ends like it', host: 'evilcorp.example', want: false },
  { name: '* allows any name', host: 'evil.example:8080', want: true, rules: hostRules(['*'], 'box') },
  { name: '* allows even junk', host: '::1', want: true, rules: hostRules(['*'], 'box') },
  { name: 'no settings: only what is always allowed', host: 'kiln.lan', want: false, rules: hostRules([], 'box') },
];
for (const c of hostCases) {
  test(`isAllowedHost: ${c.name}`, () => assert.equal(isAllowedHost(c.host, c.rules ?? rules), c.want));
}

const entryCases: { entry: string; want: string | undefined }[] = [
  { entry: 'kiln.lan', want: 'kiln.lan' },
  { entry: ' Kiln.LAN. ', want: 'kiln.lan' },
  { entry: '.example.com', want: '.example.com' },
  { entry: '*', want: '*' },
  { entry: 'bücher.example', want: 'xn--bcher-kva.example' },
  { entry: 'kiln_1', want: 'kiln_1' },
  { entry: 'kiln.lan:8080', want: undefined },
  { entry: 'http://kiln.lan', want: undefined },
  { entry: '*.example.com', want: undefined },
  { entry: '..example.com', want: undefined },
  { entry: 'a..b', want: undefined },
  { entry: '-a', want: undefined },
  { entry: '.', want: undefined },
  { entry: '[::1]', want: undefined },
];
for (const c of entryCases) {
  test(`allowedHostEntry ${JSON.stringify(c.entry)}`, () => assert.equal(allowedHostEntry(c.entry), c.want));
}

// Exactly the paths a token guards: the rest stays open under any name.
const pathCases: { method: string; path: string; invoke?: boolean; refused: boolean }[] = [
  { method: 'GET', path: '/v2/apps', refused: true },
  { method: 'POST', path: '/v2/apps', refused: true },
  { method: 'DELETE', path: '/v2/fns/x', refused: true },
  { method: 'POST', path: '/invoke/01J000000000000000000000', refused: true },
  { method: 'POST', path: '/2015-03-31/functions/hello/invocations', refused: true },
  { method: 'POST', path: '/2021-11-15/functions/hello/response-streaming-invocations', refused: true },
  { method: 'GET', path: '/metrics', refused: true },
  { method: 'GET', path: '/bogus', refused: true },
  { method: 'POST', path: '/version', refused: true },
  { method: 'GET', path: '/', refused: false },
  { method: 'GET', path: '/version', refused: false },
  { method: 'HEAD', path: '/version', refused: false },
  { method: 'GET', path: '/ui/', refused: false },
  { method: 'POST', path: '/t/app/hello', refused: false },
  { method: 'DELETE', path: '/t/app/x/y', refused: false },
  // KILN_AUTH_INVOKE=false opens /invoke as it does with tokens; the Lambda APIs stay guarded.
  { method: 'POST', path: '/invoke/01J000000000000000000000', invoke: false, refused: false },
  { method: 'POST', path: '/2015-03-31/functions/hello/invocations', invoke: false, refused: true },
];
for (const c of pathCases) {
  test(`hostRefusal under evil.example: ${c.method} ${c.path}${c.invoke === false ? ' (invokes open)' : ''} is ${c.refused ? 'refused' : 'open'}`, () => {
    const got = hostRefusal(c.method, c.path, 'evil.example:8080', rules, { invoke: c.invoke ?? true });
    assert.equal(got instanceof HostNotAllowedError, c.refused);
    assert.equal(hostRefusal(c.method, c.path, 'localhost:8080', rules, { invoke: c.invoke ?? true }), undefined);
  });
}

test('the refusal is a 403 naming the Host and how to allow it, in both error shapes', () => {
  const err = hostRefusal('GET', '/v2/apps', 'evil.example:8080', rules)!;
  const http = toHttpError(err);
  assert.equal(http.status, 403);
  assert.match(http.body.message, /^Host "evil\.example:8080" is not allowed: .*KILN_ALLOWED_HOSTS.*KILN_AUTH_TOKENS/);
  assert.deepEqual(toLambdaError(err), { kind: 'platform', status: 403, type: 'AccessDeniedException', message: http.body.message });
});

test('a huge Host is cut short in the message', () => {
  const err = new HostNotAllowedError('a'.repeat(10_000));
  assert.ok(err.message.length < 800, String(err.message.length));
});

const loopbackCases: Array<[string, boolean]> = [
  ['127.0.0.1', true], ['127.1.2.3', true], ['localhost', true], ['LOCALHOST', true], ['::1', true], ['[::1]', true],
  ['::ffff:127.0.0.1', true], ['0.0.0.0', false], ['::', false], ['10.0.0.5', false], ['172.17.0.1', false],
  ['kiln.lan', false], ['127.example.com', false], ['', false],
];
for (const [host, loopback] of loopbackCases) {
  test(`isLoopbackHost(${JSON.stringify(host)}) is ${loopback}`, () => assert.equal(isLoopbackHost(host), loopback));
}
