// The server's own host running short while it prepares a container (test/helpers/stand-in-engine.ts:
// the real Agent, HotContainer and socket directories, no Docker): out of file descriptors when
// the container's socket appears, and an FN_IOFS_PATH out of inodes (a real tmpfs; needs root).
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentError } from '../../agent/errors.js';
import { failureKind } from '../../agent/failure-kind.js';
import { toHttpError } from '../../api/errors.js';
import { standInWorld, type StandInWorld } from '../helpers/stand-in-engine.js';
import { fakeEngine, json } from '../helpers/fake-engine.js';
import { DockerCookie } from '../../drivers/docker/cookie.js';
import { DriverError } from '../../drivers/errors.js';
import { asHostShortage } from '../../agent/host-shortage.js';
import { canMountTmpfs, withTmpfs } from '../helpers/tmpfs.js';

let base = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-shortage-'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function inWorld(iofs: string, body: (w: StandInWorld) => Promise<void>, config: Parameters<typeof standInWorld>[1]['config'] = {}): Promise<void> {
  const w = standInWorld(iofs, { capacityMb: 256, config });
  try {
    await body(w);
  } finally {
    await w.shutdown();
    await w.engine.close();
  }
}

/** Takes every file descriptor this process may still open; the function gives them back. */
function exhaustDescriptors(): (() => void) | undefined {
  const held: number[] = [];
  const release = () => {
    for (const fd of held.splice(0)) closeSync(fd);
  };
  try {
    // Bounded: a host whose limit is far higher is not worth exhausting (the test is skipped).
    while (held.length < 200_000) held.push(openSync('/dev/null', 'r'));
  } catch (err) {
    if ((err as { code?: string }).code === 'EMFILE') return release;
    release();
    throw err;
  }
  release();
  return undefined;
}

/** An answer an error gets, and the checks every shortage answer passes: 503, Retry-After, no path. */
function assertShortage(err: unknown, what: RegExp): void {
  assert.ok(err instanceof AgentError, `an AgentError: ${String(err)}`);
  const http = toHttpError(err);
  assert.equal(http.status, 503, err.message);
  assert.equal(http.headers?.['Retry-After'], '15');
  assert.match(http.body.message, /^server out of resources \(/);
  assert.match(http.body.message, what);
  assert.doesNotMatch(http.body.message, /\//, 'no host path');
  assert.equal(failureKind('error', err), 'internal', 'the platform’s fault, not the function’s (init) nor the engine’s');
}

test('out of file descriptors as the container links its socket: the agent looks again once they are free, and the call is served', { timeout: 20_000 }, async (t) => {
  await inWorld(join(base, 'fd-retry'), async (w) => {
    let free: (() => void) | undefined;
    w.engine.behaviour = () => ({
      beforeLink: () => {
        free = exhaustDescriptors();
        // Freed well within the start's bound (after the watch's one event for the link has come).
        if (free) setTimeout(() => free?.(), 500);
      },
    });
    const answer = await w.invoke(w.fn('fd-short')).finally(() => free?.());
    if (!free) return t.skip('this process may open too many descriptors to run out');
    assert.equal(answer.status, 200);
  }, { startTimeoutMs: 4000, maxQueueMs: 10_000 });
});

test('out of file descriptors for the whole start bound: 503 server out of resources with Retry-After, kind internal, not the function’s init timeout', { timeout: 20_000 }, async (t) => {
  await inWorld(join(base, 'fd-out'), async (w) => {
    let free: (() => void) | undefined;
    w.engine.behaviour = () => ({ beforeLink: () => void (free = exhaustDescriptors()) });
    const err = await w.invoke(w.fn('fd-out'), 'fd-out-call').then(() => undefined, (e: unknown) => e).finally(() => free?.());
    if (!free) return t.skip('this process may open too many descriptors to run out');
    assertShortage(err, /file descriptors/);
    await sleep(100);
    const rec = w.store.calls.get('fd-out-call');
    assert.equal(rec?.status, 'error');
    assert.match(rec?.error ?? '', /^server out of resources \(file descriptors\)/);
    assert.ok(w.logged.some((l) => /a container start failed: server out of resources/.test(l.msg)), JSON.stringify(w.logged));
  }, { startTimeoutMs: 1500, maxQueueMs: 10_000 });
});

test('an FN_IOFS_PATH out of inodes: 503 server out of resources with Retry-After, and neither the caller nor the call record sees the path', { timeout: 20_000 }, async (t) => {
  if (!canMountTmpfs()) return t.skip('mounting a tmpfs needs root');
  await withTmpfs('size=1m,nr_inodes=8,mode=700', async ({ dir: iofs }) => {
    // Every inode taken (the pid file the agent writes at start is not made: the stand-in world has none).
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(iofs, `filler-${i}`), '');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOSPC') break;
        throw err;
      }
    }
    await inWorld(iofs, async (w) => {
      const err = await w.invoke(w.fn('iofs-full'), 'iofs-full-call').then(() => undefined, (e: unknown) => e);
      assertShortage(err, /disk space or inodes/);
      await sleep(100);
      const rec = w.store.calls.get('iofs-full-call');
      assert.equal(rec?.status, 'error');
      assert.match(rec?.error ?? '', /^server out of resources/);
      assert.ok(!(rec?.error ?? '').includes(iofs), `no host path in the record: ${rec?.error}`);
      // The log keeps the detail.
      const line = w.logged.find((l) => /a container start failed: server out of resources/.test(l.msg));
      assert.ok(line?.err?.message.includes('ENOSPC'), JSON.stringify(w.logged));
      assert.deepEqual((await readdir(iofs)).filter((n) => !n.startsWith('filler-')), [], 'nothing left behind');
    });
  });
});

