import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOG_TAIL_BYTES, LogBuffer } from '../../agent/log-buffer.js';

const note = (n: number): string => `\n[kiln: ${n} more bytes of output dropped]\n`;

const cases: { name: string; maxBytes: number; writes: string[]; text: string; bytes: number }[] = [
  { name: 'nothing written gives an empty string', maxBytes: 10, writes: [], text: '', bytes: 0 },
  { name: 'one chunk under the cap is kept whole', maxBytes: 10, writes: ['hello'], text: 'hello', bytes: 5 },
  { name: 'chunks under the cap are concatenated', maxBytes: 100, writes: ['a', 'bc', 'def'], text: 'abcdef', bytes: 6 },
  { name: 'one chunk filling the cap exactly has no note', maxBytes: 5, writes: ['hello'], text: 'hello', bytes: 5 },
  { name: 'chunks filling the cap exactly across writes have no note', maxBytes: 6, writes: ['abc', 'def'], text: 'abcdef', bytes: 6 },
  { name: 'empty chunks change nothing', maxBytes: 3, writes: ['', 'abc', ''], text: 'abc', bytes: 3 },
  { name: 'one chunk over the cap is cut and the rest counted', maxBytes: 4, writes: ['abcdefgh'], text: 'abcd' + note(4), bytes: 4 },
  { name: 'a chunk one byte over the cap', maxBytes: 5, writes: ['hello!'], text: 'hello' + note(1), bytes: 5 },
  {
    name: 'the chunk crossing the cap is cut, later chunks dropped whole',
    maxBytes: 5,
    writes: ['abc', 'defg', 'hij', 'k'],
    text: 'abcde' + note(2 + 3 + 1),
    bytes: 5,
  },
  { name: 'after an exact fit, the next chunk is dropped whole', maxBytes: 3, writes: ['abc', 'de'], text: 'abc' + note(2), bytes: 3 },
  { name: 'a zero cap keeps nothing and counts everything', maxBytes: 0, writes: ['abc', 'de'], text: note(5), bytes: 0 },
  { name: 'a zero cap with nothing written has no note', maxBytes: 0, writes: [], text: '', bytes: 0 },
  { name: 'a zero cap with only empty chunks has no note', maxBytes: 0, writes: ['', ''], text: '', bytes: 0 },
  { name: 'the cap counts bytes, not characters', maxBytes: 4, writes: ['é', 'ü', 'x'], text: 'éü' + note(1), bytes: 4 },
];

for (const c of cases) {
  test(`LogBuffer: ${c.name}`, () => {
    const b = new LogBuffer(c.maxBytes);
    for (const w of c.writes) b.write(Buffer.from(w, 'utf8'));
    assert.equal(b.bytes, c.bytes);
    assert.equal(b.toString(), c.text);
  });
}

test('LogBuffer: toString can be called repeatedly, and writes in between count', () => {
  const b = new LogBuffer(4);
  b.write(Buffer.from('ab'));
  assert.equal(b.toString(), 'ab');
  assert.equal(b.toString(), 'ab');
  b.write(Buffer.from('cdef'));
  assert.equal(b.toString(), 'abcd' + note(2));
  b.write(Buffer.from('g'));
  assert.equal(b.toString(), 'abcd' + note(3));
  assert.equal(b.bytes, 4);
});

test('LogBuffer: a large amount of output is counted exactly', () => {
  const b = new LogBuffer(1024);
  const chunk = Buffer.alloc(1000, 0x61);
  for (let i = 0; i < 100; i++) b.write(chunk);
  assert.equal(b.bytes, 1024);
  assert.equal(b.toString(), 'a'.repeat(1024) + note(100_000 - 1024));
});

test('LogBuffer: tail() is the last 4 KB written and written counts every byte, past the cap too', () => {
  const b = new LogBuffer(10);
  assert.deepEqual(b.tail(), Buffer.alloc(0));
  b.write(Buffer.from('start'));
  assert.equal(b.tail().toString(), 'start');
  b.write(Buffer.from('x'.repeat(3000)));
  b.write(Buffer.from(`${'y'.repeat(2000)}-end`));
  assert.equal(b.bytes, 10, 'the cap keeps the start');
  assert.equal(b.written, 5 + 3000 + 2004);
  const tail = b.tail().toString();
  assert.equal(tail.length, LOG_TAIL_BYTES);
  assert.ok(tail.endsWith(`${'y'.repeat(2000)}-end`), 'the end survives the cap');
  assert.equal(tail, `${'x'.repeat(LOG_TAIL_BYTES - 2004)}${'y'.repeat(2000)}-end`);
  // One chunk bigger than the tail: only its own end.
  b.write(Buffer.from(`${'z'.repeat(LOG_TAIL_BYTES + 100)}!`));
  assert.equal(b.tail().toString(), `${'z'.repeat(LOG_TAIL_BYTES - 1)}!`);
});

