// The agent against an engine that misbehaves on purpose (test/helpers/stand-in-engine.ts): the
// real Agent, HotContainer, SlotPool and socket directories, with no Docker. Removals the engine
// fails, an eviction whose removal fails, containers that refuse the connection, and the sweep
// at shutdown.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentError } from '../../agent/errors.js';
import { toHttpError } from '../../api/errors.js';
import { Answer, FN_LABEL, standInWorld, type StandInContainer, type StandInWorld } from '../helpers/stand-in-engine.js';

const MiB = 1024 * 1024;
let base = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-standin-'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Polls until `cond` holds; fails after `ms`. */
async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** Runs `body` on a fresh world, and stops it (and every stand-in container) whatever happens. */
async function inWorld(capacityMb: number, body: (w: StandInWorld) => Promise<void>, config: Parameters<typeof standInWorld>[1]['config'] = {}): Promise<void> {
  const w = standInWorld(base, { capacityMb, config });
  try {
    await body(w);
  } finally {
    await w.shutdown();
    await w.engine.close();
  }
}

test('a removal the engine fails is tried again 5 s later, and the container keeps its memory reserved until it is gone', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('retires', { idle_timeout: 1 });
    // One HotContainer.close() asks the engine twice (its own clean-up, then once more to
    // report): the engine fails both, and the agent's retry succeeds.
    w.engine.onRemove = (_c, attempt) => {
      if (attempt <= 2) throw new Error('engine restarting');
    };
    assert.equal((await w.invoke(fn)).status, 200);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    assert.equal(w.agent.stats().memory.reservedBytes, 128 * MiB);

    // idle_timeout: the container retires, and the engine fails its removal.
    await waitFor('the first removal failed', () => c.removalAttempts.length >= 2, 4000);
    await sleep(300);
    assert.equal(c.state, 'running', 'the engine did not remove it');
    assert.equal(w.agent.stats().memory.reservedBytes, 128 * MiB, 'a container the engine still runs keeps its memory');
    assert.equal(w.agent.stats().containers.closed, 1, 'and is still counted');

    await waitFor('the retry removed it', () => c.state === 'removed', 8000);
    assert.equal(c.removalAttempts.length, 3);
    const gap = c.removalAttempts[2]! - c.removalAttempts[1]!;
    assert.ok(gap >= 4900, `tried again after REMOVAL_RETRY_MS, not at once (${gap} ms)`);
    await waitFor('its memory released once removed', () => w.agent.stats().memory.reservedBytes === 0, 1000);
    assert.equal(w.agent.stats().containers.closed, 0);
  }));

test('an eviction whose removal fails wakes the launch waiting on it: another idle container is evicted and the call is served', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const [a1, a2, b] = [w.fn('a1'), w.fn('a2'), w.fn('b')];
    // Two idle containers fill the host; a1's is the least recently used.
    assert.equal((await w.invoke(a1)).status, 200);
    await sleep(5);
    assert.equal((await w.invoke(a2)).status, 200);
    assert.equal(w.agent.stats().memory.reservedBytes, 256 * MiB);

    // The engine fails the first container it is asked to remove, for as long as the test says.
    let victim: StandInContainer | undefined;
    let engineBack = false;
    w.engine.onRemove = (c) => {
      victim ??= c;
      if (c === victim && !engineBack) throw new Error('engine restarting');
    };
    const began = Date.now();
    const outcome = await w.invoke(b).catch((err: unknown) => err);
    const took = Date.now() - began;
    assert.ok(outcome instanceof Answer, `b was served, not refused: ${String(outcome)}`);
    assert.equal(outcome.status, 200);
    assert.ok(took < 1500, `served well within maxQueueMs (2000 ms), took ${took} ms`);

    const [c1] = w.engine.of(a1.id);
    const [c2] = w.engine.of(a2.id);
    const [cb] = w.engine.of(b.id);
    assert.equal(victim, c1, 'a1 was evicted first');
    assert.ok(c1!.removalAttempts.length >= 2 && c1!.state === 'running', 'and the engine failed its removal');
    assert.equal(c2!.state, 'removed', 'a2 was evicted instead');
    assert.equal(outcome.json().container, cb!.id);
    engineBack = true;
  }, { maxQueueMs: 2000 }));

