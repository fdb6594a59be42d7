import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Trigger } from '../../store/types.js';
import { mergeTrigger, newTrigger, parseTriggerPatch } from '../../api/models/trigger.js';
import { TRIGGER_TYPES } from '../../api/contract/names.js';
import { TRIGGER_ENDPOINT_ANNOTATION } from '../../api/models/common.js';
import { assertApiError, badRequestError, type ExpectedApiError } from './assert-api-error.js';

type TriggerPatch = Parameters<typeof mergeTrigger>[1];

const ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const T0 = '2024-01-01T00:00:00.000Z';
const NOW = '2024-06-01T12:00:00.000Z';
const base = { name: 'mytrigger', app_id: 'app1', fn_id: 'fn1', type: 'http', source: '/hello' };

const NAME_INVALID = 'Invalid name for Trigger';
const NAME_TOO_LONG = 'Trigger name must be 255 characters or less';
const TYPE_ERROR = 'Trigger Type Not Supported';
const PREFIX_ERROR = "Missing Trigger Source Prefix '/'";

const fresh = (extra: Partial<Trigger> = {}): Trigger => ({
  id: ID, ...base, annotations: {}, created_at: NOW, updated_at: NOW, ...extra,
});

test('the only trigger type is http', () => assert.deepEqual(TRIGGER_TYPES, ['http']));

const createOk: { name: string; body: Record<string, unknown>; want: Trigger }[] = [
  { name: 'all fields', body: base, want: fresh() },
  { name: 'nulls for id and annotations', body: { ...base, id: null, annotations: null }, want: fresh() },
  { name: 'empty id is not an id', body: { ...base, id: '' }, want: fresh() },
  { name: 'unicode name', body: { ...base, name: 'déclencheur_1' }, want: fresh({ name: 'déclencheur_1' }) },
  { name: '255-byte name', body: { ...base, name: 't'.repeat(255) }, want: fresh({ name: 't'.repeat(255) }) },
  { name: 'root source', body: { ...base, source: '/' }, want: fresh({ source: '/' }) },
  { name: 'nested source', body: { ...base, source: '/a/b/c' }, want: fresh({ source: '/a/b/c' }) },
  {
    name: 'annotations, with the endpoint annotation dropped',
    body: { ...base, annotations: { a: 'b', [TRIGGER_ENDPOINT_ANNOTATION]: 'http://x/t/app/hello' } },
    want: fresh({ annotations: { a: 'b' } }),
  },
  { name: 'client timestamps are ignored', body: { ...base, created_at: T0, updated_at: T0 }, want: fresh() },
];
for (const c of createOk) {
  test(`newTrigger accepts: ${c.name}`, () => assert.deepEqual(newTrigger(c.body, ID, NOW), c.want));
}

const createBad: { name: string; body: unknown; err: ExpectedApiError }[] = [
  { name: 'no body', body: undefined, err: badRequestError('Invalid JSON: the request body is empty') },
  { name: 'string body', body: 'x', err: badRequestError('Invalid JSON: the request body must be a JSON object') },
  {
    name: 'id supplied',
    body: { ...base, id: 'x' },
    err: badRequestError('ID cannot be provided for Trigger creation'),
  },
  { name: 'no app_id', body: { ...base, app_id: undefined }, err: badRequestError('Missing App ID on Trigger') },
  { name: 'no app_id is reported first', body: {}, err: badRequestError('Missing App ID on Trigger') },
  { name: 'no name', body: { ...base, name: undefined }, err: badRequestError('Missing name on Trigger') },
  { name: 'empty name', body: { ...base, name: '' }, err: badRequestError('Missing name on Trigger') },
  { name: '256-byte name', body: { ...base, name: 't'.repeat(256) }, err: badRequestError(NAME_TOO_LONG) },
  { name: '256 bytes of 2-byte chars', body: { ...base, name: 'é'.repeat(128) }, err: badRequestError(NAME_TOO_LONG) },
  { name: 'name with a space', body: { ...base, name: 'my trigger' }, err: badRequestError(NAME_INVALID) },
  { name: 'name with a slash', body: { ...base, name: 'a/b' }, err: badRequestError(NAME_INVALID) },
  { name: 'name with a percent', body: { ...base, name: 'a%b' }, err: badRequestError(NAME_INVALID) },
  { name: 'name with a dot', body: { ...base, name: 'a.b' }, err: badRequestError(NAME_INVALID) },
  { name: 'no fn_id', body: { ...base, fn_id: undefined }, err: badRequestError('Missing Fn ID on Trigger') },
  { name: 'empty fn_id', body: { ...base, fn_id: '' }, err: badRequestError('Missing Fn ID on Trigger') },
  { name: 'no type', body: { ...base, type: undefined }, err: badRequestError(TYPE_ERROR) },
  { name: 'empty type', body: { ...base, type: '' }, err: badRequestError(TYPE_ERROR) },
  { name: 'type cron', body: { ...base, type: 'cron' }, err: badRequestError(TYPE_ERROR) },
  { name: 'type HTTP', body: { ...base, type: 'HTTP' }, err: badRequestError(TYPE_ERROR) },
  { name: 'no source', body: { ...base, source: undefined }, err: badRequestError('Missing Trigger Source') },
  { name: 'empty source', body: { ...base, source: '' }, err: badRequestError('Missing Trigger Source') },
  { name: 'source without a leading /', body: { ...base, source: 'hello' }, err: badRequestError(PREFIX_ERROR) },
  {
    name: 'numeric type',
    body: { ...base, type: 1 },
    err: badRequestError(/^Invalid JSON: field "type": /, 'type'),
  },
  {
    name: 'null annotation value',
    body: { ...base, annotations: { a: null } },
    err: badRequestError(
      'Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays: "a" is null',
    ),
  },
];
for (const c of createBad) {
  test(`newTrigger rejects: ${c.name}`, () => assertApiError(() => newTrigger(c.body, ID, NOW), c.err));
}

