// An image's VOLUME against the real engine: the function gets a tmpfs bounded like /tmp there,
// not an anonymous volume on the host's disk, and nothing is left once the container is gone.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type Docker from 'dockerode';
import type { ContainerTask } from '../../drivers/contract.js';
import { DockerDriver } from '../../drivers/docker/driver.js';
import { ensureNodeBaseImage } from '../../images/base-image.js';
import { buildFunctionImage } from '../../images/function-image.js';
import { inspectImage } from '../../images/inspect.js';
import { buildFixtureTag, docker as dockerClient } from '../helpers/images.js';
import { uniqueNodeId } from '../helpers/server.js';

const TMPFS_MB = 4;
/** Well past the tmpfs, so an unbounded volume is told apart. */
const WRITE_MB = 24;
// Writes 1 MiB at a time into the volume and says how far it got.
const FILL = `const fs = require('node:fs');
const chunk = Buffer.alloc(1 << 20, 1);
let mb = 0;
try {
  const fd = fs.openSync('/data/fill', 'w');
  for (; mb < ${WRITE_MB}; mb++) fs.writeSync(fd, chunk);
  console.log('WROTE ' + mb);
} catch (err) {
  console.log(err.code + ' ' + mb);
}
`;

/** `FROM` the local base, with a VOLUME the function's user owns, named by its content. */
async function volumeImage(client: Docker): Promise<string> {
  const base = await ensureNodeBaseImage(client);
  const baseInfo = await inspectImage(client, base);
  assert.ok(baseInfo, `base image ${base}`);
  const dockerfile = `FROM ${base}\nCOPY fill.js /function/fill.js\nCOPY --chown=1000:1000 data/ /data/\nVOLUME /data\nENTRYPOINT ["node", "/function/fill.js"]\n`;
  const hash = createHash('sha256').update(`${baseInfo.Id}\n${dockerfile}\n${FILL}`).digest('hex').slice(0, 12);
  const repo = 'kiln-test/volume-fill';
  return buildFixtureTag(client, repo, `${repo}:${hash}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-volume-image-'));
    try {
      await writeFile(join(dir, 'Dockerfile'), dockerfile);
      await writeFile(join(dir, 'fill.js'), FILL);
      await mkdir(join(dir, 'data'));
      await writeFile(join(dir, 'data', '.keep'), '');
      await writeFile(join(dir, 'func.yaml'), 'name: volume-fill\nruntime: docker\n');
      await buildFunctionImage(client, dir, `${repo}:${hash}`, { kind: 'dockerfile' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('a VOLUME in the image is a tmpfs the size of /tmp: writing past it fails, and no volume is made or left', async () => {
  const client = dockerClient();
  const image = await volumeImage(client);
  const driver = new DockerDriver({ docker: client, nodeId: uniqueNodeId(), pull: false });
  const socketDir = await mkdtemp(join(tmpdir(), 'kiln-vol-'));
  let stdout = '';
  const task: ContainerTask = {
    id: `kiln-voltest-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    image, env: {}, labels: {}, memoryMb: 64, cpusMilli: 0, tmpfsMb: TMPFS_MB, udsPath: socketDir,
    logger: { stdout: { write: (b) => void (stdout += b.toString('utf8')) }, stderr: { write: () => {} } },
    writeStat: () => {},
  };
  const cookie = await driver.createCookie(task);
  let volumes: string[] = [];
  try {
    await driver.prepareCookie(cookie);
    const info = await client.getContainer(task.id).inspect();
    volumes = info.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Name ?? '');
    const result = await (await cookie.run()).wait();
    assert.equal(result.status, 'success', result.error?.message);
    for (let i = 0; i < 100 && !stdout.includes('\n'); i++) await sleep(20);
    assert.equal(stdout.trim(), `ENOSPC ${TMPFS_MB}`, 'the write stops at the tmpfs size');
    assert.deepEqual(volumes, [], 'no anonymous volume for the image\'s VOLUME');
    assert.match(info.HostConfig.Tmpfs?.['/data'] ?? '', new RegExp(`(^|,)size=${TMPFS_MB}m,`), 'a tmpfs like /tmp\'s is over /data');
  } finally {
    await cookie.close();
    await rm(socketDir, { recursive: true, force: true });
  }
  // Removed with the container (v: true), should the engine have made any.
  for (const name of volumes) await assert.rejects(client.getVolume(name).inspect(), `volume ${name} is left`);
});