test('idle containers that would not free enough are not evicted: the call waits, then they go together once they would', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const [a, slow, big] = [w.fn('a'), w.fn('slow'), w.fn('big', { memory: 256 })];
    // a idle, slow busy for 1.5 s: together the whole host, a alone half what big needs.
    w.engine.behaviour = (task) => (task.labels[FN_LABEL] === slow.id ? { answerDelayMs: 1500 } : {});
    assert.equal((await w.invoke(a)).status, 200);
    const slowCall = w.invoke(slow);
    // slow's memory is taken (its container made) before big asks.
    await waitFor('slow has its container', () => w.engine.of(slow.id).length === 1);
    const bigCall = w.invoke(big);
    await sleep(600);
    const [ca] = w.engine.of(a.id);
    assert.equal(ca!.state, 'running', 'a stays warm: evicting it alone would not let big start');
    assert.equal((await slowCall).status, 200);
    // slow idle now: with a, enough for big; both go.
    assert.equal((await bigCall).status, 200);
    assert.equal(ca!.state, 'removed');
    assert.equal(w.engine.of(slow.id)[0]!.state, 'removed');
  }, { maxQueueMs: 5000 }));

test('the idle containers evicted for one start are removed side by side, not one after another', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const [a1, a2, big] = [w.fn('a1'), w.fn('a2'), w.fn('big', { memory: 256 })];
    assert.equal((await w.invoke(a1)).status, 200);
    assert.equal((await w.invoke(a2)).status, 200);
    // Each removal takes the engine 600 ms (a Lambda container's SHUTDOWN takes up to 2.5 s).
    w.engine.onRemove = () => sleep(600);
    const began = Date.now();
    assert.equal((await w.invoke(big)).status, 200);
    const [c1, c2] = [w.engine.of(a1.id)[0]!, w.engine.of(a2.id)[0]!];
    const gap = Math.abs(c1.removalAttempts[0]! - c2.removalAttempts[0]!);
    assert.ok(gap < 300, `both removals asked at once (${gap} ms apart)`);
    assert.ok(Date.now() - began < 1100, `served after one removal's time, not two (${Date.now() - began} ms)`);
  }));

test('a container that refuses the connection never saw the call: another container takes it', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('refuses');
    // The first container stops listening after its first call (its process died, say).
    w.engine.behaviour = (_task, i) => (i === 0 ? { stopListeningAfter: 1 } : {});
    const first = await w.invoke(fn);
    const [c1] = w.engine.of(fn.id) as [StandInContainer];
    assert.equal(first.json().container, c1.id);
    await sleep(100);

    const second = await w.invoke(fn, 'after-refusal');
    assert.equal(second.status, 200);
    const c2 = w.engine.of(fn.id)[1];
    assert.ok(c2, 'a second container was started');
    assert.equal(second.json().container, c2.id, 'and it took the call');
    assert.equal(c1.calls, 1, 'the refusing container never saw it');
    await waitFor('the refusing container is removed', () => c1.state === 'removed', 2000);
    await w.agent.flushRecords();
    assert.equal(w.store.calls.get('after-refusal')?.status, 'success');
    assert.equal(w.store.calls.get('after-refusal')?.error, undefined);
  }));

