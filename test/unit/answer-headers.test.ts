// The headers an /invoke or trigger answer goes out with, as Go's net/http finishes Fn's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerHeaders, type AnswerShape } from '../../agent/answer-headers.js';
import type { Headers } from '../../agent/headers.js';

const TEXT = 'text/plain; charset=utf-8';
const b = (s: string) => Buffer.from(s, 'latin1');
const buffered = (length: number): AnswerShape => ({ sniff: true, length });

const rows: { name: string; status: number; headers: Headers; head: Buffer; shape: AnswerShape; want: Headers }[] = [
  { name: 'a typed answer keeps its type and gets its length', status: 200, headers: { 'content-type': 'text/x-mine', 'x-a': '1' }, head: b('hi'), shape: buffered(2), want: { 'content-type': 'text/x-mine', 'x-a': '1', 'content-length': '2' } },
  { name: 'an untyped answer is sniffed', status: 200, headers: {}, head: b('<html>'), shape: buffered(6), want: { 'content-type': 'text/html; charset=utf-8', 'content-length': '6' } },
  { name: 'JSON with no type is text, as Go sniffs it', status: 200, headers: {}, head: b('{"a":1}'), shape: buffered(7), want: { 'content-type': TEXT, 'content-length': '7' } },
  { name: 'an empty type counts as none', status: 200, headers: { 'content-type': '' }, head: b('x'), shape: buffered(1), want: { 'content-type': TEXT, 'content-length': '1' } },
  { name: 'an empty body gets no type', status: 200, headers: {}, head: b(''), shape: buffered(0), want: { 'content-length': '0' } },
  { name: 'an empty body drops an empty type', status: 200, headers: { 'content-type': '' }, head: b(''), shape: buffered(0), want: { 'content-length': '0' } },
  { name: 'no sniffing where the door sets its own', status: 200, headers: {}, head: b('<html>'), shape: { sniff: false, length: 6 }, want: { 'content-length': '6' } },
  { name: 'an encoded body is not sniffed, as Go', status: 200, headers: { 'content-encoding': 'gzip' }, head: b('\x1f\x8b\x08\x00'), shape: buffered(4), want: { 'content-encoding': 'gzip', 'content-length': '4' } },
  { name: 'a stream has no length', status: 200, headers: {}, head: b('abc'), shape: { sniff: true }, want: { 'content-type': TEXT } },
  { name: 'a function error is sniffed too', status: 502, headers: {}, head: b('oops'), shape: buffered(4), want: { 'content-type': TEXT, 'content-length': '4' } },
  { name: '204: no length, no sniffed type', status: 204, headers: { 'x-a': '1' }, head: b('xyz'), shape: buffered(3), want: { 'x-a': '1' } },
  { name: '204 keeps a type the function gave', status: 204, headers: { 'content-type': 'application/json' }, head: b(''), shape: buffered(0), want: { 'content-type': 'application/json' } },
  { name: '304: no length and no type', status: 304, headers: { 'content-type': 'text/html', etag: '"v1"' }, head: b('x'), shape: buffered(1), want: { etag: '"v1"' } },
  { name: '205 may have a length', status: 205, headers: {}, head: b(''), shape: buffered(0), want: { 'content-length': '0' } },
];

for (const r of rows) {
  test(`answerHeaders: ${r.name}`, () => assert.deepEqual(answerHeaders(r.status, r.headers, r.head, r.shape), r.want));
}

test('answerHeaders leaves the headers it was given as they were', () => {
  const headers: Headers = { 'content-type': 'text/html' };
  answerHeaders(304, headers, b(''), buffered(0));
  assert.deepEqual(headers, { 'content-type': 'text/html' });
});
