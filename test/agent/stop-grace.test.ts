// What a SIGTERM's grace period covers besides calls on a container: calls waiting for their
// container (a cold start, capacity). Each is served within the grace and cut only at its end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { sqliteDb } from '../helpers/db.js';
import { docker as dockerClient, fixtureImage } from '../helpers/images.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';

const MiB = 1024 * 1024;

async function removeNodeContainers(docker: Docker, nodeId: string): Promise<void> {
  for (const c of await nodeContainers(docker, nodeId)) {
    await docker.getContainer(c.Id).remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
    });
  }
}

/** A server process with one fn of the tester image (`fields` on top of its defaults), and its clean-up. */
async function serverWithFn(env: Record<string, string>, fields: Record<string, unknown> = {}) {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const fullEnv = { FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), FN_IOFS_PATH: iofs, KILN_DOCKER_PULL: 'false', ...env };
  let srv: ServerProcess | undefined;
  const cleanup = async () => {
    await srv?.stop('SIGKILL');
    await removeNodeContainers(docker, fullEnv.KILN_NODE_ID);
    rmSync(iofs, { recursive: true, force: true });
    await db.cleanup();
  };
  try {
    srv = await spawnServer(fullEnv);
    const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'grace' })).body;
    const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: tester, memory: 32, ...fields })).body;
    assert.ok(fn.id, JSON.stringify(fn));
    /** The fn's call records, read by a server started again on the same database (this one stopped). */
    const records = async (): Promise<{ status: string; error?: string }[]> => {
      const again = await spawnServer({ ...fullEnv, KILN_NODE_ID: `${fullEnv.KILN_NODE_ID}-b` });
      try {
        return ((await call(again.url, 'GET', `/v2/fns/${fn.id}/calls`)).body as { items: { status: string; error?: string }[] }).items;
      } finally {
        await again.stop('SIGTERM');
      }
    };
    return { srv, docker, nodeId: fullEnv.KILN_NODE_ID, fnId: fn.id as string, records, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

test('a call whose container is still starting at SIGTERM is served within the grace period', { timeout: 60_000 }, async () => {
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '10000' }, { config: { MODE: 'slowstart', STARTUP_MS: '2500' } });
  try {
    const answer = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, {});
    assert.ok(await eventually(async () => (await fetch(`${s.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="starting"} 1'), 10_000));
    assert.equal(await s.srv.stop('SIGTERM'), 0);
    const r = await answer;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), [], 'the container it started is removed by the stop');
    assert.deepEqual((await s.records()).map((c) => c.status), ['success']);
  } finally {
    await s.cleanup();
  }
});

test('a call queued for capacity at SIGTERM is served within the grace period', { timeout: 60_000 }, async () => {
  // Room for one container: the second call waits for the first one's.
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '10000', FN_MAX_TOTAL_MEMORY_BYTES: String(48 * MiB), FN_FREEZE_IDLE_MSECS: '-1' });
  try {
    const first = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, { sleepMs: 2000 });
    assert.ok(await eventually(async () => (await fetch(`${s.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="busy"} 1'), 10_000));
    const second = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, {});
    assert.ok(await eventually(async () => /^kiln_calls_queued 1$/m.test(await fetch(`${s.srv.url}/metrics`).then((r) => r.text())), 5000), 'the second call waits');
    assert.equal(await s.srv.stop('SIGTERM'), 0);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), []);
  } finally {
    await s.cleanup();
  }
});

test('a call still waiting for its container when the grace period ends gets 503 and is recorded as cancelled; the container starting for it is removed', { timeout: 60_000 }, async () => {
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '1000' }, { config: { MODE: 'slowstart', STARTUP_MS: '4000' } });
  try {
    const answer = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, {});
    assert.ok(await eventually(async () => (await fetch(`${s.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="starting"} 1'), 10_000));
    const t0 = Date.now();
    assert.equal(await s.srv.stop('SIGTERM'), 0);
    const r = await answer;
    const message = 'Server is shutting down: the call was still waiting for a container when KILN_SHUTDOWN_GRACE_MSECS ran out';
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal((r.body as { message: string }).message, message);
    assert.equal(r.headers.get('retry-after'), '15');
    assert.ok(Date.now() - t0 >= 900, 'not before the grace period ended');
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), [], 'nothing left running');
    assert.deepEqual((await s.records()).map((c) => [c.status, c.error]), [['cancelled', message]]);
  } finally {
    await s.cleanup();
  }
});
