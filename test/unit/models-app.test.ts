import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { App } from '../../store/types.js';
import { ConflictError } from '../../store/errors.js';
import { mergeApp, newApp, parseAppPatch } from '../../api/models/app.js';
import { FN_ENDPOINT_ANNOTATION, TRIGGER_ENDPOINT_ANNOTATION } from '../../api/models/common.js';
import { assertApiError, badRequestError, type ExpectedApiError } from './assert-api-error.js';

type AppPatch = Parameters<typeof mergeApp>[1];

const ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const T0 = '2024-01-01T00:00:00.000Z';
const NOW = '2024-06-01T12:00:00.000Z';
// What kiln.io/network may name here, as the server passes it in (KILN_ALLOWED_NETWORKS, FN_DOCKER_NETWORKS).
const NETS = ['bridge', 'fns'];
const NET = 'kiln.io/network';
const NET_ERROR = (why: string): ExpectedApiError =>
  badRequestError(`Invalid annotation "kiln.io/network": ${why}; networks allowed: bridge, fns`);
const SYSLOG_ERROR = (url: string): string =>
  `invalid syslog url: "${url}" invalid scheme, only [tcp, udp, tls, tcp+tls] are supported`;
/** A unix URL on a server that lists no sockets. */
const UNIX_ERROR = (url: string): string =>
  `${SYSLOG_ERROR(url)} (unix and unixgram only for the sockets this server lists in KILN_SYSLOG_SOCKETS)`;

const fresh = (extra: Partial<App> = {}): App => ({
  id: ID, name: 'myapp', config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: NOW, updated_at: NOW, ...extra,
});

// newApp: accepted bodies.
const createOk: { name: string; body: unknown; want: App }[] = [
  { name: 'name only', body: { name: 'myapp' }, want: fresh() },
  { name: 'unicode name', body: { name: 'café_日本' }, want: fresh({ name: 'café_日本' }) },
  { name: '255-byte name', body: { name: 'a'.repeat(255) }, want: fresh({ name: 'a'.repeat(255) }) },
  {
    name: 'nulls for every optional field',
    body: { id: null, name: 'myapp', config: null, annotations: null, syslog_url: null, shape: null },
    want: fresh(),
  },
  { name: 'empty id is not an id', body: { id: '', name: 'myapp' }, want: fresh() },
  {
    name: 'config, with "" and null values dropped',
    body: { name: 'myapp', config: { A: '1', B: '', C: null } },
    want: fresh({ config: { A: '1' } }),
  },
  {
    name: 'annotations, with endpoint annotations dropped',
    body: {
      name: 'myapp',
      annotations: { a: 1, [FN_ENDPOINT_ANNOTATION]: 'http://x', [TRIGGER_ENDPOINT_ANNOTATION]: 'http://y' },
    },
    want: fresh({ annotations: { a: 1 } }),
  },
  {
    name: 'client timestamps are ignored',
    body: { name: 'myapp', created_at: T0, updated_at: T0 },
    want: fresh(),
  },
  // As Fn's InsertApp: no shape, or "", is GENERIC_X86.
  { name: 'empty syslog_url is unset, empty shape is GENERIC_X86', body: { name: 'myapp', syslog_url: '', shape: '' }, want: fresh() },
  { name: 'no shape is GENERIC_X86', body: { name: 'myapp' }, want: fresh({ shape: 'GENERIC_X86' }) },
  // Fn's schemes, and tcp+tls (the engine's name for tls, documented by Kiln before it took tls).
  ...['tcp', 'udp', 'tls', 'tcp+tls'].map((scheme) => ({
    name: `syslog scheme ${scheme}`,
    body: { name: 'myapp', syslog_url: `${scheme}://logs.example.com:514` },
    want: fresh({ syslog_url: `${scheme}://logs.example.com:514` }),
  })),
  { name: 'a tls syslog URL as Fn\'s docs write it', body: { name: 'myapp', syslog_url: 'tls://logs.papertrailapp.com:1' }, want: fresh({ syslog_url: 'tls://logs.papertrailapp.com:1' }) },
  { name: 'a syslog host without a port (514)', body: { name: 'myapp', syslog_url: 'udp://logs' }, want: fresh({ syslog_url: 'udp://logs' }) },
  { name: 'an IPv6 syslog host', body: { name: 'myapp', syslog_url: 'tcp://[::1]:514' }, want: fresh({ syslog_url: 'tcp://[::1]:514' }) },
  {
    name: 'syslog scheme is case-insensitive',
    body: { name: 'myapp', syslog_url: 'TCP://logs:514' },
    want: fresh({ syslog_url: 'TCP://logs:514' }),
  },
  { name: 'tls in capitals', body: { name: 'myapp', syslog_url: 'TLS://logs:6514' }, want: fresh({ syslog_url: 'TLS://logs:6514' }) },
  ...['GENERIC_X86', 'GENERIC_ARM', 'GENERIC_X86_ARM'].map((shape) => ({
    name: `shape ${shape}`,
    body: { name: 'myapp', shape },
    want: fresh({ shape }),
  })),
  { name: 'a network the server allows', body: { name: 'myapp', annotations: { [NET]: 'fns' } }, want: fresh({ annotations: { [NET]: 'fns' } }) },
];
for (const c of createOk) {
  test(`newApp accepts: ${c.name}`, () => assert.deepEqual(newApp(c.body, ID, NOW, NETS), c.want));
}

