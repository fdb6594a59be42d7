// Docker's attach frames, however the engine's writes are cut into chunks: every payload byte
// reaches its stream in order, headers never do, and a stream that is not framed passes whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttachFrames } from '../../drivers/docker/attach-frames.js';

const frame = (stream: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

/** What each stream received when `input` arrives cut at `cuts`. */
function run(input: Buffer, cuts: number[]): { out: string; err: string; order: string } {
  let out = '';
  let err = '';
  let order = '';
  const frames = new AttachFrames((n, bytes) => {
    if (n === 2) err += bytes.toString();
    else out += bytes.toString();
    order += n === 2 ? 'e' : 'o';
  });
  let from = 0;
  for (const at of [...cuts, input.length]) {
    frames.push(input.subarray(from, at));
    from = at;
  }
  return { out, err, order: order.replace(/(.)\1+/g, '$1') };
}

const cases: { name: string; input: Buffer; out: string; err: string; order?: string }[] = [
  { name: 'one stdout frame', input: frame(1, 'hello\n'), out: 'hello\n', err: '' },
  { name: 'stdout then stderr then stdout', input: Buffer.concat([frame(1, 'a'), frame(2, 'bb'), frame(1, 'ccc')]), out: 'accc', err: 'bb', order: 'oeo' },
  { name: 'an empty frame between two', input: Buffer.concat([frame(2, 'x'), frame(1, ''), frame(2, 'y')]), out: '', err: 'xy' },
  { name: 'many small frames', input: Buffer.concat(Array.from({ length: 200 }, (_, i) => frame(1 + (i % 2), String(i % 10)))), out: '0246802468'.repeat(10), err: '1357913579'.repeat(10) },
  { name: 'not framed (a TTY): all of it to stdout, what looked like a header included', input: Buffer.from('plain text output\n'), out: 'plain text output\n', err: '' },
  { name: 'a frame, then output that is not framed', input: Buffer.concat([frame(2, 'e'), Buffer.from('zzzzzzzzzz')]), out: 'zzzzzzzzzz', err: 'e' },
];

for (const c of cases) {
  test(`attach frames: ${c.name}, whole and cut at every byte and in pairs`, () => {
    const whole = run(c.input, []);
    assert.deepEqual([whole.out, whole.err], [c.out, c.err]);
    if (c.order) assert.equal(whole.order, c.order);
    for (let i = 1; i < c.input.length; i++) {
      const one = run(c.input, [i]);
      assert.deepEqual([one.out, one.err], [c.out, c.err], `cut at ${i}`);
    }
    const every = run(c.input, Array.from({ length: c.input.length - 1 }, (_, i) => i + 1));
    assert.deepEqual([every.out, every.err], [c.out, c.err], 'one byte at a time');
  });
}

test('attach frames: a payload split over chunks is passed on as views, not copies', () => {
  const input = frame(1, 'x'.repeat(1000));
  const seen: Buffer[] = [];
  const frames = new AttachFrames((_n, bytes) => seen.push(bytes));
  frames.push(input.subarray(0, 500));
  frames.push(input.subarray(500));
  assert.equal(seen.reduce((n, b) => n + b.length, 0), 1000);
  assert.ok(seen.every((b) => b.buffer === input.buffer), 'each piece shares the chunk it came in');
});
