// runtime/stream-prelude.ts: a streamed function URL answer's prelude, as function URLs read it.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { parsePrelude, readPrelude } from '../../runtime/stream-prelude.js';

describe('parsePrelude', () => {
  const cases: { name: string; text: string; status: number; headers: Record<string, string | string[]> }[] = [
    { name: 'status, headers (lower-cased), cookies', text: '{"statusCode":404,"headers":{"X-A":"1"},"cookies":["a=1","b=2"]}', status: 404, headers: { 'x-a': '1', 'set-cookie': ['a=1', 'b=2'] } },
    { name: 'no statusCode: 200', text: '{"headers":{"a":"b"}}', status: 200, headers: { a: 'b' } },
    { name: 'a status out of range: 500', text: '{"statusCode":42}', status: 500, headers: {} },
    { name: 'not JSON: a plain 200', text: 'garbage', status: 200, headers: {} },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(parsePrelude(c.text), { status: c.status, headers: c.headers }));
});

describe('readPrelude', () => {
  test('split across chunks: the head, then the body bytes after the 8 NULs', async () => {
    const s = new PassThrough();
    const p = readPrelude(s);
    s.write('{"statusCode":');
    s.write(Buffer.concat([Buffer.from('201}'), Buffer.alloc(4)]));
    s.write(Buffer.concat([Buffer.alloc(4), Buffer.from('body')]));
    const { head, rest } = await p;
    assert.equal(head.status, 201);
    assert.equal(rest.toString(), 'body');
    assert.equal(s.isPaused(), true, 'left paused for the relay');
  });

  test('a stream that ends without the delimiter is all body, under 200', async () => {
    const s = new PassThrough();
    const p = readPrelude(s);
    s.end('just text');
    const { head, rest } = await p;
    assert.equal(head.status, 200);
    assert.equal(rest.toString(), 'just text');
  });
});