// newApp: every rejection, with Fn's message.
const createBad: { name: string; body: unknown; err: ExpectedApiError }[] = [
  { name: 'no body', body: undefined, err: badRequestError('Invalid JSON: the request body is empty') },
  { name: 'array body', body: [], err: badRequestError('Invalid JSON: the request body must be a JSON object') },
  { name: 'null body', body: null, err: badRequestError('Invalid JSON: the request body must be a JSON object') },
  { name: 'id supplied', body: { id: 'x', name: 'myapp' }, err: badRequestError('App ID cannot be supplied on create') },
  { name: 'no name', body: {}, err: badRequestError('Missing Name') },
  { name: 'empty name', body: { name: '' }, err: badRequestError('Missing Name') },
  { name: 'null name', body: { name: null }, err: badRequestError('Missing Name') },
  {
    name: '256-byte name',
    body: { name: 'a'.repeat(256) },
    err: badRequestError('App name must be 255 characters or less'),
  },
  {
    name: '128 two-byte chars (256 bytes)',
    body: { name: 'é'.repeat(128) },
    err: badRequestError('App name must be 255 characters or less'),
  },
  { name: 'name with a space', body: { name: 'my app' }, err: badRequestError('Invalid app name') },
  { name: 'name with a slash', body: { name: 'a/b' }, err: badRequestError('Invalid app name') },
  { name: 'name with a percent', body: { name: 'a%b' }, err: badRequestError('Invalid app name') },
  { name: 'name with a dot', body: { name: 'a.b' }, err: badRequestError('Invalid app name') },
  { name: 'numeric name', body: { name: 42 }, err: badRequestError(/^Invalid JSON: field "name": /, 'name') },
  {
    name: 'an empty config key',
    body: { name: 'myapp', config: { '': 'c' } },
    err: badRequestError('Invalid JSON: field "config.": config keys must be non-empty and hold no "=" (each becomes an environment variable name)', 'config.'),
  },
  {
    name: 'non-string config value',
    body: { name: 'myapp', config: { A: 1 } },
    err: badRequestError('Invalid JSON: field "config.A": config values must be strings', 'config.A'),
  },
  {
    name: 'array annotations',
    body: { name: 'myapp', annotations: [] },
    err: badRequestError(/^Invalid JSON: field "annotations": /, 'annotations'),
  },
  {
    name: 'bad annotation key',
    body: { name: 'myapp', annotations: { 'a b': 1 } },
    err: badRequestError(
      'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace',
    ),
  },
  {
    name: 'empty annotation value (not a delete on create)',
    body: { name: 'myapp', annotations: { a: '' } },
    err: badRequestError(
      'Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays: "a" is ""',
    ),
  },
  {
    name: 'http syslog url',
    body: { name: 'myapp', syslog_url: 'http://logs:514' },
    err: badRequestError(SYSLOG_ERROR('http://logs:514')),
  },
  // A unix socket is on the host, where the engine runs as root: no API caller may point it at one
  // (Fn's schemes are network ones only). In any case, with any path, as the engine would take it.
  ...['unix:///var/run/docker.sock', 'unixgram:///dev/log', 'UNIX:///run/containerd/containerd.sock', 'unix://logs/dev/log', 'unixgram://', 'unix:/dev/log']
    .map((url) => ({ name: `a unix syslog URL: ${url}`, body: { name: 'myapp', syslog_url: url }, err: badRequestError(UNIX_ERROR(url)) })),
  // Nor any other scheme the engine's driver (or none) would take.
  ...['file:///var/log/x', 'tls+tcp://logs:514', 'syslog://logs:514', 'ssl://logs:514']
    .map((url) => ({ name: `another scheme: ${url}`, body: { name: 'myapp', syslog_url: url }, err: badRequestError(SYSLOG_ERROR(url)) })),
  // Each of these the engine refuses when it makes a container: every call would then fail.
  ...[
    ['several syslog URLs (the engine takes one)', 'tcp://127.0.0.1:6514,udp://127.0.0.1:514', ': it is not one URL'],
    ['a syslog URL with no host', 'tcp://', ': it names no host'],
    ['a network syslog URL with a path', 'tcp://logs:514/x', ': a network syslog URL has no path'],
    ['a syslog URL with a query', 'udp://logs:514?x=1', ': it has a query or fragment'],
    ['several syslog URLs, one of them unix', 'tcp://127.0.0.1:6514,unix:///var/run/docker.sock', ': it is not one URL'],
    ['a tls syslog URL with no host', 'tls:///var/run/docker.sock', ': it names no host'],
    ['a syslog URL with one slash', 'tcp:/logs:514', ': the engine takes scheme://host[:port]'],
    // JavaScript's URL parser strips or takes these; Go's url.Parse, the engine's, refuses them.
    ['a tab in the host', 'tcp://ho\tst:514', ': it has spaces or control characters'],
    ['a newline in the port', 'tcp://host:5\n14', ': it has spaces or control characters'],
    ['a %-escape in the host', 'tcp://%68ost:514', ': its host has a %-escape'],
    ['an escaped slash in the host', 'tcp://host%2Fx:514', ': its host has a %-escape'],
  ].map(([name, url, why]) => ({ name: name!, body: { name: 'myapp', syslog_url: url }, err: badRequestError(`invalid syslog url: "${url}"${why}`) })),
  {
    name: 'syslog url without a scheme',
    body: { name: 'myapp', syslog_url: 'logs.example.com' },
    err: badRequestError(SYSLOG_ERROR('logs.example.com')),
  },
  { name: 'unknown shape', body: { name: 'myapp', shape: 'bogus' }, err: badRequestError('Invalid app shape') },
  { name: 'a network that is not a string', body: { name: 'myapp', annotations: { [NET]: ['bridge'] } }, err: NET_ERROR('must be a Docker network name (a string), got ["bridge"]') },
  { name: 'a network not allowed', body: { name: 'myapp', annotations: { [NET]: 'other' } }, err: NET_ERROR('network "other" is not allowed on this server') },
  { name: 'the host network', body: { name: 'myapp', annotations: { [NET]: 'host' } }, err: NET_ERROR('"host" is never allowed: it would give the fn the host\'s own network stack') },
  {
    name: 'lowercase shape',
    body: { name: 'myapp', shape: 'generic_x86' },
    err: badRequestError('Invalid app shape'),
  },
];
for (const c of createBad) {
  test(`newApp rejects: ${c.name}`, () => assertApiError(() => newApp(c.body, ID, NOW, NETS), c.err));
}

