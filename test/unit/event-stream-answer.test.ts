// EventStreamAnswer (api/event-stream-answer.ts), the agent's ResponseTarget for
// InvokeWithResponseStream, against a fake connection: each chunk goes on at once as a
// PayloadChunk, the connection's backpressure reaches the agent, an error answer is kept for
// InvokeComplete, and a cut answer never cuts the connection.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { EventStreamAnswer, type StreamSink } from '../../api/event-stream-answer.js';

const codec = new EventStreamCodec((b) => Buffer.from(b).toString('utf8'), (s) => Buffer.from(s, 'utf8'));
const decoded = (frame: Buffer) => {
  const m = codec.decode(frame);
  return { type: String(m.headers[':event-type']?.value), body: Buffer.from(m.body).toString('utf8') };
};

/** A connection that records what it was asked, and says it is full when told to. */
class FakeSink extends EventEmitter implements StreamSink {
  destroyed = false;
  headersSent = false;
  full = false;
  heads: [number, OutgoingHttpHeaders][] = [];
  writes: Buffer[] = [];
  ended: Buffer | undefined | null = null;
  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    this.heads.push([status, headers]);
    this.headersSent = true;
    return this;
  }
  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    return !this.full;
  }
  end(chunk?: Buffer): this {
    this.ended = chunk;
    return this;
  }
}

const HEAD = { 'X-Amzn-RequestId': 'r1', 'X-Amz-Executed-Version': '$LATEST' };

describe('EventStreamAnswer', () => {
  test('the function\'s 200: the event stream opens (a 200 of its own type) and each chunk goes on as a PayloadChunk', () => {
    const sink = new FakeSink();
    const a = new EventStreamAnswer(sink, HEAD);
    assert.equal(a.headersSent, false);
    a.writeHead(200, { 'content-type': 'text/plain', 'content-length': '9' });
    assert.equal(a.headersSent, true);
    assert.deepEqual(sink.heads, [[200, { ...HEAD, 'content-type': 'application/vnd.amazon.eventstream' }]], 'the function\'s own headers stay behind');
    assert.equal(a.write(Buffer.from('chunk 0\n')), true);
    a.write(Buffer.alloc(0));
    a.end(Buffer.from('last'));
    assert.deepEqual(sink.writes.map(decoded), [{ type: 'PayloadChunk', body: 'chunk 0\n' }, { type: 'PayloadChunk', body: 'last' }], 'empty chunks are not sent');
    assert.equal(sink.ended, null, 'the stream stays open for InvokeComplete');
    a.complete({});
    assert.deepEqual(decoded(sink.ended!), { type: 'InvokeComplete', body: '{}' });
    assert.equal(sink.heads.length, 1);
  });

  test('backpressure: write() says false while the connection is full, and its drain reaches the agent', () => {
    const sink = new FakeSink();
    const a = new EventStreamAnswer(sink, HEAD);
    a.writeHead(200, {});
    sink.full = true;
    assert.equal(a.write(Buffer.from('x')), false);
    let drained = 0;
    const onDrain = () => drained++;
    a.once('drain', onDrain);
    sink.emit('drain');
    sink.emit('drain');
    assert.equal(drained, 1, 'once');
    a.once('drain', onDrain);
    a.removeListener('drain', onDrain);
    sink.emit('drain');
    assert.equal(drained, 1, 'removed');
    let closed = false;
    a.once('close', () => (closed = true));
    sink.emit('close');
    assert.ok(closed);
  });

  test('the function\'s 502/504: its body is kept for InvokeComplete, none of it goes out as payload', () => {
    for (const status of [502, 504]) {
      const sink = new FakeSink();
      const a = new EventStreamAnswer(sink, HEAD);
      a.writeHead(status, { 'x-amz-function-error': 'MyError' });
      assert.equal(a.write(Buffer.from('{"errorType":')), true);
      a.end(Buffer.from('"MyError"}'));
      assert.equal(a.status, status);
      assert.deepEqual(a.headers, { 'x-amz-function-error': 'MyError' });
      assert.equal(a.errorBody().toString(), '{"errorType":"MyError"}');
      assert.deepEqual(sink.writes, []);
      assert.equal(sink.heads[0]?.[0], 200, 'the HTTP answer is a 200 all the same');
    }
  });

  test('a cut answer is recorded, the connection is left for InvokeComplete', () => {
    const sink = new FakeSink();
    const a = new EventStreamAnswer(sink, HEAD);
    a.writeHead(200, {});
    const first = new Error('cut');
    a.destroy(first);
    a.destroy(new Error('later'));
    assert.equal(a.failure, first, 'the first reason stands');
    assert.equal(a.destroyed, false);
    assert.equal(sink.ended, null);
    const bare = new EventStreamAnswer(new FakeSink(), HEAD);
    bare.destroy();
    assert.ok(bare.failure instanceof Error);
  });

  test('complete() before any answer opens the stream first; a gone caller gets nothing more', () => {
    const sink = new FakeSink();
    new EventStreamAnswer(sink, HEAD).complete({ ErrorCode: 'Sandbox.Timedout', ErrorDetails: 'd' });
    assert.equal(sink.heads.length, 1);
    assert.deepEqual(JSON.parse(decoded(sink.ended!).body), { ErrorCode: 'Sandbox.Timedout', ErrorDetails: 'd' });

    const gone = new FakeSink();
    const a = new EventStreamAnswer(gone, HEAD);
    a.writeHead(200, {});
    gone.destroyed = true;
    assert.equal(a.destroyed, true);
    assert.equal(a.write(Buffer.from('x')), true);
    a.complete({});
    assert.deepEqual(gone.writes, []);
    assert.equal(gone.ended, null);
  });
});
