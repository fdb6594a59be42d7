import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headAndTail, headOf, tailOf } from '../../agent/cut-text.js';

const E = '😀'; // two UTF-16 units

const heads: { name: string; text: string; max: number; want: string }[] = [
  { name: 'shorter than the bound: whole', text: 'abc', max: 5, want: 'abc' },
  { name: 'exactly the bound: whole', text: 'abc', max: 3, want: 'abc' },
  { name: 'ASCII: cut at the bound', text: 'abcdef', max: 3, want: 'abc' },
  { name: 'a pair across the bound: one unit fewer', text: `ab${E}c`, max: 3, want: 'ab' },
  { name: 'a pair just inside the bound: kept', text: `a${E}c`, max: 3, want: `a${E}` },
  { name: 'a pair just past the bound: not started', text: `abc${E}`, max: 3, want: 'abc' },
  { name: 'pairs only', text: `${E}${E}${E}`, max: 3, want: E },
  { name: 'a zero bound', text: E, max: 0, want: '' },
  { name: 'a bound of one through a pair', text: E, max: 1, want: '' },
  { name: 'a lone high half at the bound is cut as any unit (the store replaces it)', text: 'a\ud800b', max: 2, want: 'a\ud800' },
];
for (const c of heads) test(`headOf: ${c.name}`, () => assert.equal(headOf(c.text, c.max), c.want));

const tails: { name: string; text: string; max: number; want: string }[] = [
  { name: 'shorter than the bound: whole', text: 'abc', max: 5, want: 'abc' },
  { name: 'ASCII: its last units', text: 'abcdef', max: 3, want: 'def' },
  { name: 'a pair across the bound: one unit fewer', text: `a${E}bc`, max: 3, want: 'bc' },
  { name: 'a pair just inside the bound: kept', text: `ab${E}c`, max: 3, want: `${E}c` },
  { name: 'pairs only', text: `${E}${E}${E}`, max: 3, want: E },
  { name: 'a bound of one through a pair', text: E, max: 1, want: '' },
  { name: 'a lone low half at the bound is cut as any unit', text: 'a\udc00b', max: 2, want: '\udc00b' },
];
for (const c of tails) test(`tailOf: ${c.name}`, () => assert.equal(tailOf(c.text, c.max), c.want));

const both: { name: string; text: string; want: string }[] = [
  { name: 'within head and tail: whole', text: 'abcde', want: 'abcde' },
  { name: 'longer: head, the mark, tail', text: 'abcdefgh', want: 'ab~fgh' },
  { name: 'a pair across either cut is left out, never halved', text: `a${E}cd${E}gh`, want: 'a~gh' },
  { name: 'pairs inside both cuts are kept', text: `${E}xxx${E}z`, want: `${E}~${E}z` },
];
for (const c of both) test(`headAndTail: ${c.name}`, () => assert.equal(headAndTail(c.text, 2, 3, '~'), c.want));

test('headAndTail: what hot-container cuts a failed start\'s output to (300 and 600) holds no lone half', () => {
  const out = headAndTail(`${'h'.repeat(299)}${E}${'m'.repeat(2000)}${E}${'t'.repeat(599)}`, 300, 600, ' … ');
  assert.equal(out, `${'h'.repeat(299)} … ${'t'.repeat(599)}`);
  assert.ok(out.isWellFormed());
});
