import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, statfs, symlink, unlink, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isListenerReady, LISTENER_NAME, makeSocketDir } from '../../agent/iofs.js';
import { prepareSocketBase, removeOwnSocketDirs, removeSocketDirs } from '../../agent/iofs-base.js';
import { nodeTag } from '../../agent/socket-dir-name.js';

let root = '';
/** The node id socket directories are made for. */
const NODE = 'iofs-test';
const servers: Server[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-iofs-'));
});

after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  // A tmpfs test that failed before its own clean-up must not leave a mount behind.
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const point = line.split(' ')[4];
    if (point?.startsWith(`${root}/`)) await execFileP('umount', ['-l', point]).catch(() => {});
  }
  await rm(root, { recursive: true, force: true });
});

/** Binds a real unix socket at path. */
async function listen(path: string): Promise<Server> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  servers.splice(servers.indexOf(server), 1);
}

let n = 0;
async function freshDir(): Promise<string> {
  const dir = join(root, `case-${n++}`);
  await mkdir(dir);
  return dir;
}

/** Whether p settles within ms: 'resolved', 'rejected' or 'pending'. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  // The timer is cancelled once p settles, so it does not hold the process open.
  const timer = new AbortController();
  try {
    return await Promise.race([
      p.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      sleep(ms, undefined, { signal: timer.signal }).then(() => 'pending' as const),
    ]);
  } finally {
    timer.abort();
  }
}

test('LISTENER_NAME is lsnr.sock', () => {
  assert.equal(LISTENER_NAME, 'lsnr.sock');
});

const readyCases: { name: string; setup(dir: string): Promise<void>; expected: boolean }[] = [
  {
    name: 'a relative link to phonylsnr.sock, a socket in the same directory',
    setup: async (dir) => {
      await listen(join(dir, 'phonylsnr.sock'));
      await symlink('phonylsnr.sock', join(dir, 'lsnr.sock'));
    },
    expected: true,
  },
  {
    name: 'a relative link to a socket of another name in the same directory',
    setup: async (dir) => {
      await listen(join(dir, 'other.sock'));
      await symlink('other.sock', join(dir, 'lsnr.sock'));
    },
    expected: true,
  },
  {
    name: 'an empty directory',
    setup: async () => {},
    expected: false,
  },
  {
    name: 'a bound socket but no link',
    setup: async (dir) => {
      await listen(join(dir, 'phonylsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a regular file named lsnr.sock',
    setup: async (dir) => {
      await writeFile(join(dir, 'lsnr.sock'), 'not a socket');
    },
    expected: false,
  },
  {
    name: 'lsnr.sock is itself a socket (bound directly, as Fn\'s agent accepts)',
    setup: async (dir) => {
      await listen(join(dir, 'lsnr.sock'));
    },
    expected: true,
  },
  {
    name: 'an absolute link to a socket in the same directory',
    setup: async (dir) => {
      await listen(join(dir, 'phonylsnr.sock'));
      await symlink(join(dir, 'phonylsnr.sock'), join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a link to ../x, a socket in the parent directory',
    setup: async (dir) => {
      await listen(join(dir, '..', `${dir.split('/').pop() ?? ''}-x`));
      await symlink(`../${dir.split('/').pop() ?? ''}-x`, join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a link into a subdirectory, to a socket',
    setup: async (dir) => {
      await mkdir(join(dir, 'sub'));
      await listen(join(dir, 'sub', 'phonylsnr.sock'));
      await symlink('sub/phonylsnr.sock', join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a link to a regular file',
    setup: async (dir) => {
      await writeFile(join(dir, 'phonylsnr.sock'), '');
      await symlink('phonylsnr.sock', join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a link to a directory',
    setup: async (dir) => {
      await mkdir(join(dir, 'phonylsnr.sock'));
      await symlink('phonylsnr.sock', join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a dangling link',
    setup: async (dir) => {
      await symlink('phonylsnr.sock', join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a link to itself',
    setup: async (dir) => {
      await symlink('lsnr.sock', join(dir, 'lsnr.sock'));
    },
    expected: false,
  },
  {
    name: 'a relative link to a link to a socket outside the directory',
    setup: async (dir) => {
      const outside = join(root, `outside-${n++}.sock`);
      await listen(outside);
      await symlink(outside, join(dir, 'hop'));
      await symlink('hop', join(dir, 'lsnr.sock'));
    },
    // The link names "hop", which is a link, not a socket: the socket is outside the directory.
    // The agent connects through lsnr.sock and the kernel follows the whole chain, so a container
    // could aim the agent at any socket on the host (e.g. /var/run/docker.sock) this way.
    expected: false,
  },
];

for (const c of readyCases) {
  test(`isListenerReady: ${c.expected} for ${c.name}`, async () => {
    const dir = await freshDir();
    await c.setup(dir);
    assert.equal(await isListenerReady(dir), c.expected);
  });
}

test('isListenerReady: false for a directory that does not exist', async () => {
  assert.equal(await isListenerReady(join(root, 'no-such-dir')), false);
});

test('isListenerReady: false again once the socket is closed (link left dangling)', async () => {
  const dir = await freshDir();
  const server = await listen(join(dir, 'phonylsnr.sock'));
  await symlink('phonylsnr.sock', join(dir, 'lsnr.sock'));
  assert.equal(await isListenerReady(dir), true);
  await closeServer(server);
  assert.equal(await isListenerReady(dir), false);
});

test('makeSocketDir: creates a fresh 0777 directory under a base it creates', async () => {
  const base = join(root, 'mk', 'nested');
  const a = await makeSocketDir(base, NODE);
  const b = await makeSocketDir(base, NODE);
  try {
    assert.notEqual(a.path, b.path);
    for (const d of [a, b]) {
      assert.ok(d.path.startsWith(base + '/'), d.path);
      // Tagged with its node: a start can tell its own leftovers from another node's.
      assert.match(d.path.slice(base.length + 1), new RegExp(`^c${nodeTag(NODE)}-[A-Za-z0-9]{6}$`));
      const s = await stat(d.path);
      assert.ok(s.isDirectory());
      assert.equal(s.mode & 0o777, 0o777);
      assert.deepEqual(await readdir(d.path), []);
    }
  } finally {
    await a.remove();
    await b.remove();
  }
});

test('makeSocketDir: ready resolves once the socket is bound and then linked', { timeout: 10_000 }, async () => {
  const d = await makeSocketDir(join(root, 'ready'), NODE);
  await d.arm();
  try {
    await sleep(30);
    const server = await listen(join(d.path, 'phonylsnr.sock'));
    // Bound but not linked: not ready yet.
    assert.equal(await settledWithin(d.ready, 100), 'pending');
    await symlink('phonylsnr.sock', join(d.path, LISTENER_NAME));
    assert.equal(await settledWithin(d.ready, 5_000), 'resolved');
    // The agent connects through its own descriptor of the socket, not through a name.
    assert.match(await d.ready, /^\/proc\/self\/fd\/\d+$/);
    assert.ok((await stat(await d.ready)).isSocket());
    await closeServer(server);
  } finally {
    await d.remove();
  }
});

test('makeSocketDir: lsnr.sock bound directly is ready only once it listens (a bind comes before its listen)', { timeout: 10_000 }, async () => {
  const d = await makeSocketDir(join(root, 'direct'), NODE);
  await d.arm();
  // A server as a function's could be written: bind, then listen a moment later.
  const code = `import socket, time\ns = socket.socket(socket.AF_UNIX)\ns.bind(${JSON.stringify(join(d.path, LISTENER_NAME))})\ntime.sleep(0.4)\ns.listen(1)\ntime.sleep(5)\n`;
  const py = spawn('python3', ['-c', code], { stdio: 'ignore' });
  try {
    let ready = false;
    void d.ready.then(() => (ready = true));
    await sleep(250);
    assert.equal(ready, false, 'not ready while it refuses connections');
    assert.ok((await stat(await d.ready)).isSocket());
  } finally {
    py.kill();
    await d.remove();
  }
});

test('makeSocketDir: nothing is watched (and ready stays pending) until arm()', { timeout: 10_000 }, async () => {
  const d = await makeSocketDir(join(root, 'unarmed'), NODE);
  try {
    const server = await listen(join(d.path, 'phonylsnr.sock'));
    await symlink('phonylsnr.sock', join(d.path, LISTENER_NAME));
    assert.equal(await settledWithin(d.ready, 100), 'pending');
    await d.arm();
    assert.equal(await settledWithin(d.ready, 5_000), 'resolved', 'armed: a link already there counts');
    await closeServer(server);
  } finally {
    await d.remove();
  }
});

test('makeSocketDir: ready stays pending for an invalid link', { timeout: 10_000 }, async () => {
  const d = await makeSocketDir(join(root, 'invalid'), NODE);
  await d.arm();
  try {
    await writeFile(join(d.path, 'phonylsnr.sock'), 'not a socket');
    await sleep(30);
    await symlink('phonylsnr.sock', join(d.path, LISTENER_NAME));
    assert.equal(await settledWithin(d.ready, 200), 'pending');
  } finally {
    await d.remove();
  }
  await assert.rejects(d.ready, /removed/);
});

test('makeSocketDir: remove() deletes the directory and its contents, rejects a pending ready, and is repeatable', async () => {
  const d = await makeSocketDir(join(root, 'remove'), NODE);
  await writeFile(join(d.path, 'leftover'), 'x');
  await d.remove();
  await assert.rejects(stat(d.path), { code: 'ENOENT' });
  await assert.rejects(d.ready, /removed/);
  await d.remove();
});

test('makeSocketDir: remove() deletes a tree deeper than PATH_MAX that the container made', async () => {
  const d = await makeSocketDir(join(root, 'deep'), NODE);
  // 250 levels of 30 characters: about 7,700 bytes of path, past Linux's 4,096.
  const name = 'd'.repeat(30);
  await execFileP('bash', ['-c', `cd "$1" && for i in $(seq 250); do mkdir ${name} && cd ${name}; done && echo x > leaf`, 'deep', d.path]);
  await d.remove();
  await assert.rejects(stat(d.path), { code: 'ENOENT' });
});

test('makeSocketDir: remove() after ready keeps ready resolved', { timeout: 10_000 }, async () => {
  const d = await makeSocketDir(join(root, 'remove-after-ready'), NODE);
  await d.arm();
  const server = await listen(join(d.path, 'phonylsnr.sock'));
  await sleep(20);
  await symlink('phonylsnr.sock', join(d.path, LISTENER_NAME));
  await d.ready;
  await closeServer(server);
  await d.remove();
  await assert.doesNotReject(d.ready);
  await assert.rejects(stat(d.path), { code: 'ENOENT' });
});

test('makeSocketDir: once ready, relinking lsnr.sock cannot point the agent at another socket', { timeout: 10_000 }, async () => {
  const d = await makeSocketDir(join(root, 'relink'), NODE);
  await d.arm();
  try {
    const served: string[] = [];
    const mine = await listen(join(d.path, 'phonylsnr.sock'));
    mine.on('connection', (c) => { served.push('function'); c.destroy(); });
    await sleep(20);
    await symlink('phonylsnr.sock', join(d.path, LISTENER_NAME));
    const via = await d.ready;
    // What a hostile function can do in its directory afterwards: aim the link at a host socket.
    const host = join(root, `host-${n++}.sock`);
    (await listen(host)).on('connection', (c) => { served.push('host'); c.destroy(); });
    for (const name of [LISTENER_NAME, 'phonylsnr.sock']) {
      await unlink(join(d.path, name));
      await symlink(host, join(d.path, name));
    }
    await new Promise<void>((resolve, reject) => {
      const c = connect(via, () => { c.destroy(); resolve(); });
      c.once('error', reject);
    });
    await sleep(50);
    assert.deepEqual(served, ['function']);
  } finally {
    await d.remove();
  }
});

test('makeSocketDir: stopWatching() rejects a pending ready and keeps the directory', async () => {
  const d = await makeSocketDir(join(root, 'stop'), NODE);
  try {
    d.stopWatching();
    await assert.rejects(d.ready, /stopped watching/);
    assert.ok((await stat(d.path)).isDirectory());
  } finally {
    await d.remove();
  }
});

/** A base path of exactly `len` bytes under root (mkdtemp adds "/c" + 6, the socket "/lsnr.sock"). */
const baseOfLength = (label: string, len: number): string => {
  const prefix = join(root, label) + '/';
  assert.ok(prefix.length < len, `tmpdir ${root} is too long for this test`);
  // Every 100th byte is a "/", so no one name is over NAME_MAX (255).
  const n = len - prefix.length;
  let rest = '';
  for (let i = 0; i < n; i++) rest += (i + 1) % 100 === 0 && i < n - 1 ? '/' : 'a';
  return prefix + rest;
};
/** A tagged socket directory's name, `c` + 8 hex + `-` + six, and the socket in it. */
const SOCKET_SUFFIX = '/c01234567-XXXXXX/lsnr.sock'.length;

