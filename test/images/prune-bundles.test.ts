// Old runtime bundles beside the server's are deleted, on real directories and a real engine:
// never this server's, another user's, one a container mounts, or one refreshed meanwhile.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger } from '../../api/logger.js';
import { DockerDriver } from '../../drivers/docker/driver.js';
import { holdBundleLease, touchBundle } from '../../images/bundle-lease.js';
import { pruneRuntimeBundles } from '../../images/prune-bundles.js';
import { LEASE_FILE, prepareRuntimeBundle } from '../../images/runtime-bundle.js';
import { docker } from '../helpers/images.js';
import { importFiles, leftoverContainers, testLabels } from '../helpers/base-images.js';
import { sqliteDb } from '../helpers/db.js';
import { spawnServer } from '../helpers/process.js';
import { eventually } from '../helpers/containers.js';
import { uniqueNodeId } from '../helpers/server.js';

const client = docker();
const driver = new DockerDriver({ docker: client, nodeId: uniqueNodeId() });
const emptyImage = `kiln-test/empty:${process.pid}`;
const DAY = 24 * 60 * 60_000;
const isRoot = process.getuid?.() === 0;
let base = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), `kiln-prune-${process.pid}-`));
  await importFiles(client, emptyImage, { 'etc/passwd': 'root:x:0:0::/:/nope\n' });
});

after(async () => {
  await rm(base, { recursive: true, force: true });
  await client.getImage(emptyImage).remove({ force: true }).catch(() => {});
  assert.equal((await leftoverContainers(client)).length, 0, 'containers left behind');
});

const name = (hex: string): string => `kiln-runtime-${hex.repeat(16)}`;

/** A bundle-like directory holding `bytes` bytes, its mtime `ageMs` ago; with the lease mark unless `leased` is false. */
async function bundleAt(dir: string, entry: string, ageMs: number, bytes = 1000, leased = true): Promise<string> {
  const path = join(dir, entry);
  await mkdir(path);
  await writeFile(join(path, 'node'), Buffer.alloc(bytes));
  if (leased) await writeFile(join(path, LEASE_FILE), '');
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
  return path;
}

test('old bundles and leftovers of this user go; the current, fresh, mounted and foreign ones, and look-alikes, stay', async () => {
  const dir = await mkdtemp(join(base, 'kinds-'));
  const current = await bundleAt(dir, name('e'), 2 * DAY);
  await bundleAt(dir, name('a'), 60_000);
  await bundleAt(dir, name('b'), 2 * DAY, 1000);
  await bundleAt(dir, `${name('b')}.tmp-aB3xYz`, 2 * DAY, 200);
  await bundleAt(dir, `${name('b')}-u0.old-4242-0a1b2c3d`, 2 * DAY, 30);
  const mounted = await bundleAt(dir, name('c'), 2 * DAY);
  const mountedFile = await bundleAt(dir, `${name('c')}-u0`, 2 * DAY);
  await bundleAt(dir, 'kiln-runtime-xyz', 2 * DAY);
  // An older Kiln's (no lease mark): its node may still run it, never refreshing it.
  await bundleAt(dir, name('9'), 30 * DAY, 1000, false);
  await writeFile(join(dir, name('f')), 'a file');
  await utimes(join(dir, name('f')), new Date(Date.now() - 2 * DAY), new Date(Date.now() - 2 * DAY));
  if (isRoot) await chown(await bundleAt(dir, `${name('d')}-u65534`, 2 * DAY), 65534, 65534);

  // A stopped container (created, never started) mounting one bundle, and a file of another.
  const c = await client.createContainer({
    Image: emptyImage,
    Cmd: ['/nope'],
    Labels: testLabels('prune-bundles'),
    HostConfig: { NetworkMode: 'none', Binds: [`${mounted}:/kiln:ro`, `${join(mountedFile, 'node')}:/etc/hosts:ro`] },
  });
  try {
    const pruned = await pruneRuntimeBundles(current, { mountedHostPaths: () => driver.mountedHostPaths() });
    assert.deepEqual(pruned.failed, []);
    assert.deepEqual(pruned.removed.sort(), [name('b'), `${name('b')}-u0.old-4242-0a1b2c3d`, `${name('b')}.tmp-aB3xYz`]);
    assert.equal(pruned.bytes, 1230);
  } finally {
    await c.remove({ force: true });
  }
  assert.deepEqual((await readdir(dir)).sort(), [
    name('9'), name('a'), name('c'), `${name('c')}-u0`, ...(isRoot ? [`${name('d')}-u65534`] : []), name('e'), name('f'), 'kiln-runtime-xyz',
  ].sort());
});

