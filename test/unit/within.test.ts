// agent/within.ts: a best-effort answer bounded in time (the CPU placement's engine list).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { within } from '../../agent/within.js';

const never = new Promise<number[]>(() => {});

const cases: { name: string; work: () => Promise<number[]>; ms: number; abort?: 'before' | 'during'; want: number[]; atMost: number }[] = [
  { name: 'an answer in time is the answer', work: async () => [1, 2], ms: 1000, want: [1, 2], atMost: 500 },
  { name: 'a hung one gives the fallback at the bound', work: () => never, ms: 50, want: [], atMost: 1000 },
  { name: 'a failed one gives the fallback at once', work: async () => { throw new Error('engine gone'); }, ms: 10_000, want: [], atMost: 500 },
  { name: 'an abort before gives the fallback at once', work: () => never, ms: 10_000, abort: 'before', want: [], atMost: 500 },
  { name: 'an abort while waiting gives the fallback then', work: () => never, ms: 10_000, abort: 'during', want: [], atMost: 1000 },
];

for (const c of cases) {
  test(c.name, async () => {
    const ac = new AbortController();
    if (c.abort === 'before') ac.abort();
    if (c.abort === 'during') setTimeout(() => ac.abort(), 20);
    const t0 = performance.now();
    assert.deepEqual(await within(c.work(), c.ms, [], ac.signal), c.want);
    assert.ok(performance.now() - t0 < c.atMost, `took ${performance.now() - t0} ms`);
  });
}