test('makeSocketDir: a socket path of exactly 107 bytes is accepted', async () => {
  const base = baseOfLength('len107', 107 - SOCKET_SUFFIX);
  const d = await makeSocketDir(base, NODE);
  try {
    assert.equal(Buffer.byteLength(join(d.path, LISTENER_NAME)), 107);
  } finally {
    await d.remove();
  }
});

const tooLongCases: { name: string; extra: number }[] = [
  { name: '108 bytes, one over', extra: 1 },
  { name: 'far over', extra: 200 },
];

for (const c of tooLongCases) {
  test(`makeSocketDir: a socket path of ${c.name} is rejected and leaves no directory behind`, async () => {
    const base = baseOfLength(`long-${c.extra}`, 107 - SOCKET_SUFFIX + c.extra);
    await assert.rejects(makeSocketDir(base, NODE), new RegExp(`\\(${107 - SOCKET_SUFFIX + c.extra} bytes; at most 80, since socket directories' names carry the node's tag\\): .*over 107 bytes`));
    assert.deepEqual(await readdir(base).catch(() => []), []);
  });
}

test('makeSocketDir: length counts bytes, not characters', async () => {
  // "é" is two bytes: 107 characters but 108 bytes.
  const prefix = join(root, 'utf8') + '/';
  const base = prefix + 'é' + 'a'.repeat(107 - SOCKET_SUFFIX - prefix.length - 1);
  assert.equal(base.length + SOCKET_SUFFIX, 107);
  await assert.rejects(makeSocketDir(base, NODE), /over 107 bytes/);
});

