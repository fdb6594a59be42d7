// The daemon's line splitting of a process's output: records a line each (\n or \r\n), bounded in length.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../runtime/line-splitter.js';

const rows: { name: string; chunks: string[]; max?: number; want: string[] }[] = [
  { name: 'lines in one chunk', chunks: ['a\nb\n'], want: ['a', 'b'] },
  { name: 'a line across chunks', chunks: ['ab', 'c\nd', 'e\n'], want: ['abc', 'de'] },
  { name: 'CRLF, as readline with crlfDelay Infinity', chunks: ['a\r\nb\r', '\n'], want: ['a', 'b'] },
  { name: 'empty lines', chunks: ['\n\na\n'], want: ['', '', 'a'] },
  { name: 'the rest at the end', chunks: ['a\nrest'], want: ['a', 'rest'] },
  { name: 'an overlong line comes in pieces of the bound', chunks: ['abcdefgh', 'ij\nk\n'], max: 4, want: ['abcd', 'efgh', 'ij', 'k'] },
  { name: 'a line of exactly the bound is whole', chunks: ['abcd\n'], max: 4, want: ['abcd'] },
  { name: 'a multi-byte character split across chunks', chunks: ['\xE2\x98', '\x83\n'], want: ['☃'] },
  { name: 'a lone CR is a newline within one record (the AWS runtime clients\' multi-line message)', chunks: ['first\rsecond\rthird\n'], want: ['first\nsecond\nthird'] },
  { name: 'lone CRs across chunks and a CRLF end', chunks: ['at f\r', '  at g\r\n'], want: ['at f\n  at g'] },
  { name: 'a CR last in a chunk waits for its LF', chunks: ['abcd\r', '\nx\n'], max: 4, want: ['abcd', 'x'] },
  { name: 'a CRLF line of exactly the bound is one line', chunks: ['abcd\r\nx\n'], max: 4, want: ['abcd', 'x'] },
  { name: 'a CR at the very end is dropped, as a CRLF cut short', chunks: ['a\r'], want: ['a'] },
  { name: 'a CR last in a chunk with a bound-long line before it waits too', chunks: ['abcd\r', 'e\n'], max: 4, want: ['abcd', '\ne'] },
  { name: 'a cut never splits a surrogate pair', chunks: ['abc\xF0\x9F\x98\x80de\n'], max: 4, want: ['abc', '😀de'] },
];

for (const r of rows) {
  test(`LineSplitter: ${r.name}`, () => {
    const s = new LineSplitter(r.max);
    const got = r.chunks.flatMap((c) => s.push(Buffer.from(c, 'latin1')));
    assert.deepEqual([...got, ...s.end()], r.want);
  });
}

// `|` in chunks: an invocation ends there (flush).
const flushRows: { name: string; chunks: string[]; want: string[][] }[] = [
  { name: 'a line with no newline is its invocation\'s last', chunks: ['a\nno-newline', '|', 'next\n'], want: [['a', 'no-newline'], ['next']] },
  { name: 'nothing begun: nothing', chunks: ['a\n', '|', 'b\n'], want: [['a'], ['b']] },
  { name: 'a CR flushed: the LF that follows ends nothing more', chunks: ['ab\r', '|', '\nc\n'], want: [['ab'], ['c']] },
  { name: 'a CR flushed, then no LF', chunks: ['ab\r', '|', 'c\n'], want: [['ab'], ['c']] },
  { name: 'a character whose bytes are not all in stays held', chunks: ['x\xE2\x98', '|', '\x83\n'], want: [['x'], ['☃']] },
  { name: 'lone CRs in the flushed line', chunks: ['one\rtwo', '|'], want: [['one\ntwo'], []] },
];

for (const r of flushRows) {
  test(`LineSplitter flush: ${r.name}`, () => {
    const s = new LineSplitter();
    const got: string[][] = [[]];
    for (const c of r.chunks) {
      if (c === '|') {
        got.at(-1)!.push(...s.flush());
        got.push([]);
      } else {
        got.at(-1)!.push(...s.push(Buffer.from(c, 'latin1')));
      }
    }
    got.at(-1)!.push(...s.end());
    assert.deepEqual(got, r.want);
  });
}

test('LineSplitter: what it holds stays under the bound, however long the line', () => {
  const s = new LineSplitter(1024);
  let pieces = 0;
  for (let i = 0; i < 1000; i++) pieces += s.push(Buffer.alloc(100, 'x')).length;
  assert.equal(pieces, Math.floor(100_000 / 1024));
  assert.equal(s.end()[0]!.length, 100_000 % 1024);
});
