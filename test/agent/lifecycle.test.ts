// The life of hot containers: freezing, retiring, capacity, eviction, bounded waits, restarts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { sqliteDb } from '../helpers/db.js';
import { docker as dockerClient, fixtureImage } from '../helpers/images.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { NODE_LABEL } from '../../drivers/docker/driver.js';
import { call, uniqueNodeId } from '../helpers/server.js';
import { testLabels } from '../helpers/base-images.js';
import { nodeTag } from '../../agent/socket-dir-name.js';

const MiB = 1024 * 1024;

describe('hot container lifecycle', () => {
  let t: AgentSuite;
  const mkFn = (name: string, fields?: Record<string, unknown>) => t.mkFn(name, fields);
  const invoke = (fnId: string, body?: unknown) => t.invoke(fnId, body);
  const containersOf = async (fnId: string) =>
    (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fnId);
  /** Starts the server again, so no idle container of an earlier test is left to evict. */
  const drainIdle = () => t.restart();

  before(async () => {
    t = await agentSuite('life', {
      FN_FREEZE_IDLE_MSECS: '0',
      FN_MAX_TOTAL_MEMORY_BYTES: String(300 * MiB),
      // Bounds each call's wait for its container's start too: 800 ms gave a cold start on a
      // loaded machine (a CI run with a core kept busy) a 503 at 851 ms, and three at once took 1 s.
      KILN_MAX_QUEUE_MSECS: '5000',
    });
  });

  after(async () => {
    await t?.close();
  });

  test('an idle container is frozen and unfrozen for the next call', async () => {
    const fn = await mkFn('freeze', { memory: 64 });
    assert.equal((await invoke(fn.id)).status, 200);
    assert.ok(await eventually(async () => (await containersOf(fn.id))[0]?.State === 'paused'), 'paused when idle');
    const r = await invoke(fn.id);
    assert.equal(r.status, 200);
    assert.equal(r.body.calls, 2, 'the same container, unfrozen');
  });

  test('an idle container is removed after the fn’s idle_timeout', async () => {
    const fn = await mkFn('retire', { memory: 64, idle_timeout: 1 });
    assert.equal((await invoke(fn.id)).status, 200);
    assert.equal((await containersOf(fn.id)).length, 1);
    assert.ok(await eventually(async () => (await containersOf(fn.id)).length === 0, 5000), 'retired');
  });

  test('concurrent calls get a container each; later calls reuse the newest', async () => {
    // Every container's process has the same pid in its own namespace: the hostname (the
    // container id) tells them apart.
    const fn = await mkFn('burst', { memory: 32, config: { ECHO_ENV: 'HOSTNAME' } });
    const host = (r: { body: { env: Record<string, string> } }) => r.body.env.HOSTNAME;
    const results = await Promise.all([1, 2, 3].map(() => invoke(fn.id, { sleepMs: 1500 })));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.equal(new Set(results.map(host)).size, 3, 'three overlapping calls, three containers');
    assert.equal((await containersOf(fn.id)).length, 3, 'no more containers than calls');
    const a = await invoke(fn.id);
    const b = await invoke(fn.id);
    assert.equal(host(a), host(b), 'LIFO: the most recently used container serves again');
  });

  test('a fn larger than the host can give is refused with 400', async () => {
    const fn = await mkFn('huge', { memory: 4096 });
    const r = await invoke(fn.id);
    assert.equal(r.status, 400);
    // Fn's words (ErrCallResourceTooBig), then how much this server has.
    assert.match(r.body.message, /^Requested CPU\/Memory cannot be allocated: fn memory 4096 MB is more than this server can give \(\d+ MB\)$/);
  });

  test('when memory is short, the oldest idle container of another fn is evicted', async () => {
    // 300 MiB total: two 128 MiB containers fit, a third needs an eviction.
    await drainIdle();
    const a = await mkFn('evict-a', { memory: 128 });
    const b = await mkFn('evict-b', { memory: 128 });
    const c = await mkFn('evict-c', { memory: 128 });
    assert.equal((await invoke(a.id)).status, 200);
    assert.equal((await invoke(b.id)).status, 200);
    assert.equal((await invoke(c.id)).status, 200);
    assert.ok(await eventually(async () => (await containersOf(a.id)).length === 0), 'a, the oldest idle, was evicted');
    assert.equal((await containersOf(b.id)).length, 1);
  });
});

