import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import type { Annotations, Config } from '../../store/types.js';
import {
  checkFnName, checkWordName, configSchema, FN_ENDPOINT_ANNOTATION, MAX_NAME_BYTES, mergeAnnotations, mergeConfig,
  type NameCheck, parseBody, stampIfChanged, TRIGGER_ENDPOINT_ANNOTATION, validateAnnotations, withoutEndpoints,
} from '../../api/models/common.js';
import { assertApiError, badRequestError } from './assert-api-error.js';

const KEY_ERROR = 'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace';
const KEY_LENGTH_ERROR = 'Invalid annotation key length, annotation keys may not be larger than 128 bytes';
const VALUE_ERROR =
  'Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays';
const VALUE_LENGTH_ERROR =
  'Invalid annotation value length, annotation values may not be larger than 512 bytes when serialized as JSON';
const COUNT_ERROR =
  'Invalid annotation change, new key(s) exceed maximum permitted number of annotations keys (100)';

const manyKeys = (n: number): Annotations => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

test('MAX_NAME_BYTES is 255', () => assert.equal(MAX_NAME_BYTES, 255));

// checkWordName: app and trigger names.
const wordNames: { name: string; input: string | undefined; want: NameCheck }[] = [
  { name: 'undefined', input: undefined, want: 'missing' },
  { name: 'empty', input: '', want: 'missing' },
  { name: 'lowercase', input: 'myapp', want: 'ok' },
  { name: 'mixed case and digits', input: 'MyApp42', want: 'ok' },
  { name: 'digits only', input: '123', want: 'ok' },
  { name: 'hyphen and underscore', input: 'my-app_v2', want: 'ok' },
  { name: 'single hyphen', input: '-', want: 'ok' },
  { name: 'single underscore', input: '_', want: 'ok' },
  { name: 'accented latin', input: 'café', want: 'ok' },
  { name: 'cyrillic', input: 'привет', want: 'ok' },
  { name: 'greek', input: 'Ωμέγα', want: 'ok' },
  { name: 'CJK', input: '日本語', want: 'ok' },
  { name: 'arabic-indic digits', input: '١٢٣', want: 'ok' },
  { name: 'superscript digit (\\p{N})', input: 'x²', want: 'ok' },
  { name: '255 ASCII bytes', input: 'a'.repeat(255), want: 'ok' },
  { name: '256 ASCII bytes', input: 'a'.repeat(256), want: 'too-long' },
  { name: '255 bytes of 2-byte chars plus ASCII (128 chars)', input: 'é'.repeat(127) + 'a', want: 'ok' },
  { name: '256 bytes of 2-byte chars (128 chars)', input: 'é'.repeat(128), want: 'too-long' },
  { name: '255 bytes of 3-byte chars (85 chars)', input: '日'.repeat(85), want: 'ok' },
  { name: '258 bytes of 3-byte chars (86 chars)', input: '日'.repeat(86), want: 'too-long' },
  { name: 'too long wins over invalid chars', input: ' '.repeat(256), want: 'too-long' },
  { name: 'space', input: 'my app', want: 'invalid' },
  { name: 'slash', input: 'a/b', want: 'invalid' },
  { name: 'percent', input: 'a%b', want: 'invalid' },
  { name: 'dot', input: 'a.b', want: 'invalid' },
  { name: 'colon', input: 'a:b', want: 'invalid' },
  { name: 'at sign', input: 'a@b', want: 'invalid' },
  { name: 'tab', input: 'a\tb', want: 'invalid' },
  { name: 'newline', input: 'a\n', want: 'invalid' },
  { name: 'emoji', input: '\u{1F600}', want: 'invalid' },
  { name: 'combining mark', input: 'e\u0301', want: 'invalid' },
];
for (const c of wordNames) {
  test(`checkWordName: ${c.name} -> ${c.want}`, () => assert.equal(checkWordName(c.input), c.want));
}

