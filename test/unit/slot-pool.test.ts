// SlotPool's scheduling rules with stand-in containers: LIFO reuse, when to launch, eviction
// order, failures and draining. Real containers are covered by test/agent/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HotContainer } from '../../agent/hot-container.js';
import { SlotPool } from '../../agent/slot-pool.js';
import { AgentError, WaitExpired } from '../../agent/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

interface Fake {
  name: string;
  imageId?: string;
  state: string;
  lastUsed: number;
  exited: Promise<never>;
  activate(): Promise<void>;
  park(onIdle: () => void): void;
}

let clock = 0;
function fake(name: string, imageId?: string): HotContainer {
  const f: Fake = {
    name,
    ...(imageId !== undefined && { imageId }),
    state: 'busy',
    lastUsed: 0,
    exited: new Promise<never>(() => {}),
    activate: async () => {
      f.state = 'busy';
    },
    park: () => {
      f.state = 'idle';
      f.lastUsed = ++clock;
    },
  };
  return f as unknown as HotContainer;
}
const nameOf = (c: HotContainer) => (c as unknown as Fake).name;
const never = new AbortController().signal;
const tick = () => new Promise((r) => setImmediate(r));

/** A pool whose launches are resolved by the test, in order. */
function harness() {
  const launches: { resolve(c: HotContainer): void; reject(e: Error): void }[] = [];
  /** When each launch was asked for (performance.now()), in order. */
  const launchedAt: number[] = [];
  /** Each launch's question: does a waiting call still stand behind it? */
  const needed: (() => boolean)[] = [];
  const retired: string[] = [];
  let emptied = 0;
  let idled = 0;
  const pool = new SlotPool('k', 64, {
    launch: (isNeeded) => new Promise<HotContainer>((resolve, reject) => {
      launchedAt.push(performance.now());
      needed.push(isNeeded);
      launches.push({ resolve, reject });
    }),
    retired: (c) => retired.push(nameOf(c)),
    idled: () => void idled++,
    emptied: () => void emptied++,
  });
  return { pool, launches, launchedAt, needed, retired, emptied: () => emptied, idled: () => idled };
}

/** A pool with one idle container, 'a', whose call took `tookMs`. */
async function primed(h: ReturnType<typeof harness>, tookMs: number): Promise<void> {
  const first = h.pool.acquire(never);
  await tick();
  h.launches[0]!.resolve(fake('a'));
  h.pool.release(await first, true, tookMs);
}

/** Two calls at once on an empty pool: containers 'a' and 'b' start, one for each. */
async function twoStarted(h: ReturnType<typeof harness>): Promise<[HotContainer, HotContainer]> {
  const calls = [h.pool.acquire(never), h.pool.acquire(never)];
  await tick();
  h.launches[0]!.resolve(fake('a'));
  h.launches[1]!.resolve(fake('b'));
  const [a, b] = await Promise.all(calls);
  return [a!, b!];
}

test('a waiting call starts one container; it serves that call', async () => {
  const h = harness();
  const got = h.pool.acquire(never);
  await tick();
  assert.equal(h.launches.length, 1);
  h.launches[0]!.resolve(fake('a'));
  assert.equal(nameOf(await got), 'a');
});

test('the pool says when a container goes idle (evictable), not when a waiting call takes it', async () => {
  const h = harness();
  await primed(h, 100);
  assert.equal(h.idled(), 1, 'released with nobody waiting: idle');
  const a = await h.pool.acquire(never);
  const waiting = h.pool.acquire(never);
  await tick();
  h.pool.release(a, true, 100);
  await waiting;
  assert.equal(h.idled(), 1, 'handed straight to the waiting call: never idle');
  h.pool.release(a, false);
  assert.equal(h.idled(), 1, 'retired: not idle');
});

test('idle containers are reused newest first (LIFO)', async () => {
  const h = harness();
  const calls = [h.pool.acquire(never), h.pool.acquire(never), h.pool.acquire(never)];
  await tick();
  assert.equal(h.launches.length, 3, 'cold: one start per waiting call');
  ['a', 'b', 'c'].forEach((n, i) => h.launches[i]!.resolve(fake(n)));
  const [a, b, c] = await Promise.all(calls);
  h.pool.release(a!, true);
  h.pool.release(c!, true);
  h.pool.release(b!, true);
  assert.equal(nameOf((await h.pool.takeIdle())!), 'b', 'the last released first');
  assert.equal(nameOf((await h.pool.takeIdle())!), 'c');
});

