// DockerDriver removes networked containers one at a time (Docker 20.10's libnetwork deadlocked
// on several bridge containers exiting together) and the rest at once, against a stand-in
// engine that counts removals in flight.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import type { ContainerTask } from '../../drivers/contract.js';
import { DockerDriver } from '../../drivers/docker/driver.js';

function fakeEngine() {
  let inFlight = 0;
  let most = 0;
  let removed = 0;
  const docker = {
    getImage: () => ({ inspect: async () => ({ Id: 'sha256:img', Config: {} }) }),
    createContainer: async () => ({
      remove: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
        removed++;
        // One refused removal must not stop the ones queued after it.
        if (removed === 1) throw Object.assign(new Error('boom'), { statusCode: 500 });
      },
    }),
  };
  return { docker: docker as unknown as Docker, most: () => most, removed: () => removed };
}

const task = (id: string, network?: string): ContainerTask => ({
  id, image: 'img', env: {}, labels: {}, memoryMb: 64, cpusMilli: 0, tmpfsMb: 0, udsPath: '/tmp/x',
  logger: { stdout: () => {}, stderr: () => {} }, writeStat: () => {}, ...(network !== undefined && { network }),
}) as unknown as ContainerTask;

async function closeAll(network: string | undefined): Promise<{ most: number; removed: number; failed: number }> {
  const engine = fakeEngine();
  const driver = new DockerDriver({ docker: engine.docker, nodeId: 'unit' });
  const cookies = await Promise.all([1, 2, 3, 4].map((i) => driver.createCookie(task(`c${i}`, network))));
  for (const c of cookies) await driver.prepareCookie(c);
  const results = await Promise.allSettled(cookies.map((c) => c.close()));
  return { most: engine.most(), removed: engine.removed(), failed: results.filter((r) => r.status === 'rejected').length };
}

test('networked containers are removed one at a time, and a failed removal does not hold the rest', async () => {
  assert.deepEqual(await closeAll('bridge'), { most: 1, removed: 4, failed: 1 });
});

test('containers with no network are removed at once', async () => {
  const r = await closeAll(undefined);
  assert.equal(r.most, 4);
  assert.equal(r.removed, 4);
});

test('a removal the engine failed is tried again by the next close(); a done one is not', async () => {
  let attempts = 0;
  const docker = {
    getImage: () => ({ inspect: async () => ({ Id: 'sha256:img', Config: {} }) }),
    createContainer: async () => ({
      remove: async () => {
        attempts++;
        if (attempts === 1) throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
      },
    }),
  } as unknown as Docker;
  const driver = new DockerDriver({ docker, nodeId: 'unit' });
  const cookie = await driver.createCookie(task('c1'));
  await driver.prepareCookie(cookie);
  await assert.rejects(cookie.close(), /ECONNREFUSED/);
  await cookie.close();
  await cookie.close();
  assert.equal(attempts, 2);
});
