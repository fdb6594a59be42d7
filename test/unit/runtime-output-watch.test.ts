// runtime/output-watch.ts: when the processes' output counts as read, before an answer, a new
// invocation, a freeze or a shutdown. A hand-driven container log stands in for stdout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerLog } from '../../runtime/container-log.js';
import { OutputWatch } from '../../runtime/output-watch.js';

function world() {
  const drains = new Set<() => void>();
  const log: ContainerLog = {
    write: () => true,
    bytes: 0,
    onceDrained(cb) {
      drains.add(cb);
      return () => drains.delete(cb);
    },
  };
  const events: string[] = [];
  const watch = new OutputWatch({ out: log, held: (on) => events.push(on ? 'pause' : 'resume'), flushAll: () => events.push('flush') });
  const drain = () => {
    const waiting = [...drains];
    drains.clear();
    for (const f of waiting) f();
  };
  return { watch, events, drain };
}

describe('OutputWatch', () => {
  test('nothing printed: an invocation starts at once, with the partial lines flushed', async () => {
    const { watch, events } = world();
    assert.equal(await watch.settleBefore(), 0);
    assert.deepEqual(events, ['flush']);
    assert.deepEqual(watch.mark(), { runtimeLinesFrom: 0, runtimeBytesFrom: 0 });
  });

  test('the runtime quiet since an invocation began, until it prints', () => {
    const { watch } = world();
    const { runtimeLinesFrom } = watch.mark();
    assert.equal(watch.quietSince(runtimeLinesFrom), true);
    watch.counted('extension', 'an extension line does not count');
    assert.equal(watch.quietSince(runtimeLinesFrom), true);
    watch.counted('runtime', 'héllo');
    assert.equal(watch.quietSince(runtimeLinesFrom), false);
    // Counted in bytes, with the line's newline.
    assert.deepEqual(watch.mark(), { runtimeLinesFrom: 1, runtimeBytesFrom: 7 });
  });

  test('a log that backs up pauses reading once, and resumes it when drained', async () => {
    const { watch, events, drain } = world();
    watch.hold();
    watch.hold();
    assert.equal(watch.held, true);
    assert.deepEqual(events, ['pause']);
    assert.equal(watch.quietSince(watch.mark().runtimeLinesFrom), false, 'held: the output is not known to be read');
    drain();
    assert.equal(watch.held, false);
    assert.deepEqual(events, ['pause', 'resume']);
  });

  test('a read waits while the log is held and returns once drained and quiet', async () => {
    const { watch, drain } = world();
    watch.hold();
    let done = false;
    const read = watch.read(Date.now() + 2000).then((r) => { done = true; return r; });
    await sleep(30);
    assert.equal(done, false, 'still held: not read');
    drain();
    assert.equal(await read, true);
  });

  test('a read bounded while output keeps coming says so', async () => {
    const { watch } = world();
    watch.counted('runtime', 'first');
    const chatter = setInterval(() => watch.counted('runtime', 'more'), 2);
    try {
      const t0 = Date.now();
      assert.equal(await watch.read(Date.now() + 80, true), false);
      assert.ok(Date.now() - t0 >= 75, 'it waited to its bound');
    } finally {
      clearInterval(chatter);
    }
  });

  test('output of the last invocation stuck in a backed-up log: the next one waits for the drain', async () => {
    const { watch, events, drain } = world();
    watch.answered();
    watch.counted('runtime', 'printed after the answer');
    watch.hold();
    setTimeout(drain, 40);
    const waited = await watch.settleBefore();
    assert.ok(waited >= 35 && waited < 250, `waited ${waited} ms`);
    assert.deepEqual(events, ['pause', 'resume', 'flush']);
  });

  test('a log that never drains holds the next invocation 250 ms at most, and its partial lines stay unflushed', async () => {
    const { watch, events } = world();
    watch.hold();
    const waited = await watch.settleBefore();
    assert.ok(waited >= 245 && waited < 400, `waited ${waited} ms`);
    assert.deepEqual(events, ['pause'], 'no flush: a line on its way would be split between two calls');
  });

  test('after an invocation that printed past a pipe, the next one waits for the output to have stopped', async () => {
    const { watch } = world();
    const from = watch.mark();
    watch.counted('runtime', 'x'.repeat(70 * 1024));
    watch.answered();
    watch.ended(from);
    const t0 = Date.now();
    await watch.settleBefore();
    // Quiet for OUTPUT_QUIET_MS (20 ms) since its last line, not just a quiet turn.
    assert.ok(Date.now() - t0 >= 15, `waited ${Date.now() - t0} ms`);
    // Decided once: the invocation after that starts at once.
    watch.ended(watch.mark());
    const t1 = Date.now();
    await watch.settleBefore();
    assert.ok(Date.now() - t1 < 15, `waited ${Date.now() - t1} ms`);
  });

  test('an extension that printed and came back to next lately is waited for; one parked long since is not', async () => {
    const { watch } = world();
    await watch.settleBefore();
    watch.counted('extension', 'y'.repeat(8192));
    watch.agentReady();
    const t0 = Date.now();
    await watch.settleBefore();
    // Past EXTENSION_QUEUED_BYTES: quiet for EXTENSION_QUIET_MS (50 ms) since its return to next.
    assert.ok(Date.now() - t0 >= 45, `waited ${Date.now() - t0} ms`);
    watch.counted('extension', 'y'.repeat(8192));
    await sleep(300);
    const t1 = Date.now();
    await watch.settleBefore();
    assert.ok(Date.now() - t1 < 15, `a steady logger parked for 300 ms holds no call: waited ${Date.now() - t1} ms`);
  });
});
