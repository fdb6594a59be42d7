import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Fn } from '../../store/types.js';
import { FN_LIMITS, mergeFn, newFn, parseFnPatch } from '../../api/models/fn.js';
import { FN_ENDPOINT_ANNOTATION } from '../../api/models/common.js';
import { assertApiError, badRequestError, type ExpectedApiError } from './assert-api-error.js';

type FnPatch = Parameters<typeof mergeFn>[1];

const ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const T0 = '2024-01-01T00:00:00.000Z';
const NOW = '2024-06-01T12:00:00.000Z';
// What kiln.io/network may name here, as the server passes it in (KILN_ALLOWED_NETWORKS, FN_DOCKER_NETWORKS).
const NETS = ['bridge', 'fns'];
const NET = 'kiln.io/network';
const NET_ERROR = (why: string): ExpectedApiError =>
  badRequestError(`Invalid annotation "kiln.io/network": ${why}; networks allowed: bridge, fns`);
const IMAGE = 'fnproject/hello:0.0.1';
const base = { name: 'myfn', app_id: 'app1', image: IMAGE };
const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const TIMEOUT_ERROR = 'timeout value is out of range, must be between 0 and 300';
const IDLE_ERROR = 'idle_timeout value is out of range, must be between 0 and 3600';
const MEMORY_ERROR = 'memory value is out of range. It should be between 0 and 8192';
const FORMAT_ERROR = (f: string): string => `Invalid format on Fn: "${f}" (use http-stream or lambda)`;
const NAME_INVALID = 'name must be a valid string';

const fresh = (extra: Partial<Fn> = {}): Fn => ({
  id: ID,
  name: 'myfn',
  app_id: 'app1',
  image: IMAGE,
  memory: 128,
  timeout: 30,
  idle_timeout: 30,
  format: 'http-stream',
  config: {},
  annotations: {},
  created_at: NOW,
  updated_at: NOW,
  ...extra,
});

test('FN_LIMITS are Fn\'s defaults and maxima', () => {
  assert.deepEqual(FN_LIMITS, {
    memory: { def: 128, max: 8192 },
    timeout: { def: 30, max: 300 },
    idle_timeout: { def: 30, max: 3600 },
  });
});

// newFn: accepted bodies and the defaults applied.
const createOk: { name: string; body: Record<string, unknown>; want: Fn }[] = [
  { name: 'defaults', body: base, want: fresh() },
  {
    name: '0 and "" mean the default',
    body: { ...base, memory: 0, timeout: 0, idle_timeout: 0, format: '' },
    want: fresh(),
  },
  {
    name: 'nulls mean the default',
    body: { ...base, id: null, memory: null, timeout: null, idle_timeout: null, format: null, config: null },
    want: fresh(),
  },
  {
    name: 'explicit values',
    body: { ...base, memory: 256, timeout: 60, idle_timeout: 120, format: 'lambda' },
    want: fresh({ memory: 256, timeout: 60, idle_timeout: 120, format: 'lambda' }),
  },
  { name: 'format http-stream', body: { ...base, format: 'http-stream' }, want: fresh() },
  { name: 'format lambda', body: { ...base, format: 'lambda' }, want: fresh({ format: 'lambda' }) },
  // Fn's legacy formats, as the fn CLI still sends them, are stored as what runs: http-stream.
  ...['default', 'http', 'json', 'cloudevent'].map((format) => ({
    name: `legacy format ${format} is http-stream`,
    body: { ...base, format },
    want: fresh({ format: 'http-stream' }),
  })),
  {
    name: 'lower bounds',
    body: { ...base, memory: 1, timeout: 1, idle_timeout: 1 },
    want: fresh({ memory: 1, timeout: 1, idle_timeout: 1 }),
  },
  {
    name: 'upper bounds',
    body: { ...base, memory: 8192, timeout: 300, idle_timeout: 3600 },
    want: fresh({ memory: 8192, timeout: 300, idle_timeout: 3600 }),
  },
  { name: 'empty id is not an id', body: { ...base, id: '' }, want: fresh() },
  {
    name: 'path-safe punctuation in the name',
    body: { ...base, name: 'my-fn_v1.2~x$&+:=@' },
    want: fresh({ name: 'my-fn_v1.2~x$&+:=@' }),
  },
  { name: '255-byte name', body: { ...base, name: 'f'.repeat(255) }, want: fresh({ name: 'f'.repeat(255) }) },
  {
    name: 'config, with "" and null values dropped',
    body: { ...base, config: { A: '1', B: '', C: null } },
    want: fresh({ config: { A: '1' } }),
  },
  {
    name: 'annotations, with the endpoint annotation dropped',
    body: { ...base, annotations: { a: 1, [FN_ENDPOINT_ANNOTATION]: 'http://x/invoke/y' } },
    want: fresh({ annotations: { a: 1 } }),
  },
  { name: 'client timestamps are ignored', body: { ...base, created_at: T0, updated_at: T0 }, want: fresh() },
  { name: 'a network the server allows', body: { ...base, annotations: { [NET]: 'bridge' } }, want: fresh({ annotations: { [NET]: 'bridge' } }) },
];
for (const c of createOk) {
  test(`newFn accepts: ${c.name}`, () => assert.deepEqual(newFn(c.body, ID, NOW, NETS), c.want));
}