test('out of file descriptors to reach the engine: the server’s own shortage (503 server out of resources), not a container engine error', { timeout: 20_000 }, async (t) => {
  const engine = await fakeEngine((req, res, path) => {
    if (req.method === 'POST' && path === '/containers/create') return void json(res, 201, { Id: 'fake1', Warnings: [] });
    return false;
  });
  try {
    const cookie = new DockerCookie(engine.docker, {
      id: 'kiln-fake', image: 'fake:1', env: {}, labels: {}, memoryMb: 64, cpusMilli: 0, tmpfsMb: 0, udsPath: '/nonexistent',
      logger: { stdout: { write: () => {} }, stderr: { write: () => {} } }, writeStat: () => {},
    }, { HostConfig: { Tmpfs: { '/tmp': 'size=1m' } } });
    const free = exhaustDescriptors();
    if (!free) return t.skip('this process may open too many descriptors to run out');
    const err = await cookie.create('sha256:fake').then(() => undefined, (e: unknown) => e).finally(free);
    assert.ok(err instanceof DriverError, String(err));
    assert.match(err.message, /EMFILE/, 'the engine’s request failed for want of a descriptor');
    assertShortage(asHostShortage(err), /file descriptors/);
  } finally {
    await engine.close();
  }
});

test('out of file descriptors to connect to a ready container: 503 server out of resources, not the function’s 502; the container stays and serves the next call', { timeout: 20_000 }, async (t) => {
  await inWorld(join(base, 'fd-call'), async (w) => {
    const fn = w.fn('fd-call');
    assert.equal((await w.invoke(fn)).status, 200);
    // Past the agent's 1 s keep-alive: the next call connects anew.
    await sleep(1500);
    const free = exhaustDescriptors();
    if (!free) return t.skip('this process may open too many descriptors to run out');
    const err = await w.invoke(fn, 'fd-call-2').then(() => undefined, (e: unknown) => e).finally(free);
    assertShortage(err, /file descriptors\) while connecting to the container/);
    const again = await w.invoke(fn);
    assert.equal(again.status, 200);
    assert.equal(w.engine.of(fn.id).length, 1, 'the same container');
  });
});
