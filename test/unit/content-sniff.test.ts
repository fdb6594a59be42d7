// Go's http.DetectContentType, which gives Fn's answers without a Content-Type theirs (rows
// after Go's own sniff tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectContentType, headOf } from '../../agent/content-sniff.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const HTML = 'text/html; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

const rows: { name: string; body: Buffer; want: string }[] = [
  { name: 'empty', body: b(''), want: TEXT },
  { name: 'binary', body: b('\x01\x02\x03'), want: 'application/octet-stream' },
  { name: 'JSON is text to Go', body: b('{"a":1}'), want: TEXT },
  { name: 'HTML, mixed case', body: b('<HtMl><bOdY>blah blah blah</body></html>'), want: HTML },
  { name: 'HTML, leading white space', body: b('   <!DOCTYPE HTML>...'), want: HTML },
  { name: 'HTML, leading CRLF', body: b('\r\n<html>...'), want: HTML },
  { name: 'a tag needs a space or > after it', body: b('<html5'), want: TEXT },
  { name: 'HTML comment', body: b('<!-- x -->'), want: HTML },
  { name: 'one-letter tag', body: b('<a href="/">'), want: HTML },
  { name: 'plain text, UTF-8', body: Buffer.from('This is not HTML. It has ☃ though.'), want: TEXT },
  { name: 'text with an escape sequence (0x1B is text)', body: b('\x1b[31mred'), want: TEXT },
  { name: 'XML after white space', body: b('\n<?xml!'), want: 'text/xml; charset=utf-8' },
  { name: 'PDF', body: b('%PDF-1.7'), want: 'application/pdf' },
  { name: 'PostScript', body: b('%!PS-Adobe-3.0'), want: 'application/postscript' },
  { name: 'UTF-8 BOM', body: b('\xEF\xBB\xBFhi'), want: TEXT },
  { name: 'UTF-16BE BOM', body: b('\xFE\xFF\x00h'), want: 'text/plain; charset=utf-16be' },
  { name: 'UTF-16LE BOM', body: b('\xFF\xFEh\x00'), want: 'text/plain; charset=utf-16le' },
  { name: 'Windows icon', body: b('\x00\x00\x01\x00'), want: 'image/x-icon' },
  { name: 'BMP', body: b('BMfoo'), want: 'image/bmp' },
  { name: 'GIF 87a', body: b('GIF87a'), want: 'image/gif' },
  { name: 'GIF 89a', body: b('GIF89a...'), want: 'image/gif' },
  { name: 'WebP', body: b('RIFF\x00\x00\x00\x00WEBPVP'), want: 'image/webp' },
  { name: 'PNG', body: b('\x89PNG\x0D\x0A\x1A\x0A'), want: 'image/png' },
  { name: 'JPEG', body: b('\xFF\xD8\xFF'), want: 'image/jpeg' },
  { name: 'MP3 with ID3', body: b('ID3\x03\x00'), want: 'audio/mpeg' },
  { name: 'WAV', body: b('RIFF\x24\x00\x00\x00WAVEfmt '), want: 'audio/wave' },
  { name: 'MP4', body: b('\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat'), want: 'video/mp4' },
  { name: 'WebM', body: b('\x1A\x45\xDF\xA3\x01'), want: 'video/webm' },
  { name: 'WOFF2', body: b('wOF2'), want: 'font/woff2' },
  { name: 'gzip', body: b('\x1F\x8B\x08\x00'), want: 'application/x-gzip' },
  { name: 'zip', body: b('PK\x03\x04'), want: 'application/zip' },
  { name: 'wasm', body: b('\x00asm\x01\x00\x00\x00'), want: 'application/wasm' },
  { name: 'only the first 512 bytes count', body: Buffer.concat([b('x'.repeat(512)), b('\x00\x01')]), want: TEXT },
  { name: 'a binary byte within them counts', body: Buffer.concat([b('x'.repeat(500)), b('\x00\x01')]), want: 'application/octet-stream' },
];

for (const r of rows) {
  test(`detectContentType: ${r.name}`, () => assert.equal(detectContentType(r.body), r.want));
}

test('headOf: the first n bytes of chunks, without joining the rest', () => {
  assert.equal(headOf([b('ab'), b('cd'), b('ef')], 3).toString(), 'abc');
  assert.equal(headOf([b('abcdef'), b('gh')], 4).toString(), 'abcd');
  assert.equal(headOf([b('ab')], 4).toString(), 'ab');
  assert.equal(headOf([]).length, 0);
  assert.equal(headOf([b('x'.repeat(600))]).length, 512);
});
