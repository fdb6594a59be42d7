import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stat } from '../../drivers/contract.js';
import { decimate, MAX_CALL_STATS } from '../../drivers/decimate.js';

// Real epoch values, so precision problems with large timestamps would show.
const T0 = 1_700_000_000_000;
const at = (offsetMs: number, metrics: Record<string, number>): Stat => ({ timestamp: T0 + offsetMs, metrics });

// JSON.parse makes "__proto__" an own key, as a decoded stat from elsewhere could have.
const protoMetric = (value: number): Record<string, number> =>
  JSON.parse(`{"__proto__": ${value}}`) as Record<string, number>;

const three = [at(0, { cpu: 1 }), at(1000, { cpu: 2 }), at(2000, { cpu: 3 })];

// Each case's output is exact, worked out by hand from the window rule
// index = floor((t - first) * maxSamples / span), clamped to maxSamples - 1.
const cases: { name: string; maxSamples: number; stats: Stat[]; expected: Stat[] }[] = [
  { name: 'no stats give none', maxSamples: 10, stats: [], expected: [] },
  { name: 'fewer samples than the maximum are returned as is', maxSamples: 10, stats: three, expected: three },
  { name: 'as many samples as the maximum are returned as is', maxSamples: 3, stats: three, expected: three },
  { name: 'maxSamples 0 gives none', maxSamples: 0, stats: three, expected: [] },
  { name: 'maxSamples -1 gives none', maxSamples: -1, stats: three, expected: [] },
  { name: 'maxSamples NaN gives none', maxSamples: NaN, stats: three, expected: [] },
  {
    // span 40, two windows of 20 ms: {0, 10} and {20, 40} (40 lands on index 2, clamped to 1).
    name: 'averages timestamps and each metric per window',
    maxSamples: 2,
    stats: [
      at(0, { cpu: 10, mem: 100 }),
      at(10, { cpu: 20, mem: 200 }),
      at(20, { cpu: 30, mem: 300 }),
      at(40, { cpu: 60, mem: 500 }),
    ],
    expected: [at(5, { cpu: 15, mem: 150 }), at(30, { cpu: 45, mem: 400 })],
  },
  {
    name: 'a fractional maxSamples counts as its floor',
    maxSamples: 2.9,
    stats: [at(0, { cpu: 10 }), at(10, { cpu: 20 }), at(20, { cpu: 30 }), at(40, { cpu: 60 })],
    expected: [at(5, { cpu: 15 }), at(30, { cpu: 45 })],
  },
  {
    // span 11, two windows: mean offsets 0.75 and 10.25 round to 1 and 10 (neither floor
    // nor ceiling would give both).
    name: 'the averaged timestamp is rounded to the nearest millisecond',
    maxSamples: 2,
    stats: [
      at(0, { cpu: 1 }),
      at(1, { cpu: 2 }),
      at(1, { cpu: 3 }),
      at(1, { cpu: 4 }),
      at(10, { cpu: 5 }),
      at(10, { cpu: 6 }),
      at(10, { cpu: 7 }),
      at(11, { cpu: 8 }),
    ],
    expected: [at(1, { cpu: 2 }), at(10, { cpu: 6 })],
  },
  {
    name: 'averages are whole numbers rounded down, as Fn\'s uint64 ones',
    maxSamples: 1,
    stats: [at(0, { mem: 2500, cpu: 1 }), at(1, { mem: 2501, cpu: 2 }), at(2, { mem: 2501, cpu: 2 })],
    expected: [at(1, { mem: 2500, cpu: 1 })],
  },
  {
    // span 99, four windows of 24.75 ms: the first three samples fill window 0, the last
    // three window 3; windows 1 and 2 are empty and yield nothing.
    name: 'a gap in time gives fewer windows than the maximum',
    maxSamples: 4,
    stats: [
      at(0, { cpu: 1 }),
      at(1, { cpu: 2 }),
      at(2, { cpu: 3 }),
      at(97, { cpu: 10 }),
      at(98, { cpu: 20 }),
      at(99, { cpu: 30 }),
    ],
    expected: [at(1, { cpu: 2 }), at(98, { cpu: 20 })],
  },
  {
    name: 'a metric missing from some samples is averaged over those that have it',
    maxSamples: 1,
    stats: [at(0, { a: 1, b: 10 }), at(1, { a: 3 }), at(2, { b: 20 }), at(3, { a: 5 })],
    expected: [at(2, { a: 3, b: 15 })],
  },
  {
    name: 'zero-span input is averaged into one sample',
    maxSamples: 2,
    stats: [at(0, { cpu: 1 }), at(0, { cpu: 2 }), at(0, { cpu: 6 })],
    expected: [at(0, { cpu: 3 })],
  },
  {
    name: 'a metric named __proto__ stays an ordinary metric',
    maxSamples: 1,
    stats: [at(0, protoMetric(2)), at(2, protoMetric(4))],
    expected: [at(1, protoMetric(3))],
  },
];
for (const c of cases) {
  test(`decimate: ${c.name}`, () => {
    assert.deepEqual(decimate(c.maxSamples, c.stats), c.expected);
  });
}

test('decimate: MAX_CALL_STATS is Fn\'s 240', () => {
  assert.equal(MAX_CALL_STATS, 240);
});

test('decimate: 1000 samples one per ms to 240 stay within the input span', () => {
  // The metric equals the sample's offset, so each window's averaged metric must match its
  // averaged (rounded) timestamp to within a millisecond.
  const stats = Array.from({ length: 1000 }, (_, i) => at(i, { offset: i }));
  const out = decimate(MAX_CALL_STATS, stats);
  // Windows are 999/240 ≈ 4.16 ms wide, so every one holds samples and none is dropped.
  assert.equal(out.length, MAX_CALL_STATS);
  const first = out[0];
  const last = out[out.length - 1];
  assert.ok(first && last);
  assert.ok(first.timestamp >= T0 && last.timestamp <= T0 + 999, 'timestamps stay inside the input span');
  let previous = -Infinity;
  for (const s of out) {
    assert.ok(s.timestamp > previous, 'timestamps strictly increase');
    previous = s.timestamp;
    assert.ok(Number.isInteger(s.timestamp));
    const offset = s.metrics.offset;
    assert.ok(offset !== undefined);
    // The metric is rounded down, the timestamp to the nearest: within one millisecond.
    assert.ok(Number.isInteger(offset));
    assert.ok(Math.abs(offset - (s.timestamp - T0)) <= 1, `metric ${offset} vs timestamp ${s.timestamp - T0}`);
  }
});

test('decimate: the result shares no objects with the input, which is left unchanged', () => {
  const stats = [at(0, { cpu: 1 }), at(1, { cpu: 2 })];
  const before = structuredClone(stats);
  for (const max of [1, 5]) {
    const out = decimate(max, stats);
    assert.notEqual(out, stats);
    for (const s of out) {
      assert.ok(!stats.includes(s));
      assert.ok(stats.every((input) => input.metrics !== s.metrics));
      s.metrics.cpu = 99;
    }
  }
  assert.deepEqual(stats, before);
});
