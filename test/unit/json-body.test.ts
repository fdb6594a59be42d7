// api/body.ts: what a parsed REST body may not hold (NUL characters, nesting JSON.stringify
// cannot store), named by where it is.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jsonBodyProblem, MAX_JSON_DEPTH } from '../../api/body.js';

/** `n` arrays, one inside the other, as JSON.parse builds them (no recursion here either). */
function nested(n: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < n; i++) v = [v];
  return v;
}

const rows: { name: string; body: unknown; problem: string | undefined }[] = [
  { name: 'no body', body: undefined, problem: undefined },
  { name: 'a plain app', body: { name: 'a', config: { A: 'b' }, annotations: { x: [1, { y: 'z' }] } }, problem: undefined },
  { name: 'numbers, booleans and null', body: { a: 1, b: true, c: null }, problem: undefined },
  { name: 'NUL in a top-level string', body: { image: 'i\u0000' }, problem: 'image contains a NUL (\\u0000) character' },
  { name: 'NUL in a config value', body: { config: { A: '\u0000' } }, problem: 'config.A contains a NUL (\\u0000) character' },
  { name: 'NUL in a key', body: { annotations: { 'k\u0000': 1 } }, problem: 'annotations.k\u0000 contains a NUL (\\u0000) character' },
  { name: 'NUL in an array item', body: { annotations: { a: ['ok', 'x\u0000'] } }, problem: 'annotations.a[1] contains a NUL (\\u0000) character' },
  { name: 'a bare string body with NUL', body: '\u0000', problem: 'the body contains a NUL (\\u0000) character' },
  { name: 'a lone high surrogate in a value', body: JSON.parse('{"image":"img\\ud800x"}'), problem: 'image contains a lone UTF-16 surrogate (not a character)' },
  { name: 'a lone low surrogate ending a config value', body: JSON.parse('{"config":{"A":"x\\udc00"}}'), problem: 'config.A contains a lone UTF-16 surrogate (not a character)' },
  { name: 'a lone surrogate in a key', body: JSON.parse('{"annotations":{"k\\ud83d":1}}'), problem: 'annotations.k\ud83d contains a lone UTF-16 surrogate (not a character)' },
  { name: 'a whole surrogate pair (an emoji) is a character', body: JSON.parse('{"image":"\\ud83d\\udd25","config":{"\\ud83d\\udd25":"🔥"}}'), problem: undefined },
  { name: 'an infinite number (1e400) in an annotation', body: JSON.parse('{"annotations":{"big":1e400}}'), problem: 'annotations.big is a number too large to store' },
  { name: 'a negative infinite number deep in an annotation', body: JSON.parse('{"annotations":{"a":[{"b":-1e999}]}}'), problem: 'annotations.a[0].b is a number too large to store' },
  { name: 'the largest finite number is a number', body: { memory: Number.MAX_VALUE }, problem: undefined },
  { name: 'the key __proto__ in config', body: JSON.parse('{"config":{"__proto__":"v"}}'), problem: 'config.__proto__ is not a key Kiln can store' },
  { name: 'the key __proto__ of the body', body: JSON.parse('{"__proto__":{"name":"x"}}'), problem: '__proto__ is not a key Kiln can store' },
  { name: "__proto__ inside an annotation's JSON value is kept as it is", body: JSON.parse('{"annotations":{"x":{"__proto__":{"y":1}},"z":[{"__proto__":1}]}}'), problem: undefined },
  { name: 'a key only like __proto__', body: { config: { __proto: 'v', proto__: 'w' } }, problem: undefined },
  { name: 'nesting at the bound', body: nested(MAX_JSON_DEPTH), problem: undefined },
  { name: 'nesting past the bound', body: nested(MAX_JSON_DEPTH + 1), problem: `nested deeper than ${MAX_JSON_DEPTH} levels` },
  { name: 'nesting far past the call stack', body: nested(1_000_000), problem: `nested deeper than ${MAX_JSON_DEPTH} levels` },
];

describe('jsonBodyProblem', () => {
  for (const r of rows) {
    test(r.name, () => assert.equal(jsonBodyProblem(r.body), r.problem));
  }
});