// newFn: every rejection, with Fn's message.
const createBad: { name: string; body: unknown; err: ExpectedApiError }[] = [
  { name: 'no body', body: undefined, err: badRequestError('Invalid JSON: the request body is empty') },
  { name: 'array body', body: [base], err: badRequestError('Invalid JSON: the request body must be a JSON object') },
  { name: 'id supplied', body: { ...base, id: 'x' }, err: badRequestError('ID cannot be provided for Fn creation') },
  { name: 'no app_id', body: { name: 'myfn', image: IMAGE }, err: badRequestError('Missing AppID on Fn') },
  { name: 'empty app_id', body: { ...base, app_id: '' }, err: badRequestError('Missing AppID on Fn') },
  { name: 'no app_id is reported before no name', body: {}, err: badRequestError('Missing AppID on Fn') },
  { name: 'no name', body: { app_id: 'app1', image: IMAGE }, err: badRequestError('Missing Fn name') },
  { name: 'empty name', body: { ...base, name: '' }, err: badRequestError('Missing Fn name') },
  { name: 'null name', body: { ...base, name: null }, err: badRequestError('Missing Fn name') },
  {
    name: '256-byte name',
    body: { ...base, name: 'f'.repeat(256) },
    err: badRequestError('Fn name must be 255 characters or less'),
  },
  { name: 'name with a space', body: { ...base, name: 'my fn' }, err: badRequestError(NAME_INVALID) },
  { name: 'name with a slash', body: { ...base, name: 'a/b' }, err: badRequestError(NAME_INVALID) },
  { name: 'name with a percent', body: { ...base, name: 'a%b' }, err: badRequestError(NAME_INVALID) },
  { name: 'name with a question mark', body: { ...base, name: 'a?b' }, err: badRequestError(NAME_INVALID) },
  { name: 'non-ASCII name', body: { ...base, name: 'café' }, err: badRequestError(NAME_INVALID) },
  { name: 'no image', body: { name: 'myfn', app_id: 'app1' }, err: badRequestError('Missing image on Fn') },
  { name: 'empty image', body: { ...base, image: '' }, err: badRequestError('Missing image on Fn') },
  // Fn stores these and fails every call; Docker's reference grammar says no at once here.
  ...([
    ['bad image with spaces', 'it contains whitespace'],
    ['UPPER/Case:1', 'repository path component "UPPER" must be lowercase'],
    ['hello:', 'the tag after ":" is empty'],
    ['hello@sha256:abc', ''],
  ] as const).map(([image, why]) => ({
    name: `an image Docker refuses: ${image}`,
    body: { ...base, image },
    err: badRequestError(new RegExp(`^${esc(`Invalid image on Fn: ${JSON.stringify(image)} is not an image reference Docker takes: ${why}`)}`)),
  })),
  { name: 'timeout 301', body: { ...base, timeout: 301 }, err: badRequestError(TIMEOUT_ERROR) },
  { name: 'negative timeout', body: { ...base, timeout: -1 }, err: badRequestError(TIMEOUT_ERROR) },
  { name: 'idle_timeout 3601', body: { ...base, idle_timeout: 3601 }, err: badRequestError(IDLE_ERROR) },
  { name: 'negative idle_timeout', body: { ...base, idle_timeout: -1 }, err: badRequestError(IDLE_ERROR) },
  { name: 'memory 8193', body: { ...base, memory: 8193 }, err: badRequestError(MEMORY_ERROR) },
  { name: 'negative memory', body: { ...base, memory: -1 }, err: badRequestError(MEMORY_ERROR) },
  { name: 'format bogus', body: { ...base, format: 'bogus' }, err: badRequestError(FORMAT_ERROR('bogus')) },
  { name: 'format LAMBDA', body: { ...base, format: 'LAMBDA' }, err: badRequestError(FORMAT_ERROR('LAMBDA')) },
  { name: 'format HTTP (names are exact, as Fn)', body: { ...base, format: 'HTTP' }, err: badRequestError(FORMAT_ERROR('HTTP')) },
  { name: 'format http-json', body: { ...base, format: 'http-json' }, err: badRequestError(FORMAT_ERROR('http-json')) },
  {
    name: 'fractional memory',
    body: { ...base, memory: 1.5 },
    err: badRequestError('Invalid JSON: field "memory": memory must be an integer', 'memory'),
  },
  {
    name: 'string memory',
    body: { ...base, memory: '128' },
    err: badRequestError('Invalid JSON: field "memory": memory must be an integer', 'memory'),
  },
  {
    name: 'string timeout',
    body: { ...base, timeout: 'x' },
    err: badRequestError('Invalid JSON: field "timeout": timeout must be an integer', 'timeout'),
  },
  {
    name: 'fractional idle_timeout',
    body: { ...base, idle_timeout: 2.5 },
    err: badRequestError('Invalid JSON: field "idle_timeout": idle_timeout must be an integer', 'idle_timeout'),
  },
  { name: 'numeric image', body: { ...base, image: 1 }, err: badRequestError(/^Invalid JSON: field "image": /, 'image') },
  {
    name: 'non-string config value',
    body: { ...base, config: { A: true } },
    err: badRequestError('Invalid JSON: field "config.A": config values must be strings', 'config.A'),
  },
  {
    name: 'annotation key too long',
    body: { ...base, annotations: { ['k'.repeat(129)]: 1 } },
    err: badRequestError('Invalid annotation key length, annotation keys may not be larger than 128 bytes'),
  },
  { name: 'a network that is not a string', body: { ...base, annotations: { [NET]: 7 } }, err: NET_ERROR('must be a Docker network name (a string), got 7') },
  { name: 'a network not allowed', body: { ...base, annotations: { [NET]: 'other' } }, err: NET_ERROR('network "other" is not allowed on this server') },
  { name: 'the host network', body: { ...base, annotations: { [NET]: 'host' } }, err: NET_ERROR('"host" is never allowed: it would give the fn the host\'s own network stack') },
  { name: 'another container\'s network', body: { ...base, annotations: { [NET]: 'container:db' } }, err: NET_ERROR('"container:db" is never allowed: it would give the fn another container\'s network stack') },
];
for (const c of createBad) {
  test(`newFn rejects: ${c.name}`, () => assertApiError(() => newFn(c.body, ID, NOW, NETS), c.err));
}

