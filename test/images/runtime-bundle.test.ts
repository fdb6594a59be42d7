// The Lambda layer's runtime bundle: built once per content even by racing processes, and
// runs node from a read-only bind mount in an image that holds nothing but /etc/passwd.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { sha256File } from '../../images/host-image.js';
import { prepareRuntimeBundle, SANDBOX_HOSTS, type RuntimeBundle } from '../../images/runtime-bundle.js';
import { docker } from '../helpers/images.js';
import { importFiles, leftoverContainers, runLocked } from '../helpers/base-images.js';

const execFileP = promisify(execFile);
const client = docker();
const emptyImage = `kiln-test/empty:${process.pid}`;
let base = '';
let daemonJs = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), `kiln-bundle-${process.pid}-`));
  daemonJs = join(base, 'daemon.js');
  await writeFile(daemonJs, 'console.log(process.version, process.getuid())\n');
});

after(async () => {
  await rm(base, { recursive: true, force: true });
  await client.getImage(emptyImage).remove({ force: true }).catch(() => {});
  assert.equal((await leftoverContainers(client)).length, 0, 'containers left behind');
});

/** Asserts that `b` is a complete, world-readable bundle of this node and daemon. */
async function assertBundle(b: RuntimeBundle): Promise<void> {
  assert.equal((await stat(b.hostDir)).mode & 0o777, 0o755);
  assert.equal((await stat(join(b.hostDir, 'lib'))).mode & 0o777, 0o755);
  assert.equal(await sha256File(join(b.hostDir, 'node')), await sha256File(process.execPath));
  assert.equal(await readFile(join(b.hostDir, 'daemon.js'), 'utf8'), await readFile(daemonJs, 'utf8'));
  // The sandbox's /etc/hosts, for containers without a network.
  assert.equal(b.hostsFile, join(b.hostDir, 'hosts'));
  assert.equal(await readFile(b.hostsFile, 'utf8'), SANDBOX_HOSTS);
  for (const f of ['node', 'daemon.js', ...(await readdir(join(b.hostDir, 'lib'))).map((l) => `lib/${l}`)]) {
    const st = await stat(join(b.hostDir, f));
    assert.ok(st.isFile(), f);
    assert.equal(st.mode & 0o444, 0o444, `${f} is world-readable`);
  }
  const [loader, ...rest] = b.command;
  assert.deepEqual(rest, ['--library-path', '/kiln/lib', '/kiln/node', '/kiln/daemon.js']);
  assert.match(loader ?? '', /^\/kiln\/lib\/ld-[^/]+$/);
  assert.equal((await stat(join(b.hostDir, (loader ?? '').slice('/kiln/'.length)))).mode & 0o111, 0o111);
}

test('racing processes build one bundle; later calls reuse it', async () => {
  const moduleUrl = new URL('../../images/runtime-bundle.js', import.meta.url).href;
  const child = `const { prepareRuntimeBundle } = await import(${JSON.stringify(moduleUrl)});
    const b = await prepareRuntimeBundle({ daemonJs: process.argv[1], dir: process.argv[2] });
    console.log(JSON.stringify(b));`;
  const inChild = async (): Promise<RuntimeBundle> =>
    JSON.parse((await execFileP(process.execPath, ['--input-type=module', '-e', child, daemonJs, base])).stdout) as RuntimeBundle;
  const all = await Promise.all([
    inChild(),
    inChild(),
    prepareRuntimeBundle({ daemonJs, dir: base }),
    prepareRuntimeBundle({ daemonJs, dir: base }),
  ]);
  for (const b of all) assert.deepEqual(b, all[0]);
  const b = all[0]!;
  assert.match(b.hostDir, new RegExp(`^${base}/kiln-runtime-[0-9a-f]{16}$`));
  await assertBundle(b);
  // No temp sibling is left by the losers of the race.
  assert.deepEqual((await readdir(base)).sort(), ['daemon.js', b.hostDir.slice(base.length + 1)]);

  const before = await stat(join(b.hostDir, 'node'));
  assert.deepEqual(await prepareRuntimeBundle({ daemonJs, dir: base }), b);
  assert.equal((await stat(join(b.hostDir, 'node'))).ino, before.ino, 'reused, not rebuilt');
});