test('a released container goes straight to a waiting call', async () => {
  const h = harness();
  await primed(h, 100); // a slow call on record
  const again = await h.pool.acquire(never);
  const waiting = h.pool.acquire(never);
  await tick();
  h.pool.release(again, true, 100);
  assert.equal(nameOf(await waiting), 'a');
});

test('quick calls queue on busy containers instead of starting one per caller', async () => {
  const h = harness();
  await primed(h, 1); // calls take ~1 ms
  const busy = await h.pool.acquire(never);
  // One container busy, calls of 1 ms: a second waiter expects a 1 ms wait, no start.
  const w1 = h.pool.acquire(never);
  await tick();
  assert.equal(h.launches.length, 1, 'one waiter on a quick busy container: wait');
  // Three waiting (3 ms > two calls): a start is worth it; with it counted, no more.
  const w2 = h.pool.acquire(never);
  const w3 = h.pool.acquire(never);
  await tick();
  assert.equal(h.launches.length, 2, 'a deeper queue starts one more container');
  h.pool.release(busy, true, 1);
  assert.equal(nameOf(await w1), 'a');
  h.launches[1]!.resolve(fake('b'));
  assert.equal(nameOf(await w2), 'b');
  h.pool.release(await w1, true, 1);
  assert.equal(nameOf(await w3), 'a');
});

test('slow calls start a container for every waiting call, as Fn does', async () => {
  const h = harness();
  await primed(h, 2000); // longer than a start
  await h.pool.acquire(never);
  void h.pool.acquire(never);
  void h.pool.acquire(never);
  await tick();
  assert.equal(h.launches.length, 3);
});

test('a call stuck behind one running far past the usual length gets a start once it has waited 50 ms', async () => {
  const h = harness();
  await primed(h, 1); // calls take ~1 ms
  await h.pool.acquire(never); // ...but this one runs on
  const began = performance.now(); // no later than the waiter's own clock starts
  const w = h.pool.acquire(never);
  await tick();
  assert.equal(h.launches.length, 1, 'at first a wait of one quick call is expected');
  // A quick call late by a few ms (timing jitter under load) starts nothing: that would start a
  // container per waiter under a steady load of quick calls. Nothing arrives or ends from now
  // on: only the pool's own second look can start one. The start's own time is recorded, so a
  // test timer that fires late (a loaded machine) cannot make an early start look right, or a
  // right one look early.
  for (const end = began + 3000; h.launches.length < 2 && performance.now() < end;) await sleep(5);
  assert.equal(h.launches.length, 2, 'a start within 3 s of waiting (the bound is 50 ms), not a wait for the queue bound');
  const startedAfter = h.launchedAt[1]! - began;
  assert.ok(startedAfter >= 49, `no start before the stall bound (50 ms): started after ${startedAfter.toFixed(1)} ms`);
  assert.ok(startedAfter < 1000, `the start came at the stall bound, not at some later look (${startedAfter.toFixed(1)} ms)`);
  h.launches[1]!.resolve(fake('b'));
  assert.equal(nameOf(await w), 'b');
});

test('with calls of 100 ms the stall bound is two patiences (400 ms), not the 50 ms floor', { timeout: 10_000 }, async () => {
  const h = harness();
  // Calls of 100 ms, and a start measured at ~0 ms: startMs = 0.8 × 250 + 0.2 × ~0 ≈ 200 ms, so
  // patience = min(2 × 100, ~200) = 200 ms and the stall bound max(50, 2 × 200) = 400 ms.
  await primed(h, 100);
  await h.pool.acquire(never); // ...and this one runs on
  const began = performance.now(); // no later than the waiter's own clock starts
  const w = h.pool.acquire(never);
  await tick();
  assert.equal(h.launches.length, 1, 'one waiter, an expected wait of one 100 ms call (within patience): no start yet');
  // Nothing arrives or ends from now on: only the pool's own second look can start one. A
  // timer never fires early, so the first sight of the start is a lower bound on its time.
  let seenAt: number | undefined;
  while (performance.now() - began < 3000) {
    if (h.launches.length > 1) {
      seenAt = performance.now() - began;
      break;
    }
    await sleep(5);
  }
  assert.ok(seenAt !== undefined, 'a start within 3 s of waiting (the bound is 400 ms), not a wait for the queue bound');
  assert.ok(seenAt >= 395, `no start before two patiences (400 ms): started after ${seenAt.toFixed(1)} ms`);
  assert.equal(h.launches.length, 2, 'one start, for the one waiting call');
  h.launches[1]!.resolve(fake('b'));
  assert.equal(nameOf(await w), 'b');
});

