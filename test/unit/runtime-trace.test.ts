// runtime/trace.ts (trace ids, client context, ARNs) and runtime/http-stream.ts deadlineOf.
import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { describe, test } from 'node:test';
import { deadlineOf } from '../../runtime/http-stream.js';
import { ACCOUNT_ID, decodeClientContext, functionArn, jsonObjectText, newTraceId } from '../../runtime/trace.js';

const TRACE = /^Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;

describe('newTraceId', () => {
  const times: { name: string; ms: number; epochHex: string }[] = [
    { name: 'now-ish', ms: Date.UTC(2024, 0, 2, 3, 4, 5, 678), epochHex: Math.floor(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000).toString(16) },
    { name: 'the epoch (padded)', ms: 0, epochHex: '00000000' },
    { name: 'small (padded)', ms: 255_999, epochHex: '000000ff' },
  ];
  for (const t of times) {
    test(`${t.name}: Root=1-${t.epochHex}-<24 hex>;Parent=<16 hex>;Sampled=0`, () => {
      const id = newTraceId(t.ms);
      const m = TRACE.exec(id);
      assert.ok(m, id);
      assert.equal(m[1], t.epochHex);
    });
  }
  test('defaults to now, and is random', () => {
    const before = Math.floor(Date.now() / 1000);
    const a = newTraceId();
    const epoch = parseInt(TRACE.exec(a)?.[1] ?? '', 16);
    assert.ok(epoch >= before && epoch <= Math.floor(Date.now() / 1000));
    assert.notEqual(newTraceId(), newTraceId());
  });
});

describe('decodeClientContext', () => {
  const ctx = '{"client":{"app_title":"x"},"custom":{"a":"b"},"env":{}}';
  const cases: { name: string; header: string | undefined; out: string | undefined }[] = [
    { name: 'absent', header: undefined, out: undefined },
    { name: 'empty', header: '', out: undefined },
    { name: 'base64 JSON', header: Buffer.from(ctx).toString('base64'), out: ctx },
    // Runtimes JSON.parse the header into an object: anything else would fail the invoke there.
    { name: 'base64 of a JSON string: dropped', header: Buffer.from('"s"').toString('base64'), out: undefined },
    { name: 'base64 of text that is not JSON: dropped', header: Buffer.from('not json').toString('base64'), out: undefined },
    { name: 'a raw JSON object: as is', header: '{"raw":true}', out: '{"raw":true}' },
    { name: 'neither: dropped', header: 'not json at all', out: undefined },
    // What node:http cannot write in a header (it threw, and `next` lost the event): JSON
    // whitespace CR/LF as spaces, DEL escaped, other text as its UTF-8 bytes.
    { name: 'newlines: spaces', header: Buffer.from('{\r\n"a":1\n}').toString('base64'), out: '{  "a":1 }' },
    { name: 'a DEL in a string: escaped', header: Buffer.from('{"a":"x\u007fy"}').toString('base64'), out: '{"a":"x\\u007fy"}' },
    { name: 'text beyond latin1: its UTF-8 bytes', header: Buffer.from('{"a":"€"}').toString('base64'), out: Buffer.from('{"a":"€"}').toString('latin1') },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const out = decodeClientContext(c.header);
      assert.equal(out, c.out);
      if (out !== undefined) validateHeaderValue('lambda-runtime-client-context', out);
    });
  }
});

test('functionArn: the emulator account, region and name', () => {
  assert.equal(functionArn('eu-west-1', 'fn'), `arn:aws:lambda:eu-west-1:${ACCOUNT_ID}:function:fn`);
  assert.equal(ACCOUNT_ID, '012345678912');
});

describe('deadlineOf', () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0);
  const cases: { name: string; header: string | undefined; out: number }[] = [
    { name: 'RFC 3339 UTC', header: '2024-06-01T12:00:30Z', out: Date.UTC(2024, 5, 1, 12, 0, 30) },
    { name: 'RFC 3339 with milliseconds', header: '2024-06-01T12:00:30.250Z', out: Date.UTC(2024, 5, 1, 12, 0, 30, 250) },
    { name: 'RFC 3339 with an offset', header: '2024-06-01T14:00:30+02:00', out: Date.UTC(2024, 5, 1, 12, 0, 30) },
    { name: 'in the past (taken as is)', header: '2024-06-01T11:00:00Z', out: Date.UTC(2024, 5, 1, 11, 0, 0) },
    { name: 'absent: now + timeout', header: undefined, out: now + 30_000 },
    { name: 'empty: now + timeout', header: '', out: now + 30_000 },
    { name: 'garbage: now + timeout', header: 'tomorrow-ish', out: now + 30_000 },
  ];
  for (const c of cases) test(c.name, () => assert.equal(deadlineOf(c.header, now, 30_000), c.out));
});

describe('jsonObjectText', () => {
  const cases: { name: string; text: string; out: string | undefined }[] = [
    { name: 'empty (no header): undefined', text: '', out: undefined },
    { name: 'an object: as is', text: '{"cognitoIdentityId":"i"}', out: '{"cognitoIdentityId":"i"}' },
    { name: 'an array: dropped', text: '[1]', out: undefined },
    { name: 'null: dropped', text: 'null', out: undefined },
    { name: 'not JSON: dropped', text: '{nope', out: undefined },
  ];
  for (const c of cases) test(c.name, () => assert.equal(jsonObjectText(c.text), c.out));
});