test('a damaged bundle is rebuilt; another daemon gets another directory', async () => {
  const b = await prepareRuntimeBundle({ daemonJs, dir: base });
  await rm(join(b.hostDir, 'node'));
  assert.deepEqual(await prepareRuntimeBundle({ daemonJs, dir: base }), b);
  await assertBundle(b);

  const other = join(base, 'other.js');
  await writeFile(other, '// another daemon\n');
  const o = await prepareRuntimeBundle({ daemonJs: other, dir: base });
  assert.notEqual(o.hostDir, b.hostDir);
  assert.equal(await readFile(join(o.hostDir, 'daemon.js'), 'utf8'), '// another daemon\n');
});

test('a bundle another user could have made or can change is never reused', async () => {
  const b = await prepareRuntimeBundle({ daemonJs, dir: base });
  const daemon = join(b.hostDir, 'daemon.js');
  const ours = await readFile(daemonJs, 'utf8');
  // The same size as the real daemon, so only who wrote it tells them apart.
  const planted = '/' + '*'.repeat(ours.length - 4) + '*/\n';
  const tamperings: { name: string; tamper(): Promise<void>; rootOnly?: boolean }[] = [
    { name: 'a daemon anyone may write', tamper: async () => { await writeFile(daemon, planted); await chmod(daemon, 0o666); } },
    { name: 'a group-writable bundle directory', tamper: async () => { await writeFile(daemon, planted); await chmod(b.hostDir, 0o775); } },
    { name: 'a daemon of another user', rootOnly: true, tamper: async () => { await writeFile(daemon, planted); await chown(daemon, 65534, 65534); } },
    { name: 'a bundle directory of another user', rootOnly: true, tamper: async () => { await writeFile(daemon, planted); await chown(b.hostDir, 65534, 65534); } },
    { name: 'a link in place of the daemon', tamper: async () => { const p = join(base, 'planted.js'); await writeFile(p, planted); await rm(daemon); await symlink(p, daemon); } },
  ];
  for (const t of tamperings) {
    if (t.rootOnly && process.getuid?.() !== 0) continue;
    await t.tamper();
    assert.equal((await readFile(daemon, 'utf8')).length, ours.length, t.name);
    assert.deepEqual(await prepareRuntimeBundle({ daemonJs, dir: base }), b, t.name);
    assert.equal(await readFile(daemon, 'utf8'), ours, t.name);
    const st = await lstat(daemon);
    assert.ok(st.isFile() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0, t.name);
    assert.equal((await lstat(b.hostDir)).uid, process.getuid?.(), t.name);
  }
  await rm(join(base, 'planted.js'), { force: true });
});

test('a planted bundle Kiln may not move is left alone: a copy under a name of its user\'s own serves, and is reused', { skip: process.getuid?.() !== 0 ? 'chattr needs root' : false }, async () => {
  const dir = await mkdtemp(join(base, 'immovable-'));
  const first = await prepareRuntimeBundle({ daemonJs, dir });
  // Stand-in for another user's directory in a sticky temp dir: untrusted, and immovable.
  await chown(join(first.hostDir, 'daemon.js'), 65534, 65534);
  await execFileP('chattr', ['+i', first.hostDir]);
  try {
    const b = await prepareRuntimeBundle({ daemonJs, dir });
    assert.equal(b.hostDir, `${first.hostDir}-u0`);
    await assertBundle(b);
    const again = await prepareRuntimeBundle({ daemonJs, dir });
    assert.deepEqual(again, b);
    assert.equal((await readdir(dir)).length, 2, 'the planted one and one copy: nothing more at each start');
  } finally {
    await execFileP('chattr', ['-i', first.hostDir]);
  }
});

test('the daemon runs from a read-only mount in an image with nothing but /etc/passwd', async () => {
  await importFiles(client, emptyImage, { 'etc/passwd': 'root:x:0:0::/:/nope\nfn:x:1000:1000::/tmp:/nope\n' });

  const b = await prepareRuntimeBundle({ daemonJs, dir: base });
  const r = await runLocked(client, emptyImage, b.command, [`${b.hostDir}:/kiln:ro`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${process.version} 1000\n`);
});