describe('capacity: the wait is bounded', () => {
  let t: AgentSuite;
  before(async () => {
    t = await agentSuite('bounded', { FN_MAX_TOTAL_MEMORY_BYTES: String(300 * MiB), KILN_MAX_QUEUE_MSECS: '2500' });
  });
  after(async () => {
    await t?.close();
  });
  const mkFn = (name: string, fields?: Record<string, unknown>) => t.mkFn(name, fields);
  const invoke = (fnId: string, body?: unknown) => t.invoke(fnId, body);

  test('with no capacity and nothing idle to evict, a call waits a bounded time then gets 503', async () => {
    const hog1 = await mkFn('hog-1', { memory: 128 });
    const hog2 = await mkFn('hog-2', { memory: 128 });
    const late = await mkFn('late', { memory: 128 });
    // Busy past the late call's bound (2.5 s), so it can only be refused.
    const busy = [invoke(hog1.id, { sleepMs: 5000 }), invoke(hog2.id, { sleepMs: 5000 })];
    // Both running (their starts take a while on a loaded machine), the memory all theirs.
    assert.ok(await eventually(async () => (await fetch(`${t.srv.url}/metrics`).then((m) => m.text())).includes('kiln_containers{state="busy"} 2'), 10_000));
    const t0 = Date.now();
    const r = await invoke(late.id);
    assert.equal(r.status, 503);
    assert.equal(r.body.message, 'Timed out - server too busy');
    assert.equal(r.headers.get('retry-after'), '15');
    const waited = Date.now() - t0;
    assert.ok(waited >= 2400 && waited < 4000, `the wait is bounded by KILN_MAX_QUEUE_MSECS (${waited} ms)`);
    assert.deepEqual((await Promise.all(busy)).map((x) => x.status), [200, 200]);
  });
});

describe('capacity: a start stands for a waiting call', () => {
  let t: AgentSuite;
  before(async () => {
    // Room for two 128 MiB containers; a queue bound long enough to outlast the callers below.
    t = await agentSuite('gone', { FN_MAX_TOTAL_MEMORY_BYTES: String(300 * MiB), KILN_MAX_QUEUE_MSECS: '8000' });
  });
  after(async () => {
    await t?.close();
  });

  test('a call whose caller went away while it waited for memory starts nothing and evicts nothing', async () => {
    const containersOf = async (fnId: string) =>
      (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fnId);
    const hog1 = await t.mkFn('hog-1', { memory: 128 });
    const hog2 = await t.mkFn('hog-2', { memory: 128 });
    const late = await t.mkFn('late', { memory: 128 });
    const busy = [t.invoke(hog1.id, { sleepMs: 1500 }), t.invoke(hog2.id, { sleepMs: 1500 })];
    await new Promise((r) => setTimeout(r, 700));
    // The caller gives up while its call waits for memory the two busy calls hold.
    const gone = fetch(`${t.srv.url}/invoke/${late.id}`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(300) });
    await assert.rejects(gone);
    assert.deepEqual((await Promise.all(busy)).map((x) => x.status), [200, 200]);
    // Memory is released now: a start still waiting for the gone call would evict an idle hog for it.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await containersOf(late.id)).length, 0, 'no container started for a caller who left');
    assert.equal((await containersOf(hog1.id)).length, 1, "hog-1's warm container kept");
    assert.equal((await containersOf(hog2.id)).length, 1, "hog-2's warm container kept");
    assert.equal((await t.calls(late.id))[0]?.status, 'cancelled');
  });
});

/** The socket directories in a socket base: not the node id's lock file (agent/node-lock.ts). */
const socketDirs = (base: string): string[] => readdirSync(base).filter((name) => !/^node-[0-9a-f]{16}\.pid$/.test(name));

