// The Docker driver against the real engine: image checks, leftovers, idempotent close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import Docker from 'dockerode';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerDriver, NODE_LABEL } from '../../drivers/docker/driver.js';
import type { ContainerTask } from '../../drivers/contract.js';
import { ContainerLimitError, DriverError, ImageNotFoundError } from '../../drivers/errors.js';
import { toHttpError } from '../../api/errors.js';
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

test('a leftover removed by someone else between the list and its removal is not counted, nor its directory said', async () => {
  const image = await fixtureImage('tester');
  const mine = uniqueNodeId();
  const driver = new DockerDriver({ docker: dockerClient(), nodeId: mine, pull: false });
  const dirs = [mkdtempSync(join(tmpdir(), 'kiln-leftover-')), mkdtempSync(join(tmpdir(), 'kiln-leftover-'))];
  const tasks = dirs.map((udsPath) => ({ ...task(image), udsPath }));
  const gone = await driver.createCookie(tasks[0]!);
  const orphan = await driver.createCookie(tasks[1]!);
  try {
    await driver.prepareCookie(gone);
    await driver.prepareCookie(orphan);
    // `keep` is asked once the list is in: the agent's own removal of one finishes just then.
    // Before, the sweep counted it (its removal's 404 swallowed), and the agent warned of an orphan.
    const swept = await driver.removeLeftovers((id) => {
      if (id === tasks[0]!.id) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
      return false;
    });
    assert.deepEqual(swept, { removed: [tasks[1]!.id], socketDirs: [dirs[1]] });
  } finally {
    await gone.close();
    await orphan.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('leftovers of this node are removed, other nodes’ are not; close is idempotent', async () => {
  const docker = dockerClient();
  const image = await fixtureImage('tester');
  const mine = uniqueNodeId();
  const other = uniqueNodeId();
  const a = new DockerDriver({ docker: dockerClient(), nodeId: mine, pull: false });
  const b = new DockerDriver({ docker: dockerClient(), nodeId: other, pull: false });
  const socketDir = mkdtempSync(join(tmpdir(), 'kiln-leftover-'));
  const ta = { ...task(image), udsPath: socketDir };
  const ca = await a.createCookie(ta);
  const cb = await b.createCookie(task(image));
  try {
    await a.prepareCookie(ca);
    await b.prepareCookie(cb);
    // What the containers had at the socket path is said, for the agent to remove.
    assert.deepEqual(await new DockerDriver({ docker: dockerClient(), nodeId: mine, pull: false }).removeLeftovers(), { removed: [ta.id], socketDirs: [socketDir] });
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

// A limit the engine's kernel cannot give failed every start as a retryable engine 503 ("error
// setting rlimit type 7"); it is the server's setting, named, and not worth a retry.
const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
for (const [setting, limits, want] of [
  ['FN_MAX_OPEN_FILES', { openFiles: nrOpen + 64 }, new RegExp(`cannot set FN_MAX_OPEN_FILES \\(nofile ${nrOpen + 64}\\): .*\\(error setting rlimit type 7: operation not permitted\\)`)],
  ['FN_MAX_PIDS', { pids: 5_000_000 }, /cannot set FN_MAX_PIDS \(pids\.max 5000000\): lower it \(at most 4194304\)/],
] as const) {
  test(`a ${setting} the engine cannot apply fails the start naming it, a 502 without Retry-After`, async () => {
    const driver = new DockerDriver({ docker: dockerClient(), nodeId: uniqueNodeId(), pull: false, limits });
    const cookie = await driver.createCookie(task(await fixtureImage('tester')));
    try {
      await driver.prepareCookie(cookie);
      const err = await cookie.run().then(() => assert.fail('the container started'), (e: unknown) => e);
      assert.ok(err instanceof ContainerLimitError, String(err));
      assert.equal(err.setting, setting);
      assert.match(err.message, want);
      const http = toHttpError(err);
      assert.equal(http.status, 502);
      assert.equal(http.headers?.['Retry-After'], undefined);
    } finally {
      await cookie.close();
    }
  });
}

// An engine that takes the connection and never answers (Docker 20.10's removal deadlock) held
// a start, its memory and its fn's pool for ever.
/**
 * A stand-in engine on a unix socket that answers only the requests `answer` returns a reply for
 * (status and JSON body) and never the others, as a deadlocked engine takes connections and hangs.
 */
async function halfEngine(answer: (method: string, path: string) => [number, unknown] | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hung-'));
  const sock = join(dir, 'docker.sock');
  const held = new Set<net.Socket>();
  const server = net.createServer((s) => {
    held.add(s.on('error', () => {}));
    let head = '';
    s.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [method = '', path = ''] = head.slice(0, head.indexOf('\r\n')).split(' ');
      head = '';
      const reply = answer(method, path.replace(/^\/v[\d.]+/, ''));
      if (!reply) return;
      const body = JSON.stringify(reply[1]);
      s.write(`HTTP/1.1 ${reply[0]} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    docker: new Docker({ socketPath: sock }),
    close: async () => {
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('an engine that never answers fails a start after the deadline, naming the step: the image inspect', async () => {
  const engine = await halfEngine(() => undefined);
  try {
    const driver = new DockerDriver({ docker: engine.docker, nodeId: uniqueNodeId(), pull: false, engineCallMs: 300 });
    const cookie = await driver.createCookie(task('kiln-test/any:1'));
    const t0 = Date.now();
    await assert.rejects(driver.prepareCookie(cookie), /inspecting image kiln-test\/any:1: the container engine did not answer within 300 ms/);
    assert.ok(Date.now() - t0 < 5000, `after the deadline, not later (${Date.now() - t0} ms)`);
  } finally {
    await engine.close();
  }
});

test('an engine that answers the inspect but never the create, then never the removal: each bounded', async () => {
  const engine = await halfEngine((method, path) => (method === 'GET' && path.startsWith('/images/') ? [200, { Id: 'sha256:0', Config: {} }] : undefined));
  try {
    const driver = new DockerDriver({ docker: engine.docker, nodeId: uniqueNodeId(), pull: false, engineCallMs: 300 });
    const cookie = await driver.createCookie(task('kiln-test/any:1'));
    await assert.rejects(driver.prepareCookie(cookie), /creating container for kiln-test\/any:1: the container engine did not answer within 300 ms/);
  } finally {
    await engine.close();
  }
  // Created, then the removal hangs: close() fails after the deadline (the agent retries, or its sweep takes it).
  const made = await halfEngine((method, path) => {
    if (method === 'GET' && path.startsWith('/images/')) return [200, { Id: 'sha256:0', Config: {} }];
    if (method === 'POST' && path.startsWith('/containers/create')) return [201, { Id: 'c0ffee' }];
    return undefined;
  });
  try {
    const driver = new DockerDriver({ docker: made.docker, nodeId: uniqueNodeId(), pull: false, engineCallMs: 300 });
    const cookie = await driver.createCookie(task('kiln-test/any:1'));
    await driver.prepareCookie(cookie);
    const t0 = Date.now();
    await assert.rejects(cookie.close(), /removing container for kiln-test\/any:1: the container engine did not answer within 300 ms/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await made.close();
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
    // Its 200 ms bounds the removal too, which a loaded engine may take longer for.
    await cookie.close().catch(async () => {
      const id = (cookie as unknown as { container?: { id: string } }).container?.id;
      if (id) await dockerClient().getContainer(id).remove({ force: true });
    });
  }
});

// The sweep ran before the server listened, and in the periodic sweep, with no bound: an engine
// that takes connections and never answers kept the server from listening and stopped the sweeps.
test('a sweep the engine never answers fails after the deadline, naming the step: the list, then a removal', async () => {
  /** How the sweep ended, or 'still waiting' 5 s on. */
  const sweepOf = (driver: DockerDriver): Promise<unknown> =>
    Promise.race([driver.removeLeftovers().then(() => 'swept', (err: unknown) => err), sleep(5000, 'still waiting')]);
  const nodeId = uniqueNodeId();
  const silent = await halfEngine(() => undefined);
  try {
    const driver = new DockerDriver({ docker: silent.docker, nodeId, pull: false, engineCallMs: 300 });
    const end = await sweepOf(driver);
    assert.ok(end instanceof DriverError, String(end));
    assert.match(end.message, new RegExp(`listing the containers of node ${nodeId}: the container engine did not answer within 300 ms`));
  } finally {
    await silent.close();
  }
  // The list answered, one networked leftover in it, whose removal the engine never answers.
  const listed = await halfEngine((method, path) =>
    method === 'GET' && path.startsWith('/containers/json')
      ? [200, [{ Id: 'c0ffee', Names: ['/kiln-left'], Labels: {}, Mounts: [], NetworkSettings: { Networks: { bridge: {} } } }]]
      : undefined,
  );
  try {
    const driver = new DockerDriver({ docker: listed.docker, nodeId, pull: false, engineCallMs: 300 });
    const end = await sweepOf(driver);
    assert.ok(end instanceof DriverError, String(end));
    assert.match(end.message, new RegExp(`removing container kiln-left of node ${nodeId}: the container engine did not answer within 300 ms`));
  } finally {
    await listed.close();
  }
});