test('prepareSocketBase: makes the base 0700; closes the default one older Kiln left 0755; never changes one an operator named', async () => {
  const made = join(root, 'base-new', 'iofs');
  await prepareSocketBase(made);
  assert.equal((await stat(made)).mode & 0o777, 0o700);
  const old = join(root, 'base-old');
  await mkdir(old);
  await chmod(old, 0o755);
  await prepareSocketBase(old, { mayClose: true });
  assert.equal((await stat(old)).mode & 0o777, 0o700);
  // Named by the operator (it might be /tmp or /run): refused as it is, never chmod'ed.
  for (const mode of [0o755, 0o1777]) {
    const named = join(root, `base-named-${mode.toString(8)}`);
    await mkdir(named);
    await chmod(named, mode);
    await assert.rejects(prepareSocketBase(named), /is open to other users .*give Kiln a directory only it can enter/);
    assert.equal((await stat(named)).mode & 0o7777, mode);
  }
  // Not even the default, when it is world-writable or sticky: that is no directory Kiln made.
  const shared = join(root, 'base-shared');
  await mkdir(shared);
  await chmod(shared, 0o1777);
  await assert.rejects(prepareSocketBase(shared, { mayClose: true }), /is open to other users/);
  assert.equal((await stat(shared)).mode & 0o7777, 0o1777);
});

