import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STOP_STALL_MS, stopStalled, type StopProgress } from '../../api/stop-stall.js';

test('stopStalled: only past the grace period and with nothing done for the whole window', () => {
  const cases: { name: string; p: Omit<StopProgress, 'stallMs'>; stalled: boolean }[] = [
    { name: 'within the grace, nothing done', p: { now: 9_000, graceEndsAt: 10_000, progressAt: undefined }, stalled: false },
    { name: 'grace over, nothing done, window not over', p: { now: 24_999, graceEndsAt: 10_000, progressAt: undefined }, stalled: false },
    { name: 'grace over, nothing done for the window', p: { now: 25_000, graceEndsAt: 10_000, progressAt: undefined }, stalled: true },
    { name: 'progress early in the grace does not shorten it', p: { now: 24_000, graceEndsAt: 10_000, progressAt: 1_000 }, stalled: false },
    { name: 'progress early, the window past the grace over', p: { now: 25_000, graceEndsAt: 10_000, progressAt: 1_000 }, stalled: true },
    // 300 containers removed one after another, one every 140 ms, for a minute: never stalled.
    { name: 'a slow engine still removing, a minute on', p: { now: 70_000, graceEndsAt: 10_000, progressAt: 69_860 }, stalled: false },
    { name: 'the engine stopped answering after its last removal', p: { now: 84_860, graceEndsAt: 10_000, progressAt: 69_860 }, stalled: true },
    { name: 'no grace at all', p: { now: 15_000, graceEndsAt: 0, progressAt: undefined }, stalled: true },
    { name: 'a grace longer than a timer can wait', p: { now: 1e10, graceEndsAt: 2 ** 31 + 1e10, progressAt: undefined }, stalled: false },
  ];
  for (const c of cases) assert.equal(stopStalled({ ...c.p, stallMs: STOP_STALL_MS }), c.stalled, c.name);
  assert.equal(STOP_STALL_MS, 15_000);
});