// parseAppPatch.
const patchOk: { name: string; body: unknown }[] = [
  { name: 'no id', body: { config: { a: 'b' } } },
  { name: 'matching id', body: { id: ID } },
  { name: 'empty id', body: { id: '' } },
  { name: 'null id', body: { id: null } },
];
for (const c of patchOk) {
  test(`parseAppPatch accepts: ${c.name}`, () => assert.doesNotThrow(() => parseAppPatch(c.body, ID)));
}

const patchBad: { name: string; body: unknown; err: ExpectedApiError }[] = [
  {
    name: 'id differs from the path',
    body: { id: 'other' },
    err: badRequestError('App ID in path does not match ID in body'),
  },
  { name: 'no body', body: undefined, err: badRequestError('Invalid JSON: the request body is empty') },
  { name: 'numeric config', body: { config: 5 }, err: badRequestError(/^Invalid JSON: field "config": /, 'config') },
];
for (const c of patchBad) {
  test(`parseAppPatch rejects: ${c.name}`, () => assertApiError(() => parseAppPatch(c.body, ID), c.err));
}

// mergeApp.
const existing: App = {
  id: ID,
  name: 'myapp',
  config: { A: '1', B: '2' },
  annotations: { x: 1, y: 'z' },
  syslog_url: 'tcp://old:514',
  shape: 'GENERIC_X86',
  created_at: T0,
  updated_at: T0,
};
const merged = (change: Partial<App>, without: (keyof App)[] = []): App => {
  const app: App = { ...structuredClone(existing), updated_at: NOW, ...change };
  for (const k of without) delete app[k];
  return app;
};

/** As Fn's Update(): a PUT that changes nothing leaves updated_at as it was. */
const unchanged = (): App => structuredClone(existing);