// checkFnName: what url.PathEscape leaves unchanged.
const fnNames: { name: string; input: string | undefined; want: NameCheck }[] = [
  { name: 'undefined', input: undefined, want: 'missing' },
  { name: 'empty', input: '', want: 'missing' },
  { name: 'lowercase', input: 'myfn', want: 'ok' },
  { name: 'mixed case and digits', input: 'MyFn42', want: 'ok' },
  { name: 'unreserved marks', input: 'my-fn_v1.2~beta', want: 'ok' },
  { name: 'dollar', input: 'a$b', want: 'ok' },
  { name: 'ampersand', input: 'a&b', want: 'ok' },
  { name: 'plus', input: 'a+b', want: 'ok' },
  { name: 'colon', input: 'a:b', want: 'ok' },
  { name: 'equals', input: 'a=b', want: 'ok' },
  { name: 'at sign', input: 'a@b', want: 'ok' },
  { name: '255 bytes', input: 'f'.repeat(255), want: 'ok' },
  { name: '256 bytes', input: 'f'.repeat(256), want: 'too-long' },
  { name: '256 bytes of 2-byte chars', input: 'é'.repeat(128), want: 'too-long' },
  { name: 'space', input: 'my fn', want: 'invalid' },
  { name: 'slash', input: 'a/b', want: 'invalid' },
  { name: 'percent', input: 'a%b', want: 'invalid' },
  { name: 'question mark', input: 'a?b', want: 'invalid' },
  { name: 'hash', input: 'a#b', want: 'invalid' },
  { name: 'semicolon', input: 'a;b', want: 'invalid' },
  { name: 'comma', input: 'a,b', want: 'invalid' },
  { name: 'exclamation', input: 'a!b', want: 'invalid' },
  { name: 'asterisk', input: 'a*b', want: 'invalid' },
  { name: 'quote', input: "a'b", want: 'invalid' },
  { name: 'parentheses', input: 'a(b)', want: 'invalid' },
  { name: 'accented latin', input: 'café', want: 'invalid' },
  { name: 'CJK', input: '日本', want: 'invalid' },
];
for (const c of fnNames) {
  test(`checkFnName: ${c.name} -> ${c.want}`, () => assert.equal(checkFnName(c.input), c.want));
}

// mergeConfig: keys overwrite, "" deletes.
const configMerges: { name: string; base: Config; patch: Config | undefined; want: Config }[] = [
  { name: 'no patch', base: { a: '1' }, patch: undefined, want: { a: '1' } },
  { name: 'empty patch', base: { a: '1' }, patch: {}, want: { a: '1' } },
  { name: 'adds a key', base: { a: '1' }, patch: { b: '2' }, want: { a: '1', b: '2' } },
  { name: 'overwrites a key', base: { a: '1' }, patch: { a: '9' }, want: { a: '9' } },
  { name: '"" deletes a key', base: { a: '1', b: '2' }, patch: { a: '' }, want: { b: '2' } },
  { name: '"" for an absent key is a no-op', base: { a: '1' }, patch: { z: '' }, want: { a: '1' } },
  {
    name: 'add, overwrite and delete together',
    base: { a: '1', b: '2', c: '3' },
    patch: { a: '', b: 'B', d: '4' },
    want: { b: 'B', c: '3', d: '4' },
  },
  { name: 'into an empty base, "" values are dropped', base: {}, patch: { a: '1', b: '' }, want: { a: '1' } },
  { name: 'whitespace is a value, not a delete', base: { a: '1' }, patch: { a: ' ' }, want: { a: ' ' } },
];
for (const c of configMerges) {
  test(`mergeConfig: ${c.name}`, () => {
    const base = structuredClone(c.base);
    assert.deepEqual(mergeConfig(base, c.patch), c.want);
    assert.deepEqual(base, c.base, 'base is not mutated');
  });
}

// mergeAnnotations: keys overwrite, "" and null delete, endpoint annotations never come from input.
const annotationMerges: { name: string; base: Annotations; patch: Annotations | undefined; want: Annotations }[] = [
  { name: 'no patch', base: { a: 1 }, patch: undefined, want: { a: 1 } },
  { name: 'empty patch', base: { a: 1 }, patch: {}, want: { a: 1 } },
  {
    name: 'adds string, number, object and array values',
    base: {},
    patch: { s: 'x', n: 0, o: { k: 'v' }, l: [1, 2] },
    want: { s: 'x', n: 0, o: { k: 'v' }, l: [1, 2] },
  },
  { name: 'overwrites a key', base: { a: 'old' }, patch: { a: { new: true } }, want: { a: { new: true } } },
  { name: '"" deletes a key', base: { a: 1, b: 2 }, patch: { a: '' }, want: { b: 2 } },
  { name: 'null deletes a key', base: { a: 1, b: 2 }, patch: { b: null }, want: { a: 1 } },
  { name: 'deleting an absent key is a no-op', base: { a: 1 }, patch: { z: null, y: '' }, want: { a: 1 } },
  {
    name: 'fn endpoint annotation is dropped from the patch',
    base: { a: 1 },
    patch: { [FN_ENDPOINT_ANNOTATION]: 'http://host/invoke/x', b: 2 },
    want: { a: 1, b: 2 },
  },
  {
    name: 'trigger endpoint annotation is dropped from the patch',
    base: { a: 1 },
    patch: { [TRIGGER_ENDPOINT_ANNOTATION]: 'http://host/t/app/x' },
    want: { a: 1 },
  },
  {
    name: 'a similar but different key is kept',
    base: {},
    patch: { 'fnproject.io/fn/other': 'x' },
    want: { 'fnproject.io/fn/other': 'x' },
  },
];
for (const c of annotationMerges) {
  test(`mergeAnnotations: ${c.name}`, () => {
    const base = structuredClone(c.base);
    assert.deepEqual(mergeAnnotations(base, c.patch), c.want);
    assert.deepEqual(base, c.base, 'base is not mutated');
  });
}