test('a call every container refuses is tried on three containers, then answered 502 with the refusal', { timeout: 15_000 }, () =>
  inWorld(512, async (w) => {
    const fn = w.fn('all-refuse');
    // Every container stops listening after its first call.
    w.engine.behaviour = () => ({ stopListeningAfter: 1, answerDelayMs: 300 });
    // Three calls at once on no container: one start each, and each container, once it has
    // answered, is idle but refuses the next connection.
    const warm = await Promise.all([w.invoke(fn), w.invoke(fn), w.invoke(fn)]);
    const three = w.engine.of(fn.id);
    assert.equal(three.length, 3, 'three containers, one for each call');
    assert.deepEqual(new Set(warm.map((a) => a.json().container)), new Set(three.map((c) => c.id)));
    await sleep(100);
    assert.ok(three.every((c) => c.state === 'running'), 'all three idle');

    w.engine.behaviour = () => ({}); // a fourth container would answer
    const err = await w.invoke(fn, 'refused-thrice').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AgentError, `refused with an AgentError, not served: ${String(err)}`);
    assert.equal(err.kind, 'function-failed');
    const http = toHttpError(err);
    assert.equal(http.status, 502);
    assert.match(http.body.message, /^error receiving function response: connect ECONNREFUSED /);

    // Exactly three tried: each refusing container was given up (removed), and no fourth started.
    const removed = () => three.filter((c) => c.state === 'removed').length;
    await waitFor('the three refusing containers are removed', () => removed() === 3, 3000).catch(() => {});
    assert.equal(removed(), 3, 'three containers tried (each one that refused is removed)');
    assert.equal(w.engine.of(fn.id).length, 3, 'no fourth container was started for it');
    assert.ok(three.every((c) => c.calls === 1), 'none of them saw the call');
    await w.agent.flushRecords();
    const rec = w.store.calls.get('refused-thrice');
    assert.equal(rec?.status, 'error');
    assert.match(rec?.error ?? '', /ECONNREFUSED/);
  }));

test('a call refused by its container while the agent is stopping is tried on another within the grace period, as any call taken before the stop', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('refuses-at-stop');
    w.engine.behaviour = () => ({ stopListeningAfter: 1 });
    assert.equal((await w.invoke(fn)).status, 200);
    await sleep(100);

    // invoke() takes the idle container before it first waits; shutdown() stops the agent
    // before it first waits: the container refuses the call once the agent is stopping.
    const call = w.invoke(fn, 'at-shutdown');
    const stopping = w.shutdown();
    const answer = await call;
    assert.equal(answer.status, 200);
    await stopping;
    assert.equal(w.engine.containers.length, 2, 'a second container took it');
    assert.ok(w.engine.containers.every((c) => c.state === 'removed'), 'and the stop removed it');
    assert.equal(w.store.calls.get('at-shutdown')?.status, 'success');
  }));

test('a call refused by its container once the grace period is over is refused as shutting-down (503), recorded as cancelled, not as the function failing', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('refuses-at-stop');
    w.engine.behaviour = () => ({ stopListeningAfter: 1 });
    assert.equal((await w.invoke(fn)).status, 200);
    await sleep(100);

    const call = w.invoke(fn, 'at-shutdown').then(() => undefined, (err: unknown) => err);
    const stopping = w.shutdown();
    const err = await call;
    assert.ok(err instanceof AgentError, `refused with an AgentError: ${String(err)}`);
    assert.equal(err.kind, 'shutting-down', err.message);
    assert.equal(toHttpError(err).status, 503);
    await stopping;
    assert.ok(w.engine.containers.every((c) => c.state === 'removed'), 'nothing left running');
    assert.equal(w.engine.containers[0]!.calls, 1);
    const rec = w.store.calls.get('at-shutdown');
    assert.equal(rec?.status, 'cancelled');
    // Waiting: the refusal came after the grace period ended (as a rule); running: the stop
    // removed the container first (the grace period of 0 may end before the refusal comes).
    assert.match(rec?.error ?? '', /^Server is shutting down: the call was still (waiting for a container|running) when KILN_SHUTDOWN_GRACE_MSECS ran out$/, 'recorded as cut by the stop, not as a function error');
  }, { shutdownGraceMs: 0 }));

