// Fn's agent settings on real containers: the ulimits and /tmp's inodes a container gets, seen
// both as Kiln asked the engine (docker inspect) and from inside the container.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';

interface Probe {
  limits: string;
  tmpInodes: number;
}

/** Soft limits by their /proc/self/limits name ("Max locked memory" -> 131072). */
function softLimits(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n').slice(1)) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

describe('container limits from FN_MAX_LOCKED_MEMORY, FN_MAX_PENDING_SIGNALS, FN_MAX_MESSAGE_QUEUE, FN_MAX_TMPFS_INODES', () => {
  let t: AgentSuite;

  before(async () => {
    t = await agentSuite('limits', {
      FN_MAX_LOCKED_MEMORY: '131072',
      FN_MAX_PENDING_SIGNALS: '321',
      // 0: Kiln sets no msgqueue ulimit, the engine's default applies (as Fn).
      FN_MAX_MESSAGE_QUEUE: '0',
      FN_MAX_TMPFS_INODES: '500',
      FN_MAX_OPEN_FILES: '400',
    });
  });

  after(async () => {
    await t?.close();
  });

  test('the engine is asked for them, and the function runs under them', async () => {
    const fn = await t.mkFn('probe', { memory: 64 });
    const r = await t.invoke(fn.id, { probe: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    const mine = (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fn.id);
    assert.equal(mine.length, 1);
    const host = (await t.docker.getContainer(mine[0]!.Id).inspect()).HostConfig;
    assert.deepEqual(host.Ulimits, [
      { Name: 'nofile', Soft: 400, Hard: 400 },
      { Name: 'memlock', Soft: 131072, Hard: 131072 },
      { Name: 'sigpending', Soft: 321, Hard: 321 },
    ]);
    assert.match(host.Tmpfs?.['/tmp'] ?? '', /(^|,)nr_inodes=500(,|$)/);

    const probe = r.body.probe as Probe;
    const soft = softLimits(probe.limits);
    assert.equal(soft['Max locked memory'], '131072');
    assert.equal(soft['Max pending signals'], '321');
    assert.equal(soft['Max open files'], '400');
    assert.ok(soft['Max msgqueue size'], 'a msgqueue limit is there, the engine\'s');
    assert.equal(probe.tmpInodes, 500, '/tmp has FN_MAX_TMPFS_INODES inodes');
  });
});

// 200 MiB in all: one 128 MB container fits, a second needs the first's memory back.
const CAPACITY = { FN_MAX_TOTAL_MEMORY_BYTES: String(200 * 1024 * 1024) };

/** Fn `a` warm, then busy for `busyMs`: its container holds the memory fn `b` needs. */
async function hogged(t: AgentSuite, busyMs: number) {
  const a = await t.mkFn(`a-${Date.now()}`, { memory: 128 });
  const b = await t.mkFn(`b-${Date.now()}`, { memory: 128 });
  assert.equal((await t.invoke(a.id)).status, 200, 'a warm');
  const busy = t.invoke(a.id, { sleepMs: busyMs });
  // Waited for, not slept for: on a loaded machine the call may take a while to reach a's
  // container, and b's call must not find that container idle. (A short call may be over first.)
  let over = false;
  void busy.then(() => (over = true), () => (over = true));
  assert.ok(await eventually(async () => over || t.srv.agent.stats().containers.busy === 1, 10_000), "the call is on a's container");
  const containersOf = async (fnId: string) =>
    (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fnId).length;
  return { a, b, busy, containersOf };
}

describe('without FN_ENABLE_NB_RESOURCE_TRACKER: a call short of memory waits', () => {
  let t: AgentSuite;

  before(async () => {
    t = await agentSuite('blocking', { ...CAPACITY, KILN_MAX_QUEUE_MSECS: '5000' });
  });

  after(async () => {
    await t?.close();
  });

  test('until the busy container of another fn goes idle, which is then evicted for it', async () => {
    const { a, b, busy, containersOf } = await hogged(t, 1500);
    const t0 = Date.now();
    const r = await t.invoke(b.id);
    const waited = Date.now() - t0;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await busy).status, 200);
    assert.ok(waited >= 1000, `waited for a's call to end (${waited} ms)`);
    assert.ok(waited < 4500, `not until KILN_MAX_QUEUE_MSECS (${waited} ms)`);
    assert.equal(await containersOf(a.id), 0, 'a, idle, was evicted');
    assert.equal(await containersOf(b.id), 1);
  });
});

describe('FN_ENABLE_NB_RESOURCE_TRACKER=true: a call short of memory is a 503 at once', () => {
  let t: AgentSuite;

  before(async () => {
    t = await agentSuite('nonblocking', { ...CAPACITY, KILN_MAX_QUEUE_MSECS: '5000', FN_ENABLE_NB_RESOURCE_TRACKER: 'true' });
  });

  after(async () => {
    await t?.close();
  });

  test('with nothing idle to evict: 503 with Retry-After, no waiting', async () => {
    const { a, b, busy, containersOf } = await hogged(t, 2000);
    const t0 = Date.now();
    const r = await t.invoke(b.id);
    const took = Date.now() - t0;
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.message, 'Timed out - server too busy');
    assert.equal(r.headers.get('retry-after'), '15');
    assert.ok(took < 1000, `answered at once (${took} ms), not after a's call`);
    assert.equal((await busy).status, 200, 'the running call is not disturbed');
    assert.equal(await containersOf(a.id), 1);
    assert.equal(await containersOf(b.id), 0, 'nothing started for the refused call');
    const refused = (await t.calls(b.id))[0];
    assert.equal(refused?.status, 'error');
  });

  test('an idle container of another fn is still evicted for it', async () => {
    const { a, b, busy, containersOf } = await hogged(t, 300);
    assert.equal((await busy).status, 200);
    const r = await t.invoke(b.id);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await containersOf(a.id), 0, 'a, idle, was evicted');
  });
});
