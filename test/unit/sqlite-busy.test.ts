// SQLite writes retried while the database is locked (store/sqlite-busy.ts), on stand-in writes;
// test/store/sqlite-busy.test.ts holds a real lock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyBackoffMs, SqliteWrites } from '../../store/sqlite-busy.js';

const backoff: { n: number; ms: number }[] = [
  { n: 0, ms: 10 }, { n: 1, ms: 20 }, { n: 2, ms: 40 }, { n: 3, ms: 80 }, { n: 4, ms: 160 },
  { n: 5, ms: 200 }, { n: 6, ms: 200 }, { n: 40, ms: 200 },
];
for (const c of backoff) {
  test(`busyBackoffMs(${c.n}) is ${c.ms}`, () => assert.equal(busyBackoffMs(c.n), c.ms));
}

const busy = (): Error => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

/** A write that answers busy `times` times, then `value`; counts its runs. */
function busyFor(times: number, value = 'ok'): { op: () => Promise<string>; runs: () => number } {
  let runs = 0;
  return {
    op: async () => {
      runs++;
      if (runs <= times) throw busy();
      return value;
    },
    runs: () => runs,
  };
}

test('a write answered busy is run again, after waits of 10, 20 ... ms, until it gets through', async () => {
  const w = busyFor(3);
  const t0 = Date.now();
  assert.equal(await new SqliteWrites(1000).run(w.op), 'ok');
  assert.equal(w.runs(), 4);
  assert.ok(Date.now() - t0 >= 60, 'waited 10 + 20 + 40 ms between runs');
});

test('any other failure is thrown at once, not retried', async () => {
  let runs = 0;
  const unique = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
  await assert.rejects(new SqliteWrites(1000).run(async () => { runs++; throw unique; }), unique);
  assert.equal(runs, 1);
});

test('a write still busy after the wait is given up, with its last busy error', async () => {
  const errors: Error[] = [];
  const t0 = Date.now();
  await assert.rejects(
    new SqliteWrites(150).run(async () => { errors.push(busy()); throw errors.at(-1); }),
    (err) => err === errors.at(-1),
  );
  const took = Date.now() - t0;
  assert.ok(took >= 150 && took < 400, `gave up after ${took} ms`);
  assert.ok(errors.length > 2, 'tried more than once');
});

test('writes run one at a time, in the order they came, a failure not stopping the next', async () => {
  const ws = new SqliteWrites(1000);
  const log: string[] = [];
  const write = (name: string, fail = false) => ws.run(async () => {
    log.push(`${name} start`);
    await new Promise((r) => setTimeout(r, 5));
    log.push(`${name} end`);
    if (fail) throw new Error(name);
    return name;
  });
  const results = await Promise.allSettled([write('a'), write('b', true), write('c')]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a write queued behind one that gave up waits before its first run, and fails unrun past its own wait', async () => {
  // Wide margins: under a loaded CI the loop may run tens of ms late, and the in-time write must
  // still have time left when its turn comes (it waited only when it had: CI once had 3 ms left).
  const ws = new SqliteWrites(400);
  let slowEnd = 0;
  // One run that takes longer than the wait, and ends busy: given up at once.
  const slow = ws.run(async () => { await sleep(450); slowEnd = Date.now(); throw busy(); });
  const late = busyFor(0);
  const lateResult = ws.run(late.op); // its 400 ms go on queueing
  await sleep(150);
  let inTimeRan = 0;
  const inTimeResult = ws.run(async () => { inTimeRan = Date.now(); return 'ok'; }); // 400 ms from here: time left at its turn
  const slowErr = await slow.then(() => undefined, (e: unknown) => e);
  assert.match(String(slowErr), /database is locked/);
  const lateErr = await lateResult.then(() => undefined, (e: unknown) => e as Error & { code?: string });
  assert.equal(late.runs(), 0, 'given up unrun');
  // Its own error, with the busy answer of the write before as the cause (whose message names that write's SQL).
  assert.notEqual(lateErr, slowErr);
  assert.equal(lateErr?.code, 'SQLITE_BUSY');
  assert.match(String(lateErr?.message), /did not run/);
  assert.equal(lateErr?.cause, slowErr);
  assert.equal(await inTimeResult, 'ok');
  assert.ok(inTimeRan - slowEnd >= 9, `waited before its first run (ran ${inTimeRan - slowEnd} ms after the busy answer)`);
});