test('containers left by a killed server are removed when it starts again', async () => {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const env = { FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), FN_IOFS_PATH: iofs, KILN_DOCKER_PULL: 'false' };
  let srv: ServerProcess | undefined;
  try {
    srv = await spawnServer(env);
    const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'killed' })).body;
    const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: tester, memory: 32 })).body;
    assert.equal((await call(srv.url, 'POST', `/invoke/${fn.id}`, '{}')).status, 200);
    await srv.stop('SIGKILL');
    assert.equal((await nodeContainers(docker, env.KILN_NODE_ID)).length, 1, 'the kill left its container');
    assert.equal(socketDirs(iofs).length, 1, 'and its socket directory');

    srv = await spawnServer(env);
    assert.equal((await nodeContainers(docker, env.KILN_NODE_ID)).length, 0, 'removed at start-up');
    assert.deepEqual(socketDirs(iofs), [], 'with its socket directory');
    assert.equal((await call(srv.url, 'POST', `/invoke/${fn.id}`, '{}')).status, 200, 'and calls work');
    assert.equal(await srv.stop('SIGTERM'), 0);
    assert.equal((await nodeContainers(docker, env.KILN_NODE_ID)).length, 0, 'a graceful stop removes its containers');
    assert.deepEqual(readdirSync(iofs), [], 'and their socket directories, and its node id lock');
  } finally {
    // A failed assertion must not leave the second server running (the file would never end).
    await srv?.stop('SIGKILL');
    await removeNodeContainers(docker, env.KILN_NODE_ID);
    rmSync(iofs, { recursive: true, force: true });
    await db.cleanup();
  }
});

// A stop cut short (or a kill) after the engine removed the containers, but before the server
// removed their socket directories, left those on the host for good: no container names them.
test("a start, and a stop, remove this node's socket directories no container mounts; not another node's, an untagged one, or one a container mounts", async () => {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const nodeId = uniqueNodeId();
  const own = (six: string) => `c${nodeTag(nodeId)}-${six}`;
  const otherNode = `c${nodeTag(`${nodeId}-other`)}-AbC123`;
  const kept = [own('mOunt1'), otherNode, 'cAbC123'].sort();
  for (const name of [own('AbC123'), own('dEf456'), ...kept]) {
    mkdirSync(join(iofs, name, 'deep'), { recursive: true });
    writeFileSync(join(iofs, name, 'deep', 'file'), 'x');
  }
  // Another container on the engine (not this node's: the sweep would take it) mounts one of them.
  const holder = await docker.createContainer({ Image: tester, Labels: testLabels('lifecycle'), HostConfig: { Binds: [`${join(iofs, own('mOunt1'))}:/tmp/iofs`] } });
  let srv: ServerProcess | undefined;
  try {
    srv = await spawnServer({ FN_DB_URL: db.url, KILN_NODE_ID: nodeId, FN_IOFS_PATH: iofs, KILN_DOCKER_PULL: 'false' });
    assert.deepEqual(socketDirs(iofs).sort(), kept, 'removed at start-up');
    assert.match(srv.output(), /"removed":2,[^\n]*"msg":"removed 2 socket directories of this node that no container mounts"/);
    // One left while it ran goes at the end of the stop.
    mkdirSync(join(iofs, own('gHi789')));
    assert.equal(await srv.stop('SIGTERM'), 0);
    assert.deepEqual(readdirSync(iofs).sort(), kept, 'removed at the end of the stop');
  } finally {
    await srv?.stop('SIGKILL');
    await holder.remove({ force: true });
    await removeNodeContainers(docker, nodeId);
    rmSync(iofs, { recursive: true, force: true });
    await db.cleanup();
  }
});

/**
 * Removes what is left of a node's containers; one already gone or going (the server's own sweep
 * got there first: 404, or 409 while it removes it) is not an error.
 */
async function removeNodeContainers(docker: Docker, nodeId: string): Promise<void> {
  for (const c of await nodeContainers(docker, nodeId)) {
    await docker.getContainer(c.Id).remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
    });
  }
}