test('stopping ends with a sweep by label, even after the engine failed a removal', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('stuck', { idle_timeout: 1 });
    w.engine.onRemove = () => {
      throw new Error('engine restarting');
    };
    assert.equal((await w.invoke(fn)).status, 200);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    await waitFor('the removal failed', () => c.removalAttempts.length >= 2, 4000);
    assert.equal(w.engine.sweeps.length, 0);

    await w.shutdown();
    assert.equal(w.engine.sweeps.length, 1, 'removeLeftovers once, at shutdown');
    const sweep = w.engine.sweeps[0]!;
    assert.deepEqual(sweep.removed, [c.id], 'it found the container the engine would not remove');
    assert.ok(sweep.at >= c.removalAttempts.at(-1)!, 'after the last removal attempt');
    assert.equal(c.state, 'removed');
  }));

test('the periodic sweep leaves alone a container the agent removed itself while the engine was listing: no removal, no warning', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('churn', { idle_timeout: 1 });
    assert.equal((await w.invoke(fn)).status, 200);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    // The engine lists it while it is idle, and answers once the agent's own removal (its
    // idle_timeout) is done and the agent has let go of it. Before, the sweep then took it for
    // an orphan, removed it again and warned, with removed: 1.
    let listedAt: number | undefined;
    w.engine.onList = async (listed) => {
      if (!listed.includes(c)) return;
      w.engine.onList = undefined;
      listedAt = w.engine.sweeps.length;
      await waitFor('the agent removed it', () => c.state === 'removed', 5000);
      await sleep(100);
    };
    await waitFor('a sweep that listed it ended', () => listedAt !== undefined && w.engine.sweeps.length > listedAt, 8000);
    const sweep = w.engine.sweeps[listedAt!]!;
    assert.deepEqual(sweep.asked, [], 'the sweep kept what the agent held when it asked for the list');
    assert.deepEqual(sweep.removed, []);
    assert.deepEqual(w.logged.filter((l) => /no longer held/.test(l.msg)), [], 'no warning of orphans');
  }, { orphanSweepMs: 100 }));

/** A world whose agent pins Lambda containers over two CPUs, counting other nodes' pins. */
const PINNING = { lambda: { hostDir: '/nonexistent', mount: '/kiln', command: ['/kiln/node', '/kiln/daemon.js'] }, lambdaCpus: [0, 1], lambdaCpusShared: true };

test('an engine that never answers the list of other nodes\' pinned CPUs holds a Lambda start about 0.5 s, not for ever: the container starts pinned', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    let asked = 0;
    w.engine.cpusPinnedElsewhere = () => {
      asked++;
      return new Promise<number[]>(() => {});
    };
    const fn = w.fn('lambda-hung-list', { format: 'lambda' });
    const started = Date.now();
    const answer = await Promise.race([w.invoke(fn), sleep(5000).then(() => assert.fail('the call waited on the hung list for 5 s'))]);
    assert.equal(answer.status, 200);
    const waited = Date.now() - started;
    assert.ok(waited >= 450, `the list was waited for first (${waited} ms)`);
    assert.equal(asked, 1);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    assert.ok(c.task.cpuset === '0' || c.task.cpuset === '1', `pinned to one of the agent's CPUs (${String(c.task.cpuset)})`);
  }, PINNING));

// A call waiting for its start is served within the grace period (the list's wait is bounded
// anyway); the grace period's end (0 here: at once) ends the wait.
test('the end of a stop\'s grace period ends a Lambda start\'s wait for a hung list at once: the call is refused and recorded cancelled, no container started', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    let askedAt = 0;
    w.engine.cpusPinnedElsewhere = () => {
      askedAt = Date.now();
      return new Promise<number[]>(() => {});
    };
    const fn = w.fn('lambda-hung-at-stop', { format: 'lambda' });
    const call = w.invoke(fn, 'hung-at-stop').then(() => undefined, (err: unknown) => err);
    await waitFor('the agent asked the engine', () => askedAt > 0, 3000);
    await w.shutdown();
    const err = await call;
    const took = Date.now() - askedAt;
    assert.ok(err instanceof AgentError, `refused with an AgentError: ${String(err)}`);
    assert.equal(err.kind, 'shutting-down', err.message);
    assert.ok(took < 450, `the stop did not wait out the list's 0.5 s bound (${took} ms)`);
    assert.equal(w.engine.containers.length, 0, 'no container was started for it');
    assert.equal(w.store.calls.get('hung-at-stop')?.status, 'cancelled');
  }, { ...PINNING, shutdownGraceMs: 0 }));

