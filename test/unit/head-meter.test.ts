import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeadMeter, MAX_RESPONSE_HEAD_LINES } from '../../agent/head-meter.js';

/** Feeds `text` to an armed meter in chunks of `size` bytes: false once it said the head was too long. */
function feed(meter: HeadMeter, text: string, size = text.length): boolean {
  const buf = Buffer.from(text, 'latin1');
  for (let i = 0; i < buf.length; i += size) if (!meter.scan(buf.subarray(i, i + size))) return false;
  return true;
}

const head = (lines: number, status = 200): string => `HTTP/1.1 ${status} OK\r\n${'a: \r\n'.repeat(lines)}\r\n`;

test('HeadMeter: a head of the bound passes, one line more does not, in any chunking', () => {
  for (const size of [1, 2, 3, 7, 64 * 1024]) {
    const ok = new HeadMeter();
    ok.arm();
    // The status line is not counted: the bound is of header lines, as the README and the error say.
    assert.equal(feed(ok, head(MAX_RESPONSE_HEAD_LINES), size), true, `chunks of ${size}`);
    assert.equal(ok.reading, false, 'the head ended: the body is not looked at');
    const over = new HeadMeter();
    over.arm();
    assert.equal(feed(over, head(MAX_RESPONSE_HEAD_LINES + 1), size), false, `chunks of ${size}`);
  }
});

test('HeadMeter: the body after the head is not counted, however many lines it has', () => {
  const m = new HeadMeter();
  m.arm();
  assert.equal(feed(m, head(3) + '\n'.repeat(MAX_RESPONSE_HEAD_LINES * 2)), true);
  assert.equal(m.reading, false);
  // Not armed: nothing is looked at.
  assert.equal(feed(m, head(MAX_RESPONSE_HEAD_LINES * 2)), true);
});

test('HeadMeter: interim 1xx heads are followed by the final one, their lines counted with it', () => {
  const m = new HeadMeter();
  m.arm();
  assert.equal(feed(m, head(2, 103) + head(2) + '\n'.repeat(MAX_RESPONSE_HEAD_LINES * 2), 5), true);
  assert.equal(m.reading, false);
  const over = new HeadMeter();
  over.arm();
  const half = Math.ceil(MAX_RESPONSE_HEAD_LINES / 2);
  assert.equal(feed(over, head(half, 103) + head(MAX_RESPONSE_HEAD_LINES - half + 1)), false);
  // Neither head's status line counts.
  const at = new HeadMeter();
  at.arm();
  assert.equal(feed(at, head(half, 103) + head(MAX_RESPONSE_HEAD_LINES - half)), true);
});

test('HeadMeter: a CR and its LF in different chunks still end the head; bare LF lines too', () => {
  const m = new HeadMeter();
  m.arm();
  assert.equal(m.scan(Buffer.from('HTTP/1.1 200 OK\r\nx: 1\r\n\r')), true);
  assert.equal(m.reading, true);
  assert.equal(m.scan(Buffer.from('\nbody')), true);
  assert.equal(m.reading, false);
  const lf = new HeadMeter();
  lf.arm();
  assert.equal(feed(lf, 'HTTP/1.1 200 OK\nx: 1\n\nbody'), true);
  assert.equal(lf.reading, false);
});

test('HeadMeter: arming again starts a new count', () => {
  const m = new HeadMeter();
  for (let i = 0; i < 3; i++) {
    m.arm();
    assert.equal(feed(m, head(MAX_RESPONSE_HEAD_LINES), 4096), true);
  }
});

test('HeadMeter: answerBegun says whether a byte of the answer to the last request came', () => {
  const m = new HeadMeter();
  assert.equal(m.answerBegun, false);
  m.arm();
  assert.equal(m.answerBegun, false);
  m.scan(Buffer.alloc(0));
  assert.equal(m.answerBegun, false, 'an empty read is no answer');
  m.scan(Buffer.from('H'));
  assert.equal(m.answerBegun, true);
  m.scan(Buffer.from('TTP/1.1 200 OK\r\n\r\nbody'));
  assert.equal(m.answerBegun, true);
  m.arm();
  assert.equal(m.answerBegun, false, 'the next request starts over');
});
