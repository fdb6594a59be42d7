// The arithmetic of the call page's charts, as tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildCharts, cpuPercentSeries, levelSeries, niceCeil, pathData, rateSeries, scalePoints, timeSpan, type Point, type Sample,
} from '../../web/charts.js';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const at = (s: number, metrics: Record<string, number>): Sample => ({ timestamp: new Date(T0 + s * 1000).toISOString(), metrics });
const MiB = 1024 * 1024;

test('levelSeries: samples with a finite value, as they are', () => {
  const cases: { name: string; stats: Sample[]; want: Point[] }[] = [
    { name: 'none', stats: [], want: [] },
    { name: 'two', stats: [at(0, { mem_usage: 5 }), at(1, { mem_usage: 7 })], want: [{ t: T0, v: 5 }, { t: T0 + 1000, v: 7 }] },
    { name: 'a sample without it is skipped', stats: [at(0, { mem_usage: 5 }), at(1, { cpu_total: 1 })], want: [{ t: T0, v: 5 }] },
    { name: 'a bad time is skipped', stats: [{ timestamp: 'then', metrics: { mem_usage: 5 } }], want: [] },
    { name: 'NaN is skipped', stats: [at(0, { mem_usage: NaN })], want: [] },
  ];
  for (const c of cases) assert.deepEqual(levelSeries(c.stats, 'mem_usage'), c.want, c.name);
});

test('rateSeries and cpuPercentSeries: deltas over time, dated at the later sample', () => {
  const cases: { name: string; stats: Sample[]; want: number[] }[] = [
    { name: 'one sample has no rate', stats: [at(0, { cpu_total: 5 })], want: [] },
    { name: 'half a CPU, then a full one', stats: [at(0, { cpu_total: 0 }), at(1, { cpu_total: 5e8 }), at(2, { cpu_total: 15e8 })], want: [50, 100] },
    { name: 'two CPUs busy', stats: [at(0, { cpu_total: 0 }), at(0.5, { cpu_total: 1e9 })], want: [200] },
    { name: 'same time is skipped', stats: [at(0, { cpu_total: 0 }), at(0, { cpu_total: 10 })], want: [] },
    { name: 'a counter going down is skipped', stats: [at(0, { cpu_total: 9e8 }), at(1, { cpu_total: 1e8 }), at(2, { cpu_total: 2e8 })], want: [10] },
    { name: 'samples without the metric are stepped over', stats: [at(0, { cpu_total: 0 }), at(1, { mem_usage: 1 }), at(2, { cpu_total: 2e9 })], want: [100] },
  ];
  for (const c of cases) {
    const got = cpuPercentSeries(c.stats);
    assert.deepEqual(got.map((p) => Math.round(p.v * 1e6) / 1e6), c.want, c.name);
  }
  const net = rateSeries([at(0, { net_rx: 0 }), at(2, { net_rx: 4096 })], 'net_rx', 1000);
  assert.deepEqual(net, [{ t: T0 + 2000, v: 2048 }], 'bytes per second');
});

test('niceCeil: 1, 2 or 5 × 10ⁿ at or above', () => {
  const cases: [number, number][] = [
    [0, 1], [-3, 1], [NaN, 1], [Infinity, 1],
    [1, 1], [1.1, 2], [2, 2], [2.01, 5], [5, 5], [7, 10], [10, 10], [11, 20], [99, 100], [101, 200],
    [0.3, 0.5], [0.02, 0.02], [0.021, 0.05], [123_456, 200_000],
  ];
  for (const [v, want] of cases) assert.equal(niceCeil(v), want, `niceCeil(${v})`);
});