/** A server process with one fn of the tester image, and what it takes to clean up after it. */
async function processWithFn(extra: Record<string, string>) {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const env = { FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), FN_IOFS_PATH: iofs, KILN_DOCKER_PULL: 'false', ...extra };
  const srv = await spawnServer(env);
  const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'stopping' })).body;
  const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: tester, memory: 32 })).body;
  /** A call under way: resolves once the container has it (to its answer, wrapped: not awaited). */
  const running = async (body: unknown): Promise<{ answer: Promise<{ status: number }> }> => {
    const answer = call(srv.url, 'POST', `/invoke/${fn.id}`, body).catch(() => ({ status: 0 }));
    assert.ok(await eventually(async () => (await fetch(`${srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="busy"} 1'), 10_000));
    return { answer };
  };
  const cleanup = async () => {
    await srv.stop('SIGKILL');
    await removeNodeContainers(docker, env.KILN_NODE_ID);
    rmSync(iofs, { recursive: true, force: true });
    await db.cleanup();
  };
  return { srv, docker, env, fnId: fn.id as string, running, cleanup };
}

// A container whose removal the engine failed past the retries, or one a failed start could not
// remove, ran on unseen (its memory uncounted) until the next start-up.
test('a container of this node the agent does not hold is removed while the server runs; the ones it holds stay', async () => {
  const p = await processWithFn({ KILN_ORPHAN_SWEEP_MSECS: '500', FN_FREEZE_IDLE_MSECS: '-1' });
  try {
    const first = await call(p.srv.url, 'POST', `/invoke/${p.fnId}`, {});
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const [hot] = await nodeContainers(p.docker, p.env.KILN_NODE_ID);
    assert.ok(hot);
    // One the agent lost track of, as the engine left it: running, with this node's label.
    // The sweep (every 500 ms) may take one made but not started yet: make another then.
    let lost: Docker.Container | undefined;
    for (let i = 0; i < 10 && !lost; i++) {
      const made = await p.docker.createContainer({ Image: await fixtureImage('tester'), Labels: { [NODE_LABEL]: p.env.KILN_NODE_ID }, Env: ['MODE=nosocket'] });
      lost = await made.start().then(() => made, (err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
        return undefined;
      });
    }
    assert.ok(lost, 'a lost container runs');
    assert.ok(await eventually(async () => (await nodeContainers(p.docker, p.env.KILN_NODE_ID)).every((c) => c.Id !== lost!.id), 10_000), 'the lost one is gone');
    assert.deepEqual((await nodeContainers(p.docker, p.env.KILN_NODE_ID)).map((c) => c.Id), [hot.Id], 'the hot one stays');
    const again = await call(p.srv.url, 'POST', `/invoke/${p.fnId}`, {});
    assert.equal(again.status, 200);
    assert.equal((again.body as { pid: number }).pid, (first.body as { pid: number }).pid, 'and still serves');
    assert.match(p.srv.output(), /"removed":1,"containers":\["[^"]+"\],"msg":"removed containers of this node the agent no longer held/);
  } finally {
    await p.cleanup();
  }
});

test("a second server with the same node id on the same port stops at once, leaving the first one's containers", async () => {
  const p = await processWithFn({});
  try {
    const { answer } = await p.running({ sleepMs: 1500 });
    const port = new URL(p.srv.url).port;
    await assert.rejects(spawnServer({ ...p.env, FN_PORT: port }), /port \d+ on 127\.0\.0\.1 is already in use: set FN_PORT to a free one \(a second Kiln on this host also needs a KILN_NODE_ID of its own\)/);
    assert.equal((await answer).status, 200, "the first server's call finished");
    assert.equal((await nodeContainers(p.docker, p.env.KILN_NODE_ID)).length, 1, 'its container is still there');
  } finally {
    await p.cleanup();
  }
});

test("a second server with the same node id on another port stops at once, leaving the first one's containers; once the first has stopped it starts", async () => {
  const p = await processWithFn({});
  try {
    const { answer } = await p.running({ sleepMs: 1500 });
    // FN_PORT 0: another port. Before the lock its start-up sweep removed the first one's container.
    await assert.rejects(spawnServer(p.env), new RegExp(`kiln: failed to start: another Kiln server \\(pid ${p.srv.child.pid}\\) is running with node id "${p.env.KILN_NODE_ID}" on this machine, and this one would remove its containers: give each server its own KILN_NODE_ID`));
    assert.equal((await answer).status, 200, "the first server's call finished");
    assert.equal((await nodeContainers(p.docker, p.env.KILN_NODE_ID)).length, 1, 'its container is still there');
    assert.equal(await p.srv.stop('SIGTERM'), 0);
    const next = await spawnServer(p.env);
    assert.equal((await call(next.url, 'POST', `/invoke/${p.fnId}`, '{}')).status, 200, 'the node id is free again');
    assert.equal(await next.stop('SIGTERM'), 0);
  } finally {
    await p.cleanup();
  }
});

test('SIGTERM lets a running call finish within the grace period, then removes every container', async () => {
  const p = await processWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '5000' });
  try {
    // One of this node's that the agent lost track of (a removal the engine failed, say).
    await p.docker.createContainer({ Image: await fixtureImage('tester'), Labels: { [NODE_LABEL]: p.env.KILN_NODE_ID } });
    const { answer } = await p.running({ sleepMs: 1500 });
    const t0 = Date.now();
    assert.equal(await p.srv.stop('SIGTERM'), 0);
    assert.equal((await answer).status, 200, 'the running call finished');
    const took = Date.now() - t0;
    assert.ok(took > 1000 && took < 5000, `the stop waited for the call, not for the grace period (${took} ms)`);
    assert.deepEqual(await nodeContainers(p.docker, p.env.KILN_NODE_ID), []);
  } finally {
    await p.cleanup();
  }
});

test('a call still running when the grace period ends gets 503 and is recorded as cancelled by the shutdown, not as the function failing', async () => {
  const p = await processWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '1000' });
  try {
    const answer = call(p.srv.url, 'POST', `/invoke/${p.fnId}`, { sleepMs: 8000 });
    assert.ok(await eventually(async () => (await fetch(`${p.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="busy"} 1'), 10_000));
    assert.equal(await p.srv.stop('SIGTERM'), 0);
    const r = await answer;
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.match((r.body as { message: string }).message, /^Server is shutting down: the call was still running when KILN_SHUTDOWN_GRACE_MSECS ran out$/);
    assert.equal(r.headers.get('retry-after'), '15');
    // The stop is logged at info, its start (with the call still running) and its end.
    assert.match(p.srv.output(), /"running":1,"msg":"stopping: no new calls; running ones may finish within KILN_SHUTDOWN_GRACE_MSECS"/);
    assert.match(p.srv.output(), /"msg":"stopped"/);
    // The record, read by a server started again on the same database.
    const again = await spawnServer({ ...p.env, KILN_NODE_ID: `${p.env.KILN_NODE_ID}-b` });
    try {
      const calls = (await call(again.url, 'GET', `/v2/fns/${p.fnId}/calls`)).body as { items: { status: string; error?: string }[] };
      assert.deepEqual(calls.items.map((c) => [c.status, c.error]), [['cancelled', (r.body as { message: string }).message]]);
    } finally {
      await again.stop('SIGTERM');
    }
  } finally {
    await p.cleanup();
  }
});

test("a second SIGINT within 0.5 s is the same stop (a terminal's Ctrl-C reaches kiln start and its server both)", async () => {
  const p = await processWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '5000' });
  try {
    const { answer } = await p.running({ sleepMs: 1500 });
    const exited = new Promise<number | null>((resolve) => p.srv.child.once('exit', (code) => resolve(code)));
    p.srv.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 20));
    p.srv.child.kill('SIGINT');
    assert.equal(await exited, 0, 'a graceful stop');
    assert.equal((await answer).status, 200, 'the running call finished');
    assert.deepEqual(await nodeContainers(p.docker, p.env.KILN_NODE_ID), []);
  } finally {
    await p.cleanup();
  }
});

test('a second SIGTERM (0.5 s or more after the first) stops the server at once, grace period or not', async () => {
  const p = await processWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '30000' });
  try {
    await p.running({ sleepMs: 20_000 });
    const exited = new Promise<number | null>((resolve) => p.srv.child.once('exit', (code) => resolve(code)));
    p.srv.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 700));
    const t0 = Date.now();
    p.srv.child.kill('SIGTERM');
    const code = await exited;
    assert.ok(Date.now() - t0 < 2000, `exited ${Date.now() - t0} ms after the second signal`);
    assert.equal(code, 1);
  } finally {
    await p.cleanup();
  }
});