test('the base must be closed to its group and to others alike: 0750 and 0701 are refused, 0700 is taken', async () => {
  // One class open is enough to refuse it: group only (0750), others only (0701).
  for (const mode of [0o750, 0o701]) {
    const named = join(root, `base-half-open-${mode.toString(8)}`);
    await mkdir(named);
    await chmod(named, mode);
    await assert.rejects(prepareSocketBase(named), new RegExp(`is open to other users \\(mode ${mode.toString(8)}\\)`), `mode ${mode.toString(8)} at start-up`);
    assert.equal((await stat(named)).mode & 0o7777, mode, 'an operator\'s directory is never changed');
    // And each new socket directory checks it again.
    await assert.rejects(makeSocketDir(named, NODE), /is open to other users/, `mode ${mode.toString(8)} for a socket directory`);
    assert.deepEqual(await readdir(named), [], 'no socket directory made in it');
  }
  const closed = join(root, 'base-closed');
  await mkdir(closed);
  await chmod(closed, 0o700);
  await prepareSocketBase(closed);
  const dir = await makeSocketDir(closed, NODE);
  try {
    assert.ok(dir.path.startsWith(closed + '/'), `a socket directory is made in a 0700 base: ${dir.path}`);
  } finally {
    await dir.remove();
  }
  assert.equal((await stat(closed)).mode & 0o7777, 0o700);
});