// parseTriggerPatch.
const patchOk: { name: string; body: unknown }[] = [
  { name: 'no id', body: { source: '/x' } },
  { name: 'matching id', body: { id: ID } },
  { name: 'null id', body: { id: null } },
];
for (const c of patchOk) {
  test(`parseTriggerPatch accepts: ${c.name}`, () => assert.doesNotThrow(() => parseTriggerPatch(c.body, ID)));
}

const patchBad: { name: string; body: unknown; err: ExpectedApiError }[] = [
  { name: 'id differs from the path', body: { id: 'other' }, err: badRequestError('ID in path does not match ID in body') },
  { name: 'no body', body: undefined, err: badRequestError('Invalid JSON: the request body is empty') },
  { name: 'array body', body: [], err: badRequestError('Invalid JSON: the request body must be a JSON object') },
];
for (const c of patchBad) {
  test(`parseTriggerPatch rejects: ${c.name}`, () => assertApiError(() => parseTriggerPatch(c.body, ID), c.err));
}

// mergeTrigger.
const existing: Trigger = {
  id: ID,
  name: 'mytrigger',
  app_id: 'app1',
  fn_id: 'fn1',
  type: 'http',
  source: '/hello',
  annotations: { x: 1 },
  created_at: T0,
  updated_at: T0,
};
const merged = (change: Partial<Trigger>): Trigger => ({ ...structuredClone(existing), updated_at: NOW, ...change });

/** As Fn's Update(): a PUT that changes nothing leaves updated_at as it was. */
const unchanged = (): Trigger => structuredClone(existing);

const mergeOk: { name: string; patch: TriggerPatch; want: Trigger }[] = [
  { name: 'empty patch changes nothing, updated_at included', patch: {}, want: unchanged() },
  { name: 'the stored trigger PUT back as read changes nothing', patch: structuredClone(existing), want: unchanged() },
  { name: 'the same source changes nothing', patch: { source: existing.source }, want: unchanged() },
  { name: 'type is kept', patch: { type: 'cron' }, want: unchanged() },
  { name: 'app_id is kept', patch: { app_id: 'app2' }, want: unchanged() },
  { name: 'empty values keep what is there', patch: { name: '', fn_id: '', source: '' }, want: unchanged() },
  { name: 'nulls keep what is there', patch: { name: null, fn_id: null, source: null }, want: unchanged() },
  { name: 'rename', patch: { name: 'renamed' }, want: merged({ name: 'renamed' }) },
  { name: 'new fn_id', patch: { fn_id: 'fn2' }, want: merged({ fn_id: 'fn2' }) },
  { name: 'new source', patch: { source: '/new/path' }, want: merged({ source: '/new/path' }) },
  {
    name: 'annotations: "" deletes, endpoint dropped, new key added',
    patch: { annotations: { x: '', y: 2, [TRIGGER_ENDPOINT_ANNOTATION]: 'http://x' } },
    want: merged({ annotations: { y: 2 } }),
  },
  { name: 'client timestamps are ignored', patch: { created_at: NOW, updated_at: T0 }, want: unchanged() },
];
for (const c of mergeOk) {
  test(`mergeTrigger: ${c.name}`, () => {
    const before = structuredClone(existing);
    assert.deepEqual(mergeTrigger(existing, c.patch, NOW), c.want);
    assert.deepEqual(existing, before, 'existing trigger is not mutated');
  });
}

const mergeBad: { name: string; patch: TriggerPatch; err: ExpectedApiError }[] = [
  { name: 'source without a leading /', patch: { source: 'nope' }, err: badRequestError(PREFIX_ERROR) },
  { name: 'invalid name', patch: { name: 'bad name' }, err: badRequestError(NAME_INVALID) },
  { name: 'name too long', patch: { name: 't'.repeat(256) }, err: badRequestError(NAME_TOO_LONG) },
  {
    name: 'annotation value too long',
    patch: { annotations: { big: 'x'.repeat(511) } },
    err: badRequestError(
      'Invalid annotation value length, annotation values may not be larger than 512 bytes when serialized as JSON',
    ),
  },
];
for (const c of mergeBad) {
  test(`mergeTrigger rejects: ${c.name}`, () => assertApiError(() => mergeTrigger(existing, c.patch, NOW), c.err));
}