test('steady load: a queue of 100 ms calls that has not emptied for a start\'s time gets a start, before any call stalls', { timeout: 10_000 }, async () => {
  const h = harness();
  // A first start of 1 s: startMs = 0.8 × 250 + 0.2 × ~1000 ≈ 400 ms, so the stall bound is
  // max(50, 2 × min(2 × 100, 400)) = 400 ms from a waiter's arrival, and the steady rule's 400 ms
  // run from the queue's first waiter.
  const first = h.pool.acquire(never);
  await tick();
  await sleep(1000);
  h.launches[0]!.resolve(fake('a'));
  h.pool.release(await first, true, 100);
  const a = await h.pool.acquire(never);
  const t0 = performance.now();
  const w1 = h.pool.acquire(never);
  await sleep(100);
  const w2 = h.pool.acquire(never);
  await sleep(50);
  // a serves w1; w2 still waits: the queue has not emptied since w1 came.
  h.pool.release(a, true, 100);
  assert.equal(nameOf(await w1), 'a');
  await sleep(Math.max(0, t0 + 450 - performance.now()));
  const w3Arrival = performance.now();
  void h.pool.acquire(never);
  await tick();
  const sinceW2 = w3Arrival - t0 - 100;
  assert.equal(h.launches.length, 2, `a start once the queue outlasted a start (${(w3Arrival - t0).toFixed(0)} ms), though no call has waited the stall bound (w2 ${sinceW2.toFixed(0)} ms)`);
  h.launches[1]!.resolve(fake('b'));
  assert.equal(nameOf(await w2), 'b');
});

test('a start that found no capacity in time fails no waiting call: another start serves it', async () => {
  const h = harness();
  const w = h.pool.acquire(never);
  await tick();
  h.launches[0]!.reject(new WaitExpired());
  await tick();
  assert.equal(h.launches.length, 2, 'the waiting call, still within its own bound, gets another start');
  h.launches[1]!.resolve(fake('a'));
  assert.equal(nameOf(await w), 'a');
  // Refused at once (Fn's non-blocking tracker): that is the waiting call's answer.
  const refused = h.pool.acquire(never);
  const other = h.pool.acquire(never);
  await tick();
  h.launches[2]!.reject(new AgentError('server-busy', 'Timed out - server too busy'));
  await assert.rejects(refused, /server too busy/);
  h.pool.drain(new Error('done'));
  await assert.rejects(other, /done/);
});

test('a start stands for a waiting call: once calls leave, the newest starts are no longer needed', async () => {
  const h = harness();
  const callers = [new AbortController(), new AbortController(), new AbortController()];
  const calls = callers.map((c) => h.pool.acquire(c.signal).catch((e: Error) => e));
  await tick();
  assert.equal(h.launches.length, 3);
  const asked = () => h.needed.map((n) => n());
  assert.deepEqual(asked(), [true, true, true]);
  callers[1]!.abort(new WaitExpired());
  assert.deepEqual(asked(), [true, true, false], 'two calls wait: the two oldest starts stand for them');
  callers[0]!.abort(new WaitExpired());
  assert.deepEqual(asked(), [true, false, false]);
  // The newest gives up its wait for memory: no call fails, and none is started in its place.
  h.launches[2]!.reject(new WaitExpired());
  await tick();
  assert.equal(h.launches.length, 3);
  assert.deepEqual(asked().slice(0, 2), [true, false]);
  h.launches[0]!.resolve(fake('a'));
  assert.equal(nameOf((await calls[2]) as HotContainer), 'a');
  assert.equal(h.needed[1]!(), false, 'served: the start left stands for no one');
});

test('a failed start fails the oldest waiting call with its reason', async () => {
  const h = harness();
  const w = h.pool.acquire(never);
  await tick();
  h.launches[0]!.reject(new Error('image missing'));
  await assert.rejects(w, /image missing/);
  await tick();
  assert.equal(h.emptied(), 1, 'an empty pool says so');
});

test('a held pool is not emptied when its idle container dies: the call that holds it starts one in it', async () => {
  const h = harness();
  const a = fake('a');
  const first = h.pool.acquire(never);
  await tick();
  h.launches[0]!.resolve(a);
  h.pool.release(await first, true, 5);
  // Its only container died while idle (unpaused by someone else): activating it fails.
  (a as unknown as Fake).activate = () => Promise.reject(new Error('is not paused'));
  h.pool.hold();
  assert.equal(await h.pool.takeIdle(), undefined);
  assert.deepEqual(h.retired, ['a']);
  assert.equal(h.emptied(), 0, 'not forgotten while a call holds it');
  const w = h.pool.acquire(never);
  await tick();
  h.launches[1]!.resolve(fake('b'));
  const b = await w;
  h.pool.release(b, true);
  h.pool.letGo();
  assert.equal(h.emptied(), 0, 'its new container is idle in it');
  h.pool.evictOldest();
  assert.equal(h.emptied(), 1, 'empty and let go: forgotten');
});