test('makeSocketDir checks the base every time: one made anew by another user is refused', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async () => {
  const base = join(root, 'base-remade');
  await prepareSocketBase(base);
  await rm(base, { recursive: true });
  await mkdir(base, { mode: 0o777 });
  await chmod(base, 0o777);
  await chown(base, 65534, 65534);
  await assert.rejects(makeSocketDir(base, NODE), /belongs to uid 65534/);
  assert.deepEqual(await readdir(base), []);
});

test('prepareSocketBase: refuses a link, a file, and a directory of another user', async () => {
  const real = join(root, 'base-real');
  await mkdir(real);
  const link = join(root, 'base-link');
  await symlink(real, link);
  await assert.rejects(prepareSocketBase(link), /is not a directory/);
  const file = join(root, 'base-file');
  await writeFile(file, '');
  await assert.rejects(prepareSocketBase(file), /EEXIST|is not a directory/);
  if (process.getuid?.() === 0) {
    const theirs = join(root, 'base-theirs');
    await mkdir(theirs, { mode: 0o700 });
    await chown(theirs, 65534, 65534);
    await assert.rejects(prepareSocketBase(theirs), /belongs to uid 65534/);
  }
});

test('removeSocketDirs: only directories Kiln names (tagged or from before tags), directly under the base', async () => {
  const base = join(root, 'leftovers');
  const elsewhere = join(root, 'elsewhere');
  for (const d of [join(base, 'cAbC123'), join(base, 'cXyZ789'), join(base, 'c0123abcd-Qw3rTy'), join(base, 'other'), join(elsewhere, 'cAbC123')]) await mkdir(d, { recursive: true });
  const removed = await removeSocketDirs(base, [join(base, 'cAbC123'), join(base, 'c0123abcd-Qw3rTy'), join(base, 'other'), join(elsewhere, 'cAbC123'), `${base}/../elsewhere/cAbC123`, '/']);
  assert.equal(removed, 2);
  assert.deepEqual((await readdir(base)).sort(), ['cXyZ789', 'other']);
  assert.deepEqual(await readdir(elsewhere), ['cAbC123']);
});

