// runtime/stream-prelude.ts: a streamed function URL answer's prelude, as function URLs read it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePrelude, splitPrelude } from '../../runtime/stream-prelude.js';

describe('parsePrelude', () => {
  const cases: { name: string; text: string; status: number; headers: Record<string, string | string[]> }[] = [
    { name: 'status, headers (lower-cased), cookies', text: '{"statusCode":404,"headers":{"X-A":"1"},"cookies":["a=1","b=2"]}', status: 404, headers: { 'x-a': '1', 'set-cookie': ['a=1', 'b=2'] } },
    { name: 'no statusCode: 200', text: '{"headers":{"a":"b"}}', status: 200, headers: { a: 'b' } },
    { name: 'a status out of range: 500', text: '{"statusCode":42}', status: 500, headers: {} },
    { name: 'not JSON: a plain 200', text: 'garbage', status: 200, headers: {} },
    // Number() and String() of an array nested this deep overflow the stack.
    { name: 'a statusCode nested 100,000 deep: 500', text: `{"statusCode":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, status: 500, headers: {} },
    { name: 'a header value nested 100,000 deep: dropped', text: `{"headers":{"x-deep":${'['.repeat(100_000)}${']'.repeat(100_000)},"x-ok":"1"}}`, status: 200, headers: { 'x-ok': '1' } },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(parsePrelude(c.text), { status: c.status, headers: c.headers }));
});

describe('splitPrelude', () => {
  const nul8 = Buffer.alloc(8);
  test('before the 8 NULs: not yet', () => assert.equal(splitPrelude(Buffer.concat([Buffer.from('{"statusCode":201}'), Buffer.alloc(4)])), undefined));
  test('the head, then the body bytes after the 8 NULs', () => {
    const split = splitPrelude(Buffer.concat([Buffer.from('{"statusCode":201}'), nul8, Buffer.from('body')]));
    assert.equal(split?.head.status, 201);
    assert.equal(split?.rest.toString(), 'body');
  });
  test('over 1 MiB without the delimiter: all body, under 200', () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    const split = splitPrelude(big);
    assert.equal(split?.head.status, 200);
    assert.equal(split?.rest.length, big.length);
  });
});
