// Pruning old calls: the id bound, the schedule, and a pass over a store (a stand-in here;
// test/store/call-retention.test.ts runs the real store on every backend).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTime, ulid } from 'ulid';
import { idBoundAt } from '../../store/call-ids.js';
import { CallRetention, pruneIntervalMs } from '../../store/call-retention.js';
import type { CallPruning } from '../../store/types.js';

const boundCases: { at: number; want: string }[] = [
  { at: 0, want: '0'.repeat(26) },
  { at: -5, want: '0'.repeat(26) },
  { at: 1469918176385, want: '01ARYZ6S41' + '0'.repeat(16) }, // the ulid spec's example time
  { at: 1700000000000.9, want: '01HF7YAT00' + '0'.repeat(16) },
];
for (const c of boundCases) {
  test(`idBoundAt(${c.at}) is ${c.want}`, () => assert.equal(idBoundAt(c.at), c.want));
}

test('every id made before the bound sorts before it; every id made at or after it does not', () => {
  const t = Date.parse('2026-11-01T00:00:00.000Z');
  const bound = idBoundAt(t);
  assert.equal(decodeTime(bound), t);
  for (let i = 0; i < 200; i++) {
    assert.ok(ulid(t - 1) < bound);
    assert.ok(ulid(t - 86_400_000) < bound);
    assert.ok(ulid(t) >= bound);
    assert.ok(ulid(t + 1) > bound);
  }
});

const intervalCases: { retentionMs: number; want: number }[] = [
  { retentionMs: 168 * 3_600_000, want: 600_000 }, // at most 10 minutes apart
  { retentionMs: 3_600_000, want: 360_000 },
  { retentionMs: 3600, want: 1000 }, // at least a second apart
  { retentionMs: 60_000, want: 6000 },
];
for (const c of intervalCases) {
  test(`pruneIntervalMs(${c.retentionMs}) is ${c.want}`, () => assert.equal(pruneIntervalMs(c.retentionMs), c.want));
}

/** A store of `rows` ids that deletes at most `limit` per call, as the SQL store does per table. */
function standIn(rows: string[], fail?: () => Error): CallPruning & { asked: string[]; rows: string[] } {
  const s = {
    rows,
    asked: [] as string[],
    async deleteCallsBefore(bound: string, limit: number): Promise<number> {
      s.asked.push(bound);
      if (fail) throw fail();
      const gone = s.rows.filter((r) => r < bound).slice(0, limit);
      s.rows = s.rows.filter((r) => !gone.includes(r));
      return gone.length;
    },
  };
  return s;
}
const quiet = () => {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    info: (obj: object, msg: string) => void lines.push({ level: 'info', msg, obj }),
    warn: (obj: object, msg: string) => void lines.push({ level: 'warn', msg, obj }),
  };
};

test('a pass deletes, batch by batch, everything older than the retention and nothing newer', async () => {
  const now = Date.parse('2026-11-23T12:00:00.000Z');
  const hour = 3_600_000;
  const old = Array.from({ length: 7 }, (_, i) => ulid(now - 2 * hour - i));
  const young = Array.from({ length: 3 }, (_, i) => ulid(now - hour + 1000 + i));
  const store = standIn([...old, ...young].sort());
  const log = quiet();
  const r = new CallRetention(store, log, { retentionMs: hour, batch: 3, pauseMs: 0, now: () => now });
  assert.equal(await r.pruneOnce(), 7);
  assert.deepEqual(store.rows, [...young].sort());
  assert.equal(store.asked.length, 4, 'batches of 3, 3, 1, then one that finds nothing');
  assert.ok(store.asked.every((b) => b === idBoundAt(now - hour)));
  assert.deepEqual(log.lines.map((l) => [l.level, (l.obj as { deleted?: number }).deleted]), [['info', 7]]);
  assert.equal(await r.pruneOnce(), 0);
  assert.equal(log.lines.length, 1, 'a pass that finds nothing says nothing');
});

test('a failing store is logged and the pass ends; it never throws', async () => {
  const log = quiet();
  const r = new CallRetention(standIn([], () => new Error('database away')), log, { retentionMs: 1000, pauseMs: 0 });
  assert.equal(await r.pruneOnce(), 0);
  assert.equal(log.lines[0]?.level, 'warn');
});

test('start() prunes at once and again on the interval; stop() ends the schedule; 0 never runs', async () => {
  const store = standIn([]);
  const r = new CallRetention(store, quiet(), { retentionMs: 3600, pauseMs: 0 }); // every second
  const t0 = Date.now();
  r.start();
  assert.equal(store.asked.length, 1, 'once at start');
  // Polled, not slept for: a loaded machine's timers run late.
  while (store.asked.length < 2 && Date.now() - t0 < 20_000) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(Date.now() - t0 >= 990, 'the next pass a second later, not sooner');
  await r.stop();
  const asked = store.asked.length;
  assert.equal(asked, 2, 'again on the interval');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal(store.asked.length, asked, 'nothing after stop()');

  const never = standIn([]);
  const off = new CallRetention(never, quiet(), { retentionMs: 0 });
  off.start();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await off.stop();
  assert.equal(never.asked.length, 0);
});