test('endpoint annotation names are Fn\'s', () => {
  assert.equal(FN_ENDPOINT_ANNOTATION, 'fnproject.io/fn/invokeEndpoint');
  assert.equal(TRIGGER_ENDPOINT_ANNOTATION, 'fnproject.io/trigger/httpEndpoint');
});

test('withoutEndpoints drops both endpoint annotations and keeps the rest', () => {
  const input = { [FN_ENDPOINT_ANNOTATION]: 'a', [TRIGGER_ENDPOINT_ANNOTATION]: 'b', keep: 'c' };
  assert.deepEqual(withoutEndpoints(input), { keep: 'c' });
  assert.equal(Object.keys(input).length, 3, 'input is not mutated');
});

// validateAnnotations.
const validAnnotations: { name: string; a: Annotations }[] = [
  { name: 'empty', a: {} },
  { name: 'string value', a: { key: 'value' } },
  { name: 'number value, including 0', a: { zero: 0, n: 1.5 } },
  { name: 'object and array values', a: { o: { a: 1 }, l: ['x'] } },
  { name: 'key with punctuation', a: { 'fnproject.io/some-key_1:x~!': 'v' } },
  { name: 'key of 128 bytes', a: { ['k'.repeat(128)]: 'v' } },
  { name: 'string value serializing to 512 bytes', a: { k: 'x'.repeat(510) } },
  { name: '2-byte chars serializing to 512 bytes', a: { k: 'é'.repeat(255) } },
  { name: '100 keys', a: manyKeys(100) },
];
for (const c of validAnnotations) {
  test(`validateAnnotations accepts: ${c.name}`, () => assert.doesNotThrow(() => validateAnnotations(c.a)));
}

const invalidAnnotations: { name: string; a: Annotations; message: string }[] = [
  { name: 'empty key', a: { '': 'v' }, message: KEY_ERROR },
  { name: 'key with a space', a: { 'a b': 'v' }, message: KEY_ERROR },
  { name: 'key with a tab', a: { 'a\tb': 'v' }, message: KEY_ERROR },
  { name: 'key with a newline', a: { 'a\n': 'v' }, message: KEY_ERROR },
  { name: 'non-ASCII key', a: { 'ké': 'v' }, message: KEY_ERROR },
  { name: 'key with DEL', a: { 'a\x7f': 'v' }, message: KEY_ERROR },
  { name: 'key of 129 bytes', a: { ['k'.repeat(129)]: 'v' }, message: KEY_LENGTH_ERROR },
  { name: 'empty string value', a: { k: '' }, message: `${VALUE_ERROR}: "k" is ""` },
  { name: 'null value', a: { 'a.io/big': null }, message: `${VALUE_ERROR}: "a.io/big" is null` },
  { name: 'string value serializing to 513 bytes', a: { k: 'x'.repeat(511) }, message: VALUE_LENGTH_ERROR },
  { name: '2-byte chars serializing to 514 bytes', a: { k: 'é'.repeat(256) }, message: VALUE_LENGTH_ERROR },
  { name: 'object value over 512 bytes', a: { k: { big: 'x'.repeat(600) } }, message: VALUE_LENGTH_ERROR },
  { name: 'array value over 512 bytes', a: { k: Array.from({ length: 300 }, () => 1) }, message: VALUE_LENGTH_ERROR },
  { name: '101 keys', a: manyKeys(101), message: COUNT_ERROR },
];
for (const c of invalidAnnotations) {
  test(`validateAnnotations rejects: ${c.name}`, () => {
    assertApiError(() => validateAnnotations(c.a), badRequestError(c.message));
  });
}

