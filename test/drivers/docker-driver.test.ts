// The Docker driver against the real engine: image checks, leftovers, idempotent close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import Docker from 'dockerode';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDriver, NODE_LABEL } from '../../drivers/docker/driver.js';
import type { ContainerTask } from '../../drivers/contract.js';
import { ImageNotFoundError } from '../../drivers/errors.js';
import { ImageRefError } from '../../drivers/image-name.js';
import { docker as dockerClient, fixtureImage } from '../helpers/images.js';
import { uniqueNodeId } from '../helpers/server.js';

const task = (image: string): ContainerTask => ({
  id: `kiln-drivertest-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  image, env: {}, labels: {}, memoryMb: 32, cpusMilli: 0, tmpfsMb: 0, udsPath: '/tmp',
  logger: { stdout: { write: () => {} }, stderr: { write: () => {} } }, writeStat: () => {},
});

test('an image that is neither local nor pullable fails in prepare, naming it', async () => {
  const driver = new DockerDriver({ docker: dockerClient(), nodeId: uniqueNodeId(), pull: true, pullTimeoutMs: 20_000 });
  const cookie = await driver.createCookie(task('kiln-test/definitely-missing:0'));
  try {
    await assert.rejects(driver.prepareCookie(cookie), (err: unknown) => {
      assert.ok(err instanceof ImageNotFoundError);
      assert.match(err.message, /image "kiln-test\/definitely-missing:0" is not available: .*pulling failed/);
      return true;
    });
  } finally {
    await cookie.close();
  }
});

test('an image reference Docker cannot parse fails in prepare with the reason', async () => {
  const driver = new DockerDriver({ docker: dockerClient(), nodeId: uniqueNodeId(), pull: false });
  const cookie = await driver.createCookie(task('Not A Valid/Image!'));
  await assert.rejects(driver.prepareCookie(cookie), ImageRefError);
  await cookie.close();
});

test('leftovers of this node are removed, other nodes’ are not; close is idempotent', async () => {
  const docker = dockerClient();
  const image = await fixtureImage('tester');
  const mine = uniqueNodeId();
  const other = uniqueNodeId();
  const a = new DockerDriver({ docker: dockerClient(), nodeId: mine, pull: false });
  const b = new DockerDriver({ docker: dockerClient(), nodeId: other, pull: false });
  const socketDir = mkdtempSync(join(tmpdir(), 'kiln-leftover-'));
  const ca = await a.createCookie({ ...task(image), udsPath: socketDir });
  const cb = await b.createCookie(task(image));
  try {
    await a.prepareCookie(ca);
    await b.prepareCookie(cb);
    // What the containers had at the socket path is said, for the agent to remove.
    assert.deepEqual(await new DockerDriver({ docker: dockerClient(), nodeId: mine, pull: false }).removeLeftovers(), { removed: 1, socketDirs: [socketDir] });
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${other}`] } });
    assert.equal(left.length, 1, 'another node’s container is left alone');
  } finally {
    await ca.close();
    await ca.close();
    await cb.close();
    rmSync(socketDir, { recursive: true, force: true });
  }
  assert.equal((await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${other}`] } })).length, 0);
});

// An engine that takes the connection and never answers (Docker 20.10's removal deadlock) held
// a start, its memory and its fn's pool for ever.
test('an engine that never answers a create fails the start after the deadline, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hung-'));
  const sock = join(dir, 'docker.sock');
  const held = new Set<net.Socket>();
  const hung = net.createServer((s) => void held.add(s.on('error', () => {})));
  await new Promise<void>((r) => hung.listen(sock, r));
  try {
    const driver = new DockerDriver({ docker: new Docker({ socketPath: sock }), nodeId: uniqueNodeId(), pull: false, engineCallMs: 300 });
    const cookie = await driver.createCookie(task('kiln-test/any:1'));
    const t0 = Date.now();
    await assert.rejects((cookie as unknown as { create(id: string): Promise<void> }).create('sha256:0'), /creating container for kiln-test\/any:1: the container engine did not answer within 300 ms/);
    assert.ok(Date.now() - t0 < 5000, `after the deadline, not later (${Date.now() - t0} ms)`);
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => hung.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the deadline bounds the answer only: output after it still arrives through the attach', async () => {
  const driver = new DockerDriver({ docker: dockerClient(), nodeId: uniqueNodeId(), pull: false, engineCallMs: 200 });
  let out = '';
  const cookie = await driver.createCookie({
    ...task(await fixtureImage('tester')),
    env: { MODE: 'nosocket' },
    entrypoint: ['node', '-e', 'setTimeout(() => console.log("after the deadline"), 1000); setTimeout(() => {}, 1500)'],
    logger: { stdout: { write: (b: Buffer) => void (out += b.toString()) }, stderr: { write: () => {} } },
  });
  try {
    await driver.prepareCookie(cookie);
    const waiter = await cookie.run();
    const done = await waiter.wait();
    assert.equal(done.status, 'success', JSON.stringify(done));
    assert.match(out, /after the deadline/);
  } finally {
    await cookie.close();
  }
});