const mergeOk: { name: string; patch: AppPatch; want: App }[] = [
  { name: 'empty patch changes nothing, updated_at included', patch: {}, want: unchanged() },
  { name: 'the stored app PUT back as read, as the fn CLI does, changes nothing', patch: structuredClone(existing), want: unchanged() },
  { name: 'a config value set to what it is changes nothing', patch: { config: { A: '1' } }, want: unchanged() },
  { name: 'deleting an annotation that is not there changes nothing', patch: { annotations: { nope: '' } }, want: unchanged() },
  { name: 'same name', patch: { name: 'myapp' }, want: unchanged() },
  { name: 'empty name is ignored', patch: { name: '' }, want: unchanged() },
  { name: 'null name is ignored', patch: { name: null }, want: unchanged() },
  {
    name: 'config add, overwrite and "" delete',
    patch: { config: { A: '', B: 'b', C: '3' } },
    want: merged({ config: { B: 'b', C: '3' } }),
  },
  {
    name: 'annotations: "" and null delete, new key added',
    patch: { annotations: { x: null, y: '', w: [1] } },
    want: merged({ annotations: { w: [1] } }),
  },
  {
    name: 'endpoint annotations in the patch are dropped',
    patch: { annotations: { [FN_ENDPOINT_ANNOTATION]: 'http://x', [TRIGGER_ENDPOINT_ANNOTATION]: 'http://y' } },
    want: unchanged(),
  },
  { name: 'new syslog url', patch: { syslog_url: 'udp://new:514' }, want: merged({ syslog_url: 'udp://new:514' }) },
  { name: 'a tls syslog url', patch: { syslog_url: 'tls://new:6514' }, want: merged({ syslog_url: 'tls://new:6514' }) },
  { name: 'empty syslog url removes it', patch: { syslog_url: '' }, want: merged({}, ['syslog_url']) },
  { name: 'null syslog url keeps it', patch: { syslog_url: null }, want: unchanged() },
  // As Fn's App.Update: a PUT never changes the shape, whatever it sends.
  { name: 'another shape is ignored', patch: { shape: 'GENERIC_ARM' }, want: unchanged() },
  { name: 'empty shape is ignored', patch: { shape: '' }, want: unchanged() },
  { name: 'null shape is ignored', patch: { shape: null }, want: unchanged() },
  { name: 'an unknown shape is ignored, not a 400', patch: { shape: 'bogus' }, want: unchanged() },
  { name: 'client timestamps are ignored', patch: { created_at: NOW, updated_at: T0 }, want: unchanged() },
  { name: 'a network the server allows', patch: { annotations: { [NET]: 'bridge' } }, want: merged({ annotations: { ...existing.annotations, [NET]: 'bridge' } }) },
];
// Fn's Go decoder reads a null config value into its map[string]string as "": a delete.
test('parseAppPatch then mergeApp: a config value of null deletes the key, as ""', () => {
  assert.deepEqual(mergeApp(existing, parseAppPatch({ config: { B: null } }, ID), NOW, NETS), merged({ config: { A: '1' } }));
});

for (const c of mergeOk) {
  test(`mergeApp: ${c.name}`, () => {
    const before = structuredClone(existing);
    assert.deepEqual(mergeApp(existing, c.patch, NOW, NETS), c.want);
    assert.deepEqual(existing, before, 'existing app is not mutated');
  });
}

const tooMany = Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`n${i}`, i]));
const mergeBad: { name: string; patch: AppPatch; err: ExpectedApiError }[] = [
  {
    name: 'renaming',
    patch: { name: 'other' },
    err: { status: 409, message: 'Could not update - name is immutable' },
  },
  {
    name: 'renaming with an invalid name is still a 409',
    patch: { name: 'bad name' },
    err: { status: 409, message: 'Could not update - name is immutable' },
  },
  {
    name: 'bad syslog url',
    patch: { syslog_url: 'https://logs' },
    err: badRequestError(SYSLOG_ERROR('https://logs')),
  },
  ...['unix:///var/run/docker.sock', 'unixgram:///dev/log'].map((url) => ({
    name: `a unix syslog URL: ${url}`, patch: { syslog_url: url }, err: badRequestError(UNIX_ERROR(url)),
  })),
  {
    name: 'bad annotation key',
    patch: { annotations: { 'bad key': 'v' } },
    err: badRequestError(
      'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace',
    ),
  },
  {
    name: 'a network not allowed',
    patch: { annotations: { [NET]: 'none' } },
    err: NET_ERROR('"none" is not a network to ask for: leave the annotation out for no network'),
  },
  {
    name: 'merge exceeding 100 annotation keys',
    patch: { annotations: tooMany },
    err: badRequestError(
      'Invalid annotation change, new key(s) exceed maximum permitted number of annotations keys (100)',
    ),
  },
];
for (const c of mergeBad) {
  test(`mergeApp rejects: ${c.name}`, () => assertApiError(() => mergeApp(existing, c.patch, NOW, NETS), c.err));
}