test('nothing old: the engine is not asked', async () => {
  const dir = await mkdtemp(join(base, 'fresh-'));
  const current = await bundleAt(dir, name('e'), 0);
  await bundleAt(dir, name('a'), DAY - 60_000);
  const pruned = await pruneRuntimeBundles(current, { mountedHostPaths: () => Promise.reject(new Error('asked')) });
  assert.deepEqual(pruned, { removed: [], bytes: 0, failed: [] });
});

test('a bundle refreshed between the check and the move is put back; the others still go', async () => {
  const dir = await mkdtemp(join(base, 'race-'));
  const current = await bundleAt(dir, name('e'), 0);
  const taken = await bundleAt(dir, name('a'), 2 * DAY);
  await bundleAt(dir, name('b'), 2 * DAY);
  // The engine is asked after the mtimes were read: a node starting now takes its lease then.
  const pruned = await pruneRuntimeBundles(current, { mountedHostPaths: async () => { await touchBundle(taken); return []; } });
  assert.deepEqual(pruned.removed, [name('b')]);
  assert.deepEqual((await readdir(dir)).sort(), [name('a'), name('e')], 'put back under its name, nothing left aside');
  assert.equal((await readdir(taken)).length, 2, 'whole: node and the lease mark');
});

test('the lease: prepare takes it, the timer refreshes it, a missing bundle is a warn', async () => {
  const dir = await mkdtemp(join(base, 'lease-'));
  const daemonJs = join(dir, 'daemon.js');
  await writeFile(daemonJs, '// daemon\n');
  const b = await prepareRuntimeBundle({ daemonJs, dir });
  const old = new Date(Date.now() - 2 * DAY);
  await utimes(b.hostDir, old, old);
  // Found complete at the next start: its mtime is now.
  assert.deepEqual(await prepareRuntimeBundle({ daemonJs, dir }), b);
  assert.ok(Date.now() - (await stat(b.hostDir)).mtimeMs < 60_000, 'prepare refreshed it');

  const lines: string[] = [];
  const log = createLogger('warn', new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } }));
  await utimes(b.hostDir, old, old);
  const release = holdBundleLease(b.hostDir, log, 20);
  try {
    assert.ok(await eventually(async () => Date.now() - (await stat(b.hostDir)).mtimeMs < 60_000), 'refreshed by the timer');
    await rm(b.hostDir, { recursive: true });
    assert.ok(await eventually(async () => lines.some((l) => l.includes('could not be refreshed'))), 'warned');
  } finally {
    release();
  }
});

// Only a directory's owner may set its times: a server of another user could not keep its lease
// on root's bundle, and others would take it for unused a day on.
test('a server not the owner of the shared bundle takes its own copy, whose lease it can keep', { skip: !isRoot && 'needs root (to run as another user)' }, async () => {
  // Its own, open as the temp dir is (the suite's base is private).
  const dir = await mkdtemp(join(tmpdir(), `kiln-prune-owner-${process.pid}-`));
  after(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o1777);
  const daemonJs = join(dir, 'daemon.js');
  await writeFile(daemonJs, '// daemon\n');
  await chmod(daemonJs, 0o644);
  const shared = await prepareRuntimeBundle({ daemonJs, dir });
  const module = new URL('../../images/runtime-bundle.js', import.meta.url).href;
  const script = `const { prepareRuntimeBundle } = await import(${JSON.stringify(module)}); console.log((await prepareRuntimeBundle({ daemonJs: ${JSON.stringify(daemonJs)}, dir: ${JSON.stringify(dir)} })).hostDir);`;
  const hostDir = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim())));
  });
  assert.equal(hostDir, `${shared.hostDir}-u65534`);
  assert.equal((await stat(hostDir)).uid, 65534);
});

test('a server deletes the old bundles beside its own after start-up, in the background', async () => {
  const dir = await mkdtemp(join(base, 'server-'));
  await bundleAt(dir, name('b'), 2 * DAY);
  const db = await sqliteDb();
  const srv = await spawnServer({ FN_DB_URL: db.url, TMPDIR: dir, KILN_NODE_ID: uniqueNodeId() });
  try {
    assert.ok(await eventually(async () => srv.output().includes('old Lambda runtime bundle'), 15_000), srv.output());
    const line = JSON.parse(srv.output().split('\n').find((l) => l.includes('old Lambda runtime bundle')) ?? '{}') as { level: number; removed: string[] };
    assert.equal(line.level, 30, 'info');
    assert.deepEqual(line.removed, [name('b')]);
    const left = (await readdir(dir)).filter((n) => n.startsWith('kiln-runtime-'));
    assert.equal(left.length, 1);
    assert.notEqual(left[0], name('b'), 'its own bundle stays');
  } finally {
    assert.equal(await srv.stop(), 0);
    await db.cleanup();
  }
});
