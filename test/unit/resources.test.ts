// agent/resources.ts: the memory containers may have, in whole bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostCapacity, memoryCapacity } from '../../agent/resources.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const cases: { name: string; available: number; limit?: number; max: number; want: number }[] = [
  // The review's host: 10% headroom of 23,307,513,856 bytes left 20,976,762,470.4.
  { name: 'the 10% headroom leaves whole bytes', available: 23_307_513_856, max: 0, want: 20_976_762_470 },
  { name: 'a small host keeps 256 MiB back', available: 1 * GiB, max: 0, want: 1 * GiB - 256 * MiB },
  { name: 'a large host keeps at most 5 GiB back', available: 100 * GiB, max: 0, want: 95 * GiB },
  { name: 'a cgroup limit below free memory counts', available: 100 * GiB, limit: 10_000_000_001, max: 0, want: 9_000_000_000 },
  { name: 'a cgroup limit above free memory does not', available: 4 * GiB, limit: 8 * GiB, max: 0, want: Math.floor(4 * GiB * 0.9) },
  { name: 'FN_MAX_TOTAL_MEMORY_BYTES caps it', available: 100 * GiB, max: 2 * GiB, want: 2 * GiB },
  { name: 'less than the headroom is nothing', available: 100 * MiB, max: 0, want: 0 },
];

for (const c of cases) {
  test(`memoryCapacity: ${c.name}`, () => {
    const got = memoryCapacity(c.available, c.limit, c.max);
    assert.equal(got, c.want);
    assert.ok(Number.isInteger(got));
  });
}

test('hostCapacity gives whole bytes and whole milli-CPUs on this host', () => {
  const c = hostCapacity(0, 0);
  assert.ok(Number.isInteger(c.memoryBytes), `memory ${c.memoryBytes}`);
  assert.ok(Number.isInteger(c.cpuMilli), `cpu ${c.cpuMilli}`);
});