test("mergeApp: a new name is the store's ConflictError, as a name already taken is", () => {
  assert.throws(() => mergeApp(existing, { name: 'other' }, NOW, NETS), (err: unknown) => err instanceof ConflictError && err.entity === 'app');
});

// An app stored with a unix URL (by an older Kiln, or by Fn): a PUT must replace or remove it,
// as any other change would write it back; each call fails until then (see the agent).
const storedUnix: App = { ...structuredClone(existing), syslog_url: 'unix:///var/run/docker.sock' };
const storedUnixCases: { name: string; patch: AppPatch; want: App | ExpectedApiError }[] = [
  { name: 'a config change keeps it: 400', patch: { config: { C: '3' } }, want: badRequestError(UNIX_ERROR('unix:///var/run/docker.sock')) },
  { name: 'replaced by a tcp URL', patch: { syslog_url: 'tcp://logs:514' }, want: merged({ syslog_url: 'tcp://logs:514' }) },
  { name: 'removed', patch: { syslog_url: '' }, want: merged({}, ['syslog_url']) },
];
for (const c of storedUnixCases) {
  test(`mergeApp on a stored unix syslog URL: ${c.name}`, () => {
    if ('status' in c.want) assertApiError(() => mergeApp(storedUnix, c.patch, NOW, NETS), c.want);
    else assert.deepEqual(mergeApp(storedUnix, c.patch, NOW, NETS), c.want);
  });
}

// KILN_SYSLOG_SOCKETS: the operator's list of host sockets a syslog_url may name, exactly as written.
const SOCKETS = ['/dev/log', '/run/rsyslog.sock'];
const socketCases: { url: string; why?: string }[] = [
  { url: 'unix:///dev/log' },
  { url: 'unixgram:///dev/log' },
  { url: 'UNIX:///run/rsyslog.sock' },
  { url: 'tcp://logs:514' },
  { url: 'unix:///var/run/docker.sock', why: ': the socket /var/run/docker.sock is not one of those KILN_SYSLOG_SOCKETS lists (/dev/log, /run/rsyslog.sock)' },
  { url: 'unix:///dev/../dev/log', why: ': the socket /dev/../dev/log is not one of those KILN_SYSLOG_SOCKETS lists (/dev/log, /run/rsyslog.sock)' },
  { url: 'unix:///dev/%6Cog', why: ': the socket /dev/%6Cog is not one of those KILN_SYSLOG_SOCKETS lists (/dev/log, /run/rsyslog.sock)' },
  { url: 'unix:///dev/log/', why: ': the socket /dev/log/ is not one of those KILN_SYSLOG_SOCKETS lists (/dev/log, /run/rsyslog.sock)' },
  { url: 'unix://logs/dev/log', why: ': a unix socket URL is scheme:///path/to/socket' },
  { url: 'unix:/dev/log', why: ': a unix socket URL is scheme:///path/to/socket' },
  { url: 'unixgram://', why: ': a unix socket URL is scheme:///path/to/socket' },
  { url: 'unix:///dev/log?x=1', why: ': it has a query or fragment' },
  { url: 'http://logs:514', why: ' invalid scheme, only [tcp, udp, tls, tcp+tls, unix, unixgram] are supported' },
];
for (const c of socketCases) {
  test(`with KILN_SYSLOG_SOCKETS, newApp ${c.why ? 'rejects' : 'accepts'} ${c.url}`, () => {
    const body = { name: 'myapp', syslog_url: c.url };
    if (c.why) assertApiError(() => newApp(body, ID, NOW, NETS, SOCKETS), badRequestError(`invalid syslog url: "${c.url}"${c.why}`));
    else assert.deepEqual(newApp(body, ID, NOW, NETS, SOCKETS), fresh({ syslog_url: c.url }));
  });
}
test('with KILN_SYSLOG_SOCKETS, a stored unix URL it lists can be kept through a PUT', () => {
  const stored: App = { ...structuredClone(existing), syslog_url: 'unix:///dev/log' };
  assert.equal(mergeApp(stored, { config: { C: '3' } }, NOW, NETS, SOCKETS).syslog_url, 'unix:///dev/log');
});