test('a function that read a large head and the call, then dropped the connection, failed: the call is not taken for a refused head, and its container goes', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('drops-after-reading');
    w.engine.behaviour = () => ({ dropAfterReading: true });
    // Over the 16 KiB a broken pipe while sending is taken for a refusal at: read whole, though.
    const err = await w.invoke(fn, 'dropped', { cookie: `s=${'c'.repeat(20_000)}` }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AgentError, `failed with an AgentError: ${String(err)}`);
    assert.equal(err.kind, 'function-failed', err.message);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    assert.equal(c.calls, 1, 'the function ran the call');
    await waitFor('the container removed', () => c.state === 'removed', 5000);
  }));

/** A call on `fn` that leaves its container frozen; the container. */
async function frozenContainer(w: StandInWorld, fn: ReturnType<StandInWorld['fn']>): Promise<StandInContainer> {
  assert.equal((await w.invoke(fn)).status, 200);
  await waitFor('the container frozen', () => w.agent.stats().containers.frozen === 1, 3000);
  return w.engine.of(fn.id)[0]!;
}

test('an unfreeze the engine never answers holds a call no longer than KILN_MAX_QUEUE_MSECS: 503', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('unfreeze-hangs');
    const c = await frozenContainer(w, fn);
    c.onUnfreeze = () => new Promise<void>(() => {});
    const began = Date.now();
    const err = await Promise.race([w.invoke(fn).then(() => undefined, (e: unknown) => e), sleep(5000, 'still waiting')]);
    const took = Date.now() - began;
    assert.ok(err instanceof AgentError, `refused with an AgentError: ${String(err)}`);
    assert.equal(toHttpError(err).status, 503, err.message);
    assert.ok(took >= 900 && took < 1500, `the queue bound (1 s) ended the wait (${took} ms)`);
    assert.equal(w.agent.stats().queued, 0);
    assert.deepEqual(w.logged.filter((l) => l.msg.includes('unpause')), [], 'a call that gave up is no engine failure');
  }, { maxQueueMs: 1000 }));

test('an unfreeze slower than the queue bound refuses that call, and the container, kept thawed, serves the next ones at once', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('unfreeze-slow');
    const c = await frozenContainer(w, fn);
    let unfreezes = 0;
    c.onUnfreeze = () => {
      unfreezes++;
      return sleep(1500);
    };
    const err = await w.invoke(fn).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AgentError && toHttpError(err).status === 503, `the first call is refused at the bound: ${String(err)}`);
    await waitFor('the container idle again', () => w.agent.stats().containers.idle === 1, 3000);
    await sleep(200); // past FN_FREEZE_IDLE_MSECS: it would be frozen again by now
    for (let i = 0; i < 3; i++) {
      const began = Date.now();
      const r = await w.invoke(fn);
      assert.equal(r.status, 200);
      assert.equal(r.json().container, c.id);
      assert.ok(Date.now() - began < 500, `served warm (${Date.now() - began} ms)`);
      await sleep(200);
    }
    assert.equal(unfreezes, 1, 'never frozen again');
  }, { maxQueueMs: 1000 }));

