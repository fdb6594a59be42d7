// cli/chart.ts: the sparkline and the CPU/memory chart of `kiln calls get`, table-driven.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cpuPercents, formatBytes, resample, sparkline, statsChart, type Sample } from '../../cli/chart.js';

describe('resample', () => {
  const cases: Array<{ values: number[]; width: number; want: number[] }> = [
    { values: [], width: 4, want: [] },
    { values: [1, 2, 3], width: 4, want: [1, 2, 3] },
    { values: [1, 3, 5, 7], width: 2, want: [2, 6] },
    { values: [1, 2, 3, 4, 5, 6], width: 3, want: [1.5, 3.5, 5.5] },
    { values: [4, 4, 4], width: 0, want: [] },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.values)} into ${c.width}`, () => assert.deepEqual(resample(c.values, c.width), c.want));
  }
});

describe('sparkline', () => {
  const cases: Array<{ name: string; values: number[]; width?: number; want: string }> = [
    { name: 'nothing', values: [], want: '' },
    { name: 'a ramp from zero', values: [0, 1, 2, 3, 4, 5, 6, 7], want: '▁▂▃▄▅▆▇█' },
    { name: 'all zero is low', values: [0, 0, 0], want: '▁▁▁' },
    { name: 'flat and busy is high', values: [5, 5], want: '██' },
    { name: 'scaled from zero, not from the lowest', values: [7, 14], want: '▅█' },
    { name: 'non-finite draws a gap', values: [1, NaN, 1], want: '█ █' },
    { name: 'narrowed by averaging', values: [0, 0, 7, 7], width: 2, want: '▁█' },
  ];
  for (const c of cases) test(c.name, () => assert.equal(sparkline(c.values, c.width), c.want));
});

const at = (sec: number, metrics: Record<string, number>): Sample => ({
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString(),
  metrics,
});

describe('cpuPercents', () => {
  const cases: Array<{ name: string; stats: Sample[]; want: number[] }> = [
    { name: 'one sample has no rate', stats: [at(0, { cpu_total: 5 })], want: [] },
    { name: 'half a CPU, then a full one', stats: [at(0, { cpu_total: 0 }), at(1, { cpu_total: 5e8 }), at(2, { cpu_total: 15e8 })], want: [50, 100] },
    { name: 'same time is skipped', stats: [at(0, { cpu_total: 0 }), at(0, { cpu_total: 10 })], want: [] },
    { name: 'a counter going down is skipped', stats: [at(0, { cpu_total: 9e8 }), at(1, { cpu_total: 1e8 })], want: [] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(cpuPercents(c.stats), c.want));
});

describe('formatBytes', () => {
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [7.5 * 1024 * 1024, '7.5 MiB'],
    [128 * 1024 * 1024, '128 MiB'],
    [-1, '-'],
  ];
  for (const [n, want] of cases) test(`${n}`, () => assert.equal(formatBytes(n), want));
});

describe('statsChart', () => {
  test('no stats says so', () => {
    assert.deepEqual(statsChart([]), ['no stats recorded (the call ended before the first sample)']);
  });
  test('cpu and memory lines with peaks', () => {
    const mib = 1024 * 1024;
    const lines = statsChart([
      at(0, { cpu_total: 0, mem_usage: 10 * mib, mem_limit: 128 * mib }),
      at(1, { cpu_total: 1e9, mem_usage: 20 * mib, mem_limit: 128 * mib }),
      at(2, { cpu_total: 15e8, mem_usage: 40 * mib, mem_limit: 128 * mib }),
    ]);
    assert.equal(lines[0], 'cpu  █▅  peak 100%, avg 75% of one CPU');
    assert.equal(lines[1], 'mem  ▃▅█  peak 40 MiB of 128 MiB');
    assert.match(lines[2]!, /^ {5}3 samples, 2026-01-01T00:00:00.000Z to 2026-01-01T00:00:02.000Z$/);
  });
  test('a single sample has memory but no CPU rate', () => {
    const lines = statsChart([at(0, { cpu_total: 3, mem_usage: 2048, mem_limit: 0 })]);
    assert.equal(lines[0], 'cpu  (one sample: no rate)');
    assert.equal(lines[1], 'mem  █  peak 2.0 KiB');
  });
});