test('removeOwnSocketDirs: this node\'s tagged directories no container mounts; never another node\'s, an untagged one, or one mounted', async () => {
  const base = join(root, 'own-leftovers');
  const mine = (suffix: string) => join(base, `c${nodeTag(NODE)}-${suffix}`);
  const other = join(base, `c${nodeTag('another-node')}-AbC123`);
  const dirs = [mine('AbC123'), mine('dEf456'), mine('mOunt1'), other, join(base, 'cAbC123'), join(base, 'probe-AbC123')];
  for (const d of dirs) await mkdir(join(d, 'deep'), { recursive: true });
  let asked = 0;
  const removed = await removeOwnSocketDirs(base, NODE, async () => {
    asked++;
    return [mine('mOunt1'), '/var/run/docker.sock'];
  });
  assert.deepEqual(removed.sort(), [mine('AbC123'), mine('dEf456')].sort());
  assert.equal(asked, 1);
  assert.deepEqual((await readdir(base)).sort(), ['cAbC123', `c${nodeTag('another-node')}-AbC123`, `c${nodeTag(NODE)}-mOunt1`, 'probe-AbC123'].sort());
  // Nothing of its own: the engine is not asked. The engine failing: nothing is removed.
  const empty = join(root, 'own-none');
  await mkdir(join(empty, 'cAbC123'), { recursive: true });
  assert.deepEqual(await removeOwnSocketDirs(empty, NODE, () => assert.fail('asked the engine')), []);
  await assert.rejects(removeOwnSocketDirs(base, NODE, () => Promise.reject(new Error('no engine'))), /no engine/);
  assert.equal((await readdir(base)).length, 4);
});

const TMPFS_MAGIC = 0x01021994;
const asRoot = { skip: process.getuid?.() !== 0 ? 'mounting needs root' : false };

test('makeSocketDir with FN_IOFS_TMPFS: a bounded tmpfs of its own, ready as ever, unmounted on remove', { ...asRoot, timeout: 10_000 }, async () => {
  const base = join(root, 'tmpfs');
  await prepareSocketBase(base, { tmpfs: 'size=64k' });
  const d = await makeSocketDir(base, NODE, 'size=64k');
  await d.arm();
  try {
    assert.equal((await statfs(d.path)).type, TMPFS_MAGIC);
    assert.equal((await stat(d.path)).mode & 0o777, 0o777);
    await assert.rejects(writeFile(join(d.path, 'big'), Buffer.alloc(128 * 1024)), { code: 'ENOSPC' });
    await rm(join(d.path, 'big'), { force: true });
    const server = await listen(join(d.path, 'phonylsnr.sock'));
    await sleep(20);
    await symlink('phonylsnr.sock', join(d.path, LISTENER_NAME));
    assert.ok((await stat(await d.ready)).isSocket());
    await closeServer(server);
  } finally {
    await d.remove();
  }
  await assert.rejects(stat(d.path), { code: 'ENOENT' });
  assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(d.path), 'unmounted');
});

test('prepareSocketBase with FN_IOFS_TMPFS: options the kernel refuses stop start-up, saying why', asRoot, async () => {
  const base = join(root, 'tmpfs-bad');
  await assert.rejects(prepareSocketBase(base, { tmpfs: 'size=lots' }), /FN_IOFS_TMPFS: cannot mount a tmpfs at .* \(-o nosuid,nodev,noexec,mode=0777,size=lots\)/);
  assert.deepEqual(await readdir(base), [], 'no probe left behind');
});

test('removeSocketDirs unmounts a leftover tmpfs before removing it', asRoot, async () => {
  const base = join(root, 'tmpfs-left');
  const d = await makeSocketDir(base, NODE, 'size=64k');
  await d.arm();
  d.stopWatching();
  // As a killed server leaves it: mounted, never removed.
  assert.equal(await removeSocketDirs(base, [d.path]), 1);
  await assert.rejects(stat(d.path), { code: 'ENOENT' });
  assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(d.path));
});

test('prepareSocketBase removes a probe a killed start left, mounted or not', asRoot, async () => {
  const base = join(root, 'probe-left');
  await prepareSocketBase(base);
  await mkdir(join(base, 'probe-AbC123'));
  await mkdir(join(base, 'probe-XyZ789'));
  await execFileP('mount', ['-t', 'tmpfs', 'tmpfs', join(base, 'probe-XyZ789')]);
  await mkdir(join(base, 'cKeep01'));
  await prepareSocketBase(base);
  assert.deepEqual(await readdir(base), ['cKeep01']);
});