// parseFnPatch.
const patchOk: { name: string; body: unknown }[] = [
  { name: 'no id', body: { image: 'x' } },
  { name: 'matching id', body: { id: ID } },
  { name: 'empty id', body: { id: '' } },
  // Keys that could not be set now may be stored (before the rule, or by Fn): "" deletes them.
  { name: 'deleting config keys that could not be set', body: { config: { 'A=B': '', '': '' } } },
];
for (const c of patchOk) {
  test(`parseFnPatch accepts: ${c.name}`, () => assert.doesNotThrow(() => parseFnPatch(c.body, ID)));
}

const patchBad: { name: string; body: unknown; err: ExpectedApiError }[] = [
  {
    name: 'id differs from the path',
    body: { id: 'other' },
    err: badRequestError('Fn ID in path does not match that in body'),
  },
  { name: 'no body', body: undefined, err: badRequestError('Invalid JSON: the request body is empty') },
  {
    name: 'a config key with "="',
    body: { config: { 'A=B': 'c' } },
    err: badRequestError('Invalid JSON: field "config.A=B": config keys must be non-empty and hold no "=" (each becomes an environment variable name)', 'config.A=B'),
  },
  {
    name: 'fractional timeout',
    body: { timeout: 0.5 },
    err: badRequestError('Invalid JSON: field "timeout": timeout must be an integer', 'timeout'),
  },
];
for (const c of patchBad) {
  test(`parseFnPatch rejects: ${c.name}`, () => assertApiError(() => parseFnPatch(c.body, ID), c.err));
}

// mergeFn.
const existing: Fn = {
  id: ID,
  name: 'myfn',
  app_id: 'app1',
  image: 'img:1',
  memory: 256,
  timeout: 60,
  idle_timeout: 120,
  format: 'http-stream',
  config: { A: '1', B: '2' },
  annotations: { x: 1 },
  created_at: T0,
  updated_at: T0,
};
const merged = (change: Partial<Fn>): Fn => ({ ...structuredClone(existing), updated_at: NOW, ...change });

/** As Fn's Update(): a PUT that changes nothing leaves updated_at as it was. */
const unchanged = (): Fn => structuredClone(existing);

