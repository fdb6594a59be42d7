import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storedPrefix, withoutCutCharacter } from '../../agent/stored-prefix.js';

const hex = (s: string): Buffer => Buffer.from(s.replaceAll(' ', ''), 'hex');

/** What the store keeps of `raw`, and its size: UTF-8 decoded, NUL as U+FFFD. */
const stored = (raw: Buffer): string => raw.toString('utf8').replaceAll('\u0000', '\uFFFD');
const storedBytes = (raw: Buffer): number => Buffer.byteLength(stored(raw));

const cases: { name: string; raw: Buffer; max: number; prefix: number }[] = [
  { name: 'nothing', raw: hex(''), max: 0, prefix: 0 },
  { name: 'ASCII under the cap is whole', raw: Buffer.from('hello'), max: 10, prefix: 5 },
  { name: 'ASCII is cut at the cap', raw: Buffer.from('hello'), max: 3, prefix: 3 },
  { name: 'a zero cap keeps nothing', raw: Buffer.from('hello'), max: 0, prefix: 0 },
  { name: 'a valid character is kept whole or not at all', raw: Buffer.from('a€b'), max: 3, prefix: 1 },
  { name: 'a valid character that fits exactly', raw: Buffer.from('a€b'), max: 4, prefix: 4 },
  { name: 'an emoji is never split', raw: Buffer.from('😀😀'), max: 7, prefix: 4 },
  { name: 'each invalid byte stores as 3 bytes', raw: hex('ff ff ff ff'), max: 6, prefix: 2 },
  { name: 'an invalid byte that does not fit is left out', raw: hex('61 ff'), max: 3, prefix: 1 },
  { name: 'NUL stores as 3 bytes', raw: hex('00 00 61'), max: 6, prefix: 2 },
  { name: 'NUL that fits', raw: hex('61 00'), max: 4, prefix: 2 },
  { name: 'a truncated sequence at the end is one U+FFFD', raw: hex('61 e2 82'), max: 4, prefix: 3 },
  { name: 'a truncated sequence that does not fit is left out whole', raw: hex('61 e2 82'), max: 3, prefix: 1 },
  { name: 'a truncated sequence before ASCII is one U+FFFD', raw: hex('e2 82 61'), max: 3, prefix: 2 },
  { name: 'an overlong lead is one U+FFFD per byte', raw: hex('c0 80'), max: 3, prefix: 1 },
  { name: 'E0 then a too-low continuation: two U+FFFD', raw: hex('e0 80 80'), max: 6, prefix: 2 },
  { name: 'an encoded surrogate (CESU) is three U+FFFD', raw: hex('ed a0 80'), max: 6, prefix: 2 },
  { name: 'past U+10FFFF: one U+FFFD per byte', raw: hex('f4 90 80 80'), max: 9, prefix: 3 },
  { name: 'a stray continuation byte', raw: hex('80 61'), max: 4, prefix: 2 },
  { name: 'U+FFFD itself is three bytes, kept as such', raw: hex('ef bf bd 61'), max: 3, prefix: 3 },
];

for (const c of cases) {
  test(`storedPrefix: ${c.name}`, () => {
    const n = storedPrefix(c.raw, c.max);
    assert.equal(n, c.prefix);
    assert.ok(storedBytes(c.raw.subarray(0, n)) <= c.max);
  });
}

test('storedPrefix agrees with Node\'s decoder on random bytes: the prefix decodes to the start of the whole, within the cap, and is the longest', () => {
  // Bytes biased to UTF-8's leads, continuations, NUL and ASCII, so every path is taken.
  const pool = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff];
  let seed = 17;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 2000; round++) {
    const raw = Buffer.from(Array.from({ length: rand(24) }, () => pool[rand(pool.length)]!));
    const whole = stored(raw);
    for (let max = 0; max <= storedBytes(raw) + 1; max++) {
      const n = storedPrefix(raw, max);
      const text = stored(raw.subarray(0, n));
      assert.ok(Buffer.byteLength(text) <= max, `${raw.toString('hex')} max ${max}: within the cap`);
      assert.ok(whole.startsWith(text), `${raw.toString('hex')} max ${max}: the start of the whole`);
      if (n < raw.length) {
        // The next step, however long, would not fit: the prefix is the longest.
        for (let m = n + 1; m <= raw.length; m++) {
          const longer = stored(raw.subarray(0, m));
          if (whole.startsWith(longer) && longer.length > text.length) {
            assert.ok(Buffer.byteLength(longer) > max, `${raw.toString('hex')} max ${max}: ${m} bytes would fit too`);
            break;
          }
        }
      }
    }
  }
});

const cutCases: { name: string; raw: Buffer; length: number }[] = [
  { name: 'empty', raw: hex(''), length: 0 },
  { name: 'ASCII', raw: hex('61 62'), length: 2 },
  { name: 'a whole 4-byte character', raw: hex('61 F0 9F 98 80'), length: 5 },
  { name: 'its first 3 bytes', raw: hex('61 F0 9F 98'), length: 1 },
  { name: 'its first byte', raw: hex('61 F0'), length: 1 },
  { name: 'a 3-byte character cut after 2', raw: hex('E2 82'), length: 0 },
  { name: 'a whole 2-byte character', raw: hex('C3 A9'), length: 2 },
  { name: 'a lone continuation byte after ASCII is not a cut character', raw: hex('61 80'), length: 2 },
];
for (const c of cutCases) {
  test(`withoutCutCharacter: ${c.name}`, () => assert.equal(withoutCutCharacter(c.raw), c.length));
}