test('an unfreeze that fails late (the engine\'s pause bound) drops the container, and the call gets a start within the queue bound', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('unfreeze-late');
    const c = await frozenContainer(w, fn);
    c.onUnfreeze = () => sleep(300).then(() => Promise.reject(new Error('unpausing container: the container engine did not answer within 300 ms')));
    const r = await w.invoke(fn);
    assert.equal(r.status, 200);
    const [, fresh] = w.engine.of(fn.id);
    assert.equal(r.json().container, fresh?.id, 'a new container took the call');
    await waitFor('the unanswered one removed', () => c.state === 'removed', 3000);
    const said = w.logged.filter((l) => l.msg === 'could not unpause a frozen container; it is replaced');
    assert.equal(said.length, 1, JSON.stringify(w.logged));
    assert.equal(said[0]!.container, c.id);
    assert.match(said[0]!.err?.message ?? '', /did not answer within 300 ms/);
  }, { maxQueueMs: 1000 }));

test('a pause the engine fails is logged, and the next call replaces the container', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('pause-fails');
    assert.equal((await w.invoke(fn)).status, 200);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    c.onFreeze = () => Promise.reject(new Error('pausing container: the container engine did not answer within 5000 ms'));
    await waitFor('the pause tried', () => w.logged.length > 0, 3000);
    assert.equal(w.logged[0]!.msg, 'could not pause an idle container; its next call replaces it');
    assert.equal(w.logged[0]!.container, c.id);
    const r = await w.invoke(fn);
    assert.equal(r.status, 200);
    assert.notEqual(r.json().container, c.id, 'a new container took the call');
  }));

test('a container whose output stopped reaching the agent takes no new call: idle it goes at once, busy after its call', { timeout: 15_000 }, () =>
  inWorld(256, async (w) => {
    const fn = w.fn('output-lost', { idle_timeout: 600 });
    assert.equal((await w.invoke(fn)).status, 200);
    const [idle] = w.engine.of(fn.id) as [StandInContainer];
    idle.loseOutput();
    await waitFor('the idle one removed', () => idle.state === 'removed', 3000);
    const r = await w.invoke(fn);
    const [, busy] = w.engine.of(fn.id) as [StandInContainer, StandInContainer];
    assert.equal(r.json().container, busy.id, 'a new container took the next call');
    // Lost while a call runs: the call finishes there, and the container goes after it.
    const slow = w.fn('output-lost-busy', { idle_timeout: 600 });
    w.engine.behaviour = () => ({ answerDelayMs: 300 });
    const first = w.invoke(slow);
    await waitFor('the call running', () => w.engine.of(slow.id)[0]?.state === 'running', 3000);
    const [running] = w.engine.of(slow.id) as [StandInContainer];
    await sleep(100);
    running.loseOutput();
    assert.equal((await first).status, 200, 'its call finishes');
    await waitFor('removed after its call', () => running.state === 'removed', 3000);
    assert.notEqual((await w.invoke(slow)).json().container, running.id, 'the next call gets another');
  }));

test('a call that looked its fn up before an update is served as it was, and its container then retires; later calls get one of what it is', () =>
  inWorld(512, async (w) => {
    const looked = w.fn('raced', { config: { SECRET: 'old' } });
    const now = w.fn('raced', { config: { SECRET: 'new' }, updated_at: new Date(Date.parse(looked.updated_at) + 1000).toISOString() });
    // The write lands between the call's lookup and its reaching the agent.
    w.agent.fnUpdated(now);
    assert.equal((await w.invoke(looked)).status, 200);
    const [old] = w.engine.of(looked.id) as [StandInContainer];
    await waitFor('the container of the old settings removed', () => old.state === 'removed');
    assert.equal((await w.invoke(now)).status, 200);
    const kept = w.engine.of(now.id).filter((c) => c.state !== 'removed');
    await sleep(300);
    assert.equal(kept.length, 1);
    assert.notEqual(kept[0]!.state, 'removed', 'a container of the fn as it is stays hot');
  }));

test('a call that looked its fn up before it was deleted is served, and its container then retires', () =>
  inWorld(512, async (w) => {
    const fn = w.fn('deleted');
    w.agent.fnDeleted(fn.id);
    assert.equal((await w.invoke(fn)).status, 200);
    const [c] = w.engine.of(fn.id) as [StandInContainer];
    await waitFor('its container removed', () => c.state === 'removed');
  }));
