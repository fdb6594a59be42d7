// A stop's bound is on progress, not time: a server with many containers on an engine that
// removes them slowly stops cleanly however long that takes; one whose engine stopped answering
// exits with code 1 once nothing has been done for 15 s past the grace period.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqliteDb } from '../helpers/db.js';
import { docker as dockerClient, fixtureImage } from '../helpers/images.js';
import { nodeContainers } from '../helpers/containers.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';
import { slowEngine } from '../helpers/slow-engine.js';

/** A server on a slow engine with `n` frozen containers (one fn each), and its clean-up. */
async function serverWithContainers(n: number, removalMs: number) {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  const dir = mkdtempSync(join(tmpdir(), 'kiln-slow-'));
  const iofs = join(dir, 'iofs');
  const engine = await slowEngine(join(dir, 'engine.sock'), { removalMs });
  const nodeId = uniqueNodeId();
  let srv: ServerProcess | undefined;
  const cleanup = async () => {
    await srv?.stop('SIGKILL');
    await engine.close();
    // One at a time, past the slow proxy.
    for (const c of await nodeContainers(docker, nodeId)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await db.cleanup();
  };
  try {
    srv = await spawnServer({
      FN_DB_URL: db.url, KILN_NODE_ID: nodeId, FN_IOFS_PATH: iofs, KILN_DOCKER_PULL: 'false', DOCKER_HOST: engine.host,
      KILN_SHUTDOWN_GRACE_MSECS: '0', FN_FREEZE_IDLE_MSECS: '0',
    });
    const url = srv.url;
    const app = (await call(url, 'POST', '/v2/apps', { name: 'many' })).body;
    const fns = await Promise.all(Array.from({ length: n }, async (_, i) => (await call(url, 'POST', '/v2/fns', { name: `f${i}`, app_id: app.id, image: tester, memory: 32 })).body));
    const answers = await Promise.all(fns.map((fn) => call(url, 'POST', `/invoke/${fn.id}`, '{}')));
    assert.deepEqual(answers.map((a) => a.status), fns.map(() => 200), JSON.stringify(answers.map((a) => a.body)));
    assert.equal((await nodeContainers(docker, nodeId)).length, n);
    let stderr = '';
    srv.child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    return { srv, docker, engine, iofs, nodeId, stderr: () => stderr, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

test('a server whose engine removes its many containers slowly stops cleanly, with nothing left, however long past 15 s that takes', { timeout: 180_000 }, async () => {
  // 12 removals, 1.5 s each, one at a time: 18 s, past the grace (0) and the old fixed 15 s.
  const s = await serverWithContainers(12, 1500);
  try {
    const t0 = Date.now();
    const code = await s.srv.stop('SIGTERM');
    const took = Date.now() - t0;
    assert.equal(code, 0, `exit code (after ${took} ms): ${s.stderr()}`);
    assert.doesNotMatch(s.stderr(), /still stopping/);
    assert.ok(took > 15_000, `the removals took longer than the old bound (${took} ms)`);
    assert.equal(s.engine.removed, 12);
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), [], 'no container left');
    assert.deepEqual(readdirSync(s.iofs), [], 'no socket directory left');
  } finally {
    await s.cleanup();
  }
});

test('a server whose engine stops answering removals exits with code 1, 15 s after its last progress, saying so', { timeout: 120_000 }, async () => {
  const s = await serverWithContainers(3, 200);
  try {
    // Two removals pass, then the engine answers no more.
    setTimeout(() => s.engine.hold(), 300);
    const t0 = Date.now();
    const code = await s.srv.stop('SIGTERM');
    const took = Date.now() - t0;
    assert.equal(code, 1);
    assert.match(s.stderr(), /kiln: still stopping \d+ ms after SIGTERM, with no container removed and nothing written for 15 s \(the container engine or the database does not answer\): exiting; leftovers are removed at the next start/);
    assert.ok(took >= 15_000 && took < 25_000, `exited ${took} ms after the signal`);
  } finally {
    await s.cleanup();
  }
});