// withEnd(): what the init log gives the first Lambda call, whose last lines are the telling ones.
const endCases: { name: string; maxBytes: number; writes: string[]; text: string }[] = [
  { name: 'nothing dropped: the same as toString', maxBytes: 10, writes: ['abc', 'de'], text: 'abcde' },
  { name: 'dropped bytes within the kept end: head and end meet, no note', maxBytes: 4, writes: ['abcdefgh'], text: 'abcdefgh' },
  { name: 'a character the cap cut in two is whole again when head and end meet', maxBytes: 4, writes: ['abc€ok'], text: 'abc€ok' },
  {
    name: 'more dropped than the end keeps: the note counts the gap between',
    maxBytes: 3,
    writes: ['abc', 'x'.repeat(100), 'y'.repeat(LOG_TAIL_BYTES - 4), 'END\n'],
    text: `abc\n[kiln: 100 bytes of output dropped here]\n${'y'.repeat(LOG_TAIL_BYTES - 4)}END\n`,
  },
  {
    name: 'one chunk far over the cap: its start, the gap, its end',
    maxBytes: 5,
    writes: [`start${'m'.repeat(10_000)}${'e'.repeat(LOG_TAIL_BYTES - 5)}last\n`],
    text: `start\n[kiln: 10000 bytes of output dropped here]\n${'e'.repeat(LOG_TAIL_BYTES - 5)}last\n`,
  },
  {
    name: 'a character the cap cut, and one the end\'s start cut, go with the gap',
    maxBytes: 10,
    writes: [`aaaaaaa😀${'x'.repeat(5000)}€${'y'.repeat(LOG_TAIL_BYTES - 2)}`],
    // The gap (the emoji's last byte, the x's, the euro's first byte), then the emoji's 3 kept bytes and the euro's 2.
    text: `aaaaaaa\n[kiln: ${1 + 5000 + 1 + 3 + 2} bytes of output dropped here]\n${'y'.repeat(LOG_TAIL_BYTES - 2)}`,
  },
];
for (const c of endCases) {
  test(`LogBuffer.withEnd: ${c.name}`, () => {
    const b = new LogBuffer(c.maxBytes);
    for (const w of c.writes) b.write(Buffer.from(w, 'utf8'));
    assert.equal(b.withEnd(), c.text);
  });
}

// The stored text is at most the cap in UTF-8 bytes: bytes that are not UTF-8, and NUL, are
// stored as U+FFFD (3 bytes), so 7 MiB of 0xFF once stored 21 MiB and overflowed MySQL's packet.
const storedCases: { name: string; maxBytes: number; writes: Buffer[]; text: string }[] = [
  { name: 'invalid bytes within the cap once stored are all kept', maxBytes: 6, writes: [Buffer.from([0xff, 0xfe])], text: '\uFFFD\uFFFD' },
  { name: 'invalid bytes are cut so the stored text fits the cap', maxBytes: 6, writes: [Buffer.alloc(6, 0xff)], text: '\uFFFD\uFFFD' + note(4) },
  { name: 'the cut is counted with what the cap dropped', maxBytes: 4, writes: [Buffer.alloc(10, 0xff)], text: '\uFFFD' + note(9) },
  { name: 'NUL counts as the U+FFFD it is stored as', maxBytes: 5, writes: [Buffer.from('ab\u0000\u0000c')], text: 'ab\u0000' + note(2) },
  { name: 'a character the cap cut in two is left out, not stored as U+FFFD', maxBytes: 5, writes: [Buffer.from('abcd€')], text: 'abcd' + note(3) },
  { name: 'valid text at the cap is as before', maxBytes: 6, writes: [Buffer.from('€€€')], text: '€€' + note(3) },
  { name: 'a 4-byte character the cap cut after 3 bytes is left out', maxBytes: 10, writes: [Buffer.from('aaaaaaa😀')], text: 'aaaaaaa' + note(4) },
  { name: 'the same, the character written in two pieces', maxBytes: 10, writes: [Buffer.from('aaaaaaa\xF0\x9F', 'latin1'), Buffer.from('\x98\x80', 'latin1')], text: 'aaaaaaa' + note(4) },
  { name: 'a 2-byte character the cap cut after 1 byte is left out', maxBytes: 3, writes: [Buffer.from('abé')], text: 'ab' + note(2) },
  { name: 'a whole character at the cap stays', maxBytes: 6, writes: [Buffer.from('ab😀c')], text: 'ab😀' + note(1) },
];
for (const c of storedCases) {
  test(`LogBuffer: ${c.name}`, () => {
    const b = new LogBuffer(c.maxBytes);
    for (const w of c.writes) b.write(w);
    const text = b.toString();
    assert.equal(text, c.text);
    const body = text.replace(/\n\[kiln: \d+ more bytes of output dropped\]\n$/, '').replaceAll('\u0000', '\uFFFD');
    assert.ok(Buffer.byteLength(body) <= c.maxBytes, 'stored, within the cap');
  });
}

test('LogBuffer: a cap of invalid bytes stores at most the cap (7 MiB of 0xFF, the case that overflowed MySQL)', () => {
  const cap = 7 * 1024 * 1024;
  const b = new LogBuffer(cap);
  b.write(Buffer.alloc(cap, 0xff));
  const text = b.toString();
  const kept = Math.floor(cap / 3);
  assert.equal(text, '\uFFFD'.repeat(kept) + note(cap - kept));
  assert.ok(Buffer.byteLength(text) <= cap + 64);
});