test('eviction removes the least recently parked idle container', async () => {
  const h = harness();
  const [a, b] = await twoStarted(h);
  h.pool.release(b, true);
  h.pool.release(a, true);
  assert.equal(nameOf(h.pool.evictOldest()!), 'b');
  assert.deepEqual(h.retired, ['b']);
  assert.equal(h.pool.size, 1);
});

test('a waiting call gives up when its signal aborts, with the signal’s reason', async () => {
  const h = harness();
  const ac = new AbortController();
  const w = h.pool.acquire(ac.signal);
  await tick();
  ac.abort(new Error('too busy'));
  await assert.rejects(w, /too busy/);
  h.launches[0]!.resolve(fake('a'));
  await tick();
  assert.equal(h.pool.idleCount, 1, 'the container started for it is kept for the next call');
});

test('drain rejects waiting calls and removes idle containers', async () => {
  const h = harness();
  const [a, b] = await twoStarted(h);
  h.pool.release(a, true, 5000);
  const late = h.pool.acquire(never); // takes a
  const waiting = h.pool.acquire(never);
  await tick();
  h.pool.drain(new Error('stopping'));
  await assert.rejects(waiting, /stopping/);
  assert.equal(nameOf(await late), 'a');
  h.pool.release(b, true);
  h.pool.drain(new Error('stopping'));
  assert.deepEqual(h.retired, ['b'], 'idle containers are removed');
});

test('retire: idle containers go at once, busy ones after their call, a waiting call gets a new one', async () => {
  const h = harness();
  const [a, b] = await twoStarted(h);
  h.pool.release(a, true, 5000); // a idle, b busy
  const waiting = h.pool.acquire(never); // takes a
  assert.equal(nameOf(await waiting), 'a');
  const queued = h.pool.acquire(never); // waits: both busy
  await tick();
  h.pool.retire();
  assert.deepEqual(h.retired, []);
  // A container of the old image never serves another call, even one that was waiting.
  h.pool.release(b, true, 5000);
  assert.deepEqual(h.retired, ['b']);
  // Nor does one that was starting when the name moved: it may have been made from the old image.
  const launched = h.launches.length;
  h.launches.at(-1)!.resolve(fake('c'));
  await tick();
  assert.deepEqual(h.retired, ['b', 'c']);
  assert.equal(h.launches.length, launched + 1, 'a new start for the waiting call');
  h.launches.at(-1)!.resolve(fake('d'));
  assert.equal(nameOf(await queued), 'd');
  h.pool.release(a, true, 5000);
  // With nobody waiting any more, the new container does not stay either: the pool is done.
  h.pool.release(await queued, true, 5000);
  assert.deepEqual(h.retired, ['b', 'c', 'a', 'd']);
  assert.ok(h.pool.isEmpty);
  assert.ok(h.emptied() >= 1);
});

test('keepIf: kept when the started containers pass; one starting then comes up tested, and a failing one takes no call', async () => {
  const h = harness();
  const runsNew = (c: HotContainer) => c.imageId === 'new';
  // A first call is starting a container when the name is pointed (again) somewhere.
  const first = h.pool.acquire(never);
  await tick();
  assert.equal(h.pool.keepIf(runsNew), true, 'nothing started yet: kept');
  h.launches[0]!.resolve(fake('a', 'old')); // made before the move: the old image
  await tick();
  assert.deepEqual(h.retired, ['a']);
  h.launches[1]!.resolve(fake('b', 'new'));
  const b = await first;
  assert.equal(nameOf(b), 'b', 'the call got a container of the new image');
  // Later moves to the same image keep it; a move elsewhere does not, and changes nothing itself.
  h.pool.release(b, true, 5);
  assert.equal(h.pool.keepIf(runsNew), true);
  assert.equal(nameOf(await h.pool.acquire(never)), 'b');
  assert.equal(h.pool.keepIf((c) => c.imageId === 'newer'), false);
  assert.deepEqual(h.retired, ['a']);
});

test('keepIf: a container of the same image starting at the move serves as usual', async () => {
  const h = harness();
  const call = h.pool.acquire(never);
  await tick();
  assert.equal(h.pool.keepIf((c) => c.imageId === 'same'), true);
  h.launches[0]!.resolve(fake('a', 'same'));
  assert.equal(nameOf(await call), 'a');
  assert.equal(h.launches.length, 1, 'one start, not three');
  assert.deepEqual(h.retired, []);
});