// parseBody.
const schema = z.object({
  name: z.string().nullish(),
  n: z.number().nullish(),
  config: configSchema.nullish(),
});

const bodiesOk: { name: string; body: unknown; want: z.infer<typeof schema> }[] = [
  { name: 'empty object', body: {}, want: {} },
  { name: 'fields', body: { name: 'a', n: 1, config: { k: 'v' } }, want: { name: 'a', n: 1, config: { k: 'v' } } },
  { name: 'nulls', body: { name: null, n: null }, want: { name: null, n: null } },
  { name: 'unknown fields are dropped', body: { name: 'a', extra: 1 }, want: { name: 'a' } },
];
for (const c of bodiesOk) {
  test(`parseBody accepts: ${c.name}`, () => assert.deepEqual(parseBody(schema, c.body), c.want));
}

const NOT_OBJECT = 'Invalid JSON: the request body must be a JSON object';
const bodiesBad: { name: string; body: unknown; message: string | RegExp; fields: string | null }[] = [
  { name: 'undefined', body: undefined, message: 'Invalid JSON: the request body is empty', fields: null },
  { name: 'null', body: null, message: NOT_OBJECT, fields: null },
  { name: 'empty array', body: [], message: NOT_OBJECT, fields: null },
  { name: 'array of objects', body: [{ name: 'a' }], message: NOT_OBJECT, fields: null },
  { name: 'string', body: 'name', message: NOT_OBJECT, fields: null },
  { name: 'number', body: 42, message: NOT_OBJECT, fields: null },
  { name: 'boolean', body: true, message: NOT_OBJECT, fields: null },
  { name: 'number for a string field', body: { name: 1 }, message: /^Invalid JSON: field "name": /, fields: 'name' },
  { name: 'string for a number field', body: { n: '1' }, message: /^Invalid JSON: field "n": /, fields: 'n' },
  { name: 'array for a record', body: { config: ['a'] }, message: /^Invalid JSON: field "config": /, fields: 'config' },
  {
    name: 'non-string config value names the nested field',
    body: { config: { k: 1 } },
    message: 'Invalid JSON: field "config.k": config values must be strings',
    fields: 'config.k',
  },
];
for (const c of bodiesBad) {
  test(`parseBody rejects: ${c.name}`, () => {
    assertApiError(() => parseBody(schema, c.body), badRequestError(c.message, c.fields));
  });
}

// stampIfChanged: Fn's `if !x.Equals(original) { x.UpdatedAt = now }`.
{
  const T0 = '2024-01-01T00:00:00.000Z';
  const NOW = '2024-06-01T12:00:00.000Z';
  type Thing = { name: string; config: Record<string, string>; annotations: Record<string, unknown>; opt?: string; created_at: string; updated_at: string };
  const stored: Thing = { name: 'a', config: { A: '1', B: '2' }, annotations: { x: { deep: [1, 2] } }, opt: 'o', created_at: T0, updated_at: T0 };
  const cases: { name: string; merged: Thing; want: string }[] = [
    { name: 'identical', merged: structuredClone(stored), want: T0 },
    { name: 'only timestamps differ', merged: { ...structuredClone(stored), created_at: NOW, updated_at: NOW }, want: T0 },
    { name: 'same config in another key order', merged: { ...structuredClone(stored), config: { B: '2', A: '1' } }, want: T0 },
    { name: 'a config value changed', merged: { ...structuredClone(stored), config: { A: '1', B: '3' } }, want: NOW },
    { name: 'a config key added', merged: { ...structuredClone(stored), config: { A: '1', B: '2', C: '3' } }, want: NOW },
    { name: 'a nested annotation value changed', merged: { ...structuredClone(stored), annotations: { x: { deep: [1, 3] } } }, want: NOW },
    { name: 'a number annotation became a string', merged: { ...structuredClone(stored), annotations: { x: '1' } }, want: NOW },
    { name: 'an optional field removed', merged: (({ opt: _o, ...rest }) => rest)(structuredClone(stored)), want: NOW },
    { name: 'the name changed', merged: { ...structuredClone(stored), name: 'b' }, want: NOW },
  ];
  for (const c of cases) {
    test(`stampIfChanged: ${c.name}`, () => {
      const out = stampIfChanged(stored, c.merged, NOW);
      assert.equal(out.updated_at, c.want);
      assert.deepEqual({ ...out, updated_at: c.merged.updated_at }, c.merged, 'the merged fields are kept');
    });
  }
}
