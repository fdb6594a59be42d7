// InvokeWithResponseStream's event-stream messages (api/event-stream.ts): the framing checked
// byte by byte against the format (lengths, both CRC32s, with zlib's own CRC32), and decoded
// with the codec the AWS SDK reads them with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams';
import { invokeComplete, payloadChunk, type InvokeComplete } from '../../api/event-stream.js';

const sdkCodec = new EventStreamCodec((b) => Buffer.from(b).toString('utf8'), (s) => Buffer.from(s, 'utf8'));

/** The message's parts as the format lays them out, checked as it goes. */
function frame(bytes: Buffer): { headers: Buffer; body: Buffer } {
  const total = bytes.readUInt32BE(0);
  const headersLength = bytes.readUInt32BE(4);
  assert.equal(total, bytes.length, 'total length: the whole message');
  assert.equal(bytes.readUInt32BE(8), crc32(bytes.subarray(0, 8)), 'prelude CRC32 over the two lengths');
  assert.equal(bytes.readUInt32BE(total - 4), crc32(bytes.subarray(0, total - 4)), 'message CRC32 over all before it');
  return { headers: bytes.subarray(12, 12 + headersLength), body: bytes.subarray(12 + headersLength, total - 4) };
}

/** String headers as the format encodes them: name length (1 byte), name, type 7, value length (2 bytes), value. */
function stringHeaders(raw: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length;) {
    const nameLength = raw[i]!;
    const name = raw.subarray(i + 1, i + 1 + nameLength).toString('utf8');
    i += 1 + nameLength;
    assert.equal(raw[i], 7, `${name}: a string header`);
    const valueLength = raw.readUInt16BE(i + 1);
    out[name] = raw.subarray(i + 3, i + 3 + valueLength).toString('utf8');
    i += 3 + valueLength;
  }
  return out;
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('payloadChunk', () => {
  const cases: [string, Buffer][] = [
    ['one byte', Buffer.from('x')],
    ['text', Buffer.from('chunk 0\n')],
    ['every byte value (binary passes as it is)', allBytes],
    ['UTF-8 text', Buffer.from('ünïcödé ✓\n')],
    ['64 KiB', Buffer.alloc(64 * 1024, 0x61)],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [name, payload] of cases) {
    test(name, () => {
      const bytes = payloadChunk(payload);
      const { headers, body } = frame(bytes);
      assert.deepEqual(stringHeaders(headers), { ':message-type': 'event', ':event-type': 'PayloadChunk', ':content-type': 'application/octet-stream' });
      assert.ok(body.equals(payload), 'the payload is the event\'s body, raw');
      const decoded = sdkCodec.decode(bytes);
      assert.equal(decoded.headers[':event-type']?.value, 'PayloadChunk');
      assert.ok(Buffer.from(decoded.body).equals(payload));
    });
  }
});

describe('invokeComplete', () => {
  const cases: [string, InvokeComplete][] = [
    ['a clean end', {}],
    ['a log tail', { LogResult: Buffer.from('START RequestId: r1\n').toString('base64') }],
    ['a function error', { ErrorCode: 'Sandbox.Timedout', ErrorDetails: 'RequestId: r1 Error: Task timed out after 1.00 seconds' }],
    ['all three, with text JSON must escape', { ErrorCode: 'RangeError', ErrorDetails: 'a "quoted"\nline ✓', LogResult: 'AAAA' }],
  ];
  for (const [name, members] of cases) {
    test(name, () => {
      const bytes = invokeComplete(members);
      const { headers, body } = frame(bytes);
      assert.deepEqual(stringHeaders(headers), { ':message-type': 'event', ':event-type': 'InvokeComplete', ':content-type': 'application/json' });
      assert.deepEqual(JSON.parse(body.toString('utf8')), members, 'the members as JSON, absent ones left out');
      assert.equal(sdkCodec.decode(bytes).headers[':event-type']?.value, 'InvokeComplete');
    });
  }
});

test('messages concatenate: the SDK\'s reader, fed the bytes in odd pieces, gets each whole, in order', async () => {
  const stream = Buffer.concat([payloadChunk(Buffer.from('a')), payloadChunk(allBytes), invokeComplete({ ErrorCode: 'E' })]);
  async function* pieces() {
    for (let i = 0; i < stream.length; i += 7) yield stream.subarray(i, i + 7);
  }
  const types: string[] = [];
  for await (const message of getChunkedStream(pieces())) types.push(String(sdkCodec.decode(message).headers[':event-type']?.value));
  assert.deepEqual(types, ['PayloadChunk', 'PayloadChunk', 'InvokeComplete']);
});