test('scalePoints: time to x, value to y (up), clamped and rounded', () => {
  const box = { width: 110, height: 60, pad: 5 }; // inner 100 × 50
  const scale = { tMin: 0, tMax: 10, yMax: 100 };
  const cases: { name: string; points: Point[]; scale?: typeof scale; want: [number, number][] }[] = [
    { name: 'corners', points: [{ t: 0, v: 0 }, { t: 10, v: 100 }], want: [[5, 55], [105, 5]] },
    { name: 'middle', points: [{ t: 5, v: 50 }], want: [[55, 30]] },
    { name: 'rounded to 0.1', points: [{ t: 1 / 3, v: 100 / 3 }], want: [[8.3, 38.3]] },
    { name: 'over the top is drawn at the top', points: [{ t: 10, v: 250 }], want: [[105, 5]] },
    { name: 'below zero at the bottom', points: [{ t: 0, v: -5 }], want: [[5, 55]] },
    { name: 'outside the time span is clamped', points: [{ t: -5, v: 0 }, { t: 20, v: 0 }], want: [[5, 55], [105, 55]] },
    { name: 'zero span: the middle', points: [{ t: 3, v: 100 }], scale: { tMin: 3, tMax: 3, yMax: 100 }, want: [[55, 5]] },
    { name: 'zero yMax: the bottom', points: [{ t: 5, v: 0 }], scale: { tMin: 0, tMax: 10, yMax: 0 }, want: [[55, 55]] },
    { name: 'nothing', points: [], want: [] },
  ];
  for (const c of cases) assert.deepEqual(scalePoints(c.points, box, c.scale ?? scale), c.want, c.name);
});

test('pathData', () => {
  const cases: { coords: [number, number][]; want: string }[] = [
    { coords: [], want: '' },
    { coords: [[5, 55]], want: 'M5,55 h0' },
    { coords: [[5, 55], [55, 30], [105, 5.5]], want: 'M5,55 L55,30 L105,5.5' },
  ];
  for (const c of cases) assert.equal(pathData(c.coords), c.want);
});

test('timeSpan', () => {
  assert.equal(timeSpan([]), undefined);
  assert.deepEqual(timeSpan([at(2, {}), at(0, {}), at(1, {})]), { tMin: T0, tMax: T0 + 2000 });
});

test('buildCharts: which charts a call gets', () => {
  const full = [
    at(0, { cpu_total: 0, mem_usage: 10 * MiB, mem_limit: 128 * MiB, net_rx: 0, net_tx: 0, disk_read: 0, disk_write: 0 }),
    at(1, { cpu_total: 5e8, mem_usage: 40 * MiB, mem_limit: 128 * MiB, net_rx: 2048, net_tx: 0, disk_read: 0, disk_write: 0 }),
    at(2, { cpu_total: 25e8, mem_usage: 20 * MiB, mem_limit: 128 * MiB, net_rx: 4096, net_tx: 1024, disk_read: 0, disk_write: 0 }),
  ];
  const cases: { name: string; stats: Sample[]; want: { id: string; yMax: number; peak: number; lines: string[] }[] }[] = [
    { name: 'no stats', stats: [], want: [] },
    {
      name: 'one sample: memory only (a rate needs two)',
      stats: [at(0, { cpu_total: 5, mem_usage: 2048, mem_limit: 0 })],
      want: [{ id: 'memory', yMax: 2048, peak: 2048, lines: ['used'] }],
    },
    {
      name: 'a busy call with traffic; disk counters that never moved draw nothing',
      stats: full,
      want: [
        { id: 'cpu', yMax: 200, peak: 200, lines: ['% of one CPU'] },
        { id: 'memory', yMax: 128 * MiB, peak: 40 * MiB, lines: ['used', 'limit'] },
        { id: 'network', yMax: 2048, peak: 2048, lines: ['received', 'sent'] },
      ],
    },
    {
      name: 'an idle CPU is drawn against one full CPU',
      stats: [at(0, { cpu_total: 0 }), at(1, { cpu_total: 1e6 })],
      want: [{ id: 'cpu', yMax: 100, peak: 0.1, lines: ['% of one CPU'] }],
    },
    {
      name: 'counters that were already up but did not move: no network chart',
      stats: [at(0, { net_rx: 500, net_tx: 9 }), at(1, { net_rx: 500, net_tx: 9 })],
      want: [],
    },
  ];
  for (const c of cases) {
    const got = buildCharts(c.stats).map((ch) => ({
      id: ch.id, yMax: ch.yMax, peak: Math.round(ch.peak * 1e6) / 1e6, lines: ch.lines.map((l) => l.label),
    }));
    assert.deepEqual(got, c.want, c.name);
  }
  const limit = buildCharts(full).find((c) => c.id === 'memory')!.lines.find((l) => l.label === 'limit')!;
  assert.equal(limit.limit, true, 'the limit is marked, to be drawn dashed');
});