const mergeOk: { name: string; patch: FnPatch; want: Fn }[] = [
  { name: 'empty patch changes nothing, updated_at included', patch: {}, want: unchanged() },
  { name: 'the stored fn PUT back as read, as the fn CLI does, changes nothing', patch: structuredClone(existing), want: unchanged() },
  { name: 'the same image and memory change nothing', patch: { image: existing.image, memory: existing.memory }, want: unchanged() },
  {
    name: 'zero values keep what is there',
    patch: { image: '', memory: 0, timeout: 0, idle_timeout: 0, format: '' },
    want: unchanged(),
  },
  {
    name: 'nulls keep what is there',
    patch: { image: null, memory: null, timeout: null, idle_timeout: null, format: null, config: null },
    want: unchanged(),
  },
  { name: 'legacy format cloudevent is http-stream', patch: { format: 'cloudevent' }, want: unchanged() },
  { name: 'name and app_id are ignored', patch: { name: 'other', app_id: 'app2' }, want: unchanged() },
  { name: 'an invalid name is ignored too', patch: { name: 'bad name/x' }, want: unchanged() },
  {
    name: 'changes',
    patch: { image: 'img:2', memory: 512, timeout: 120, idle_timeout: 600, format: 'lambda' },
    want: merged({ image: 'img:2', memory: 512, timeout: 120, idle_timeout: 600, format: 'lambda' }),
  },
  {
    name: 'upper bounds',
    patch: { memory: 8192, timeout: 300, idle_timeout: 3600 },
    want: merged({ memory: 8192, timeout: 300, idle_timeout: 3600 }),
  },
  {
    name: 'config add, overwrite and "" delete',
    patch: { config: { A: '', B: 'b', C: '3' } },
    want: merged({ config: { B: 'b', C: '3' } }),
  },
  {
    name: 'annotations: null deletes, endpoint dropped, new key added',
    patch: { annotations: { x: null, y: 'z', [FN_ENDPOINT_ANNOTATION]: 'http://x' } },
    want: merged({ annotations: { y: 'z' } }),
  },
  { name: 'client timestamps are ignored', patch: { created_at: NOW, updated_at: T0 }, want: unchanged() },
  { name: 'a network the server allows', patch: { annotations: { [NET]: 'fns' } }, want: merged({ annotations: { ...existing.annotations, [NET]: 'fns' } }) },
];
// Fn's Go decoder reads a null config value into its map[string]string as "": a delete.
test('parseFnPatch then mergeFn: a config value of null deletes the key, as ""', () => {
  assert.deepEqual(mergeFn(existing, parseFnPatch({ config: { B: null } }, ID), NOW, NETS), merged({ config: { A: '1' } }));
});

for (const c of mergeOk) {
  test(`mergeFn: ${c.name}`, () => {
    const before = structuredClone(existing);
    assert.deepEqual(mergeFn(existing, c.patch, NOW, NETS), c.want);
    assert.deepEqual(existing, before, 'existing fn is not mutated');
  });
}

const mergeBad: { name: string; patch: FnPatch; err: ExpectedApiError }[] = [
  { name: 'an image Docker refuses', patch: { image: 'hello:' }, err: badRequestError('Invalid image on Fn: "hello:" is not an image reference Docker takes: the tag after ":" is empty') },
  { name: 'memory 9000', patch: { memory: 9000 }, err: badRequestError(MEMORY_ERROR) },
  { name: 'negative memory', patch: { memory: -1 }, err: badRequestError(MEMORY_ERROR) },
  { name: 'timeout 301', patch: { timeout: 301 }, err: badRequestError(TIMEOUT_ERROR) },
  { name: 'negative timeout', patch: { timeout: -5 }, err: badRequestError(TIMEOUT_ERROR) },
  { name: 'idle_timeout 3601', patch: { idle_timeout: 3601 }, err: badRequestError(IDLE_ERROR) },
  { name: 'format bogus', patch: { format: 'bogus' }, err: badRequestError(FORMAT_ERROR('bogus')) },
  { name: 'a network not allowed', patch: { annotations: { [NET]: 'other' } }, err: NET_ERROR('network "other" is not allowed on this server') },
  {
    name: 'empty annotation key',
    patch: { annotations: { '': 'v' } },
    err: badRequestError(
      'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace',
    ),
  },
];
for (const c of mergeBad) {
  test(`mergeFn rejects: ${c.name}`, () => assertApiError(() => mergeFn(existing, c.patch, NOW, NETS), c.err));
}

// The merged fn is what is checked: a network the server stopped allowing blocks any PUT until it is removed.
test('mergeFn: a stored network no longer allowed is refused, and "" removes it', () => {
  const stored = fresh({ annotations: { [NET]: 'gone' } });
  assertApiError(() => mergeFn(stored, { memory: 256 }, NOW, NETS), NET_ERROR('network "gone" is not allowed on this server'));
  assert.deepEqual(mergeFn(stored, { annotations: { [NET]: '' } }, NOW, NETS).annotations, {});
});
