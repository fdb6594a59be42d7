import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerTask } from '../../drivers/contract.js';
import { coverImageVolumes, createOptions, DEFAULT_LIMITS, IOFS_MOUNT, logConfig, type DockerLimits } from '../../drivers/docker/create-options.js';

const MiB = 1024 * 1024;
const noop = { write: () => {} };

const makeTask = (over: Partial<ContainerTask> = {}): ContainerTask => ({
  id: 'kiln-app1-fn1-01J00000000000000000000000',
  image: 'example/hello:0.0.1',
  env: { FN_FORMAT: 'http-stream', FN_LISTENER: 'unix:/tmp/iofs/lsnr.sock', GREETING: 'a=b c' },
  labels: { 'kiln.app': 'app1', 'kiln.fn': 'fn1', 'kiln.node': 'node-a' },
  memoryMb: 128,
  cpusMilli: 500,
  tmpfsMb: 0,
  udsPath: '/var/lib/kiln/iofs/cAbC123',
  logger: { stdout: noop, stderr: noop },
  writeStat: () => {},
  ...over,
});

const limits: DockerLimits = {
  pids: 77,
  openFiles: 1024,
  lockedMemory: 65536,
  pendingSignals: 4000,
  messageQueue: 819200,
  defaultTmpfsMb: 32,
  tmpfsInodes: 0,
  readOnlyRoot: true,
  unprivileged: true,
  user: '1000:1000',
};

const hc = (task: ContainerTask, l: DockerLimits = limits) => {
  const opts = createOptions(task, l);
  assert.ok(opts.HostConfig, 'HostConfig is set');
  return opts.HostConfig;
};

test('IOFS_MOUNT is /tmp/iofs', () => {
  assert.equal(IOFS_MOUNT, '/tmp/iofs');
});

test('DEFAULT_LIMITS are Fn\'s defaults, secure by default', () => {
  assert.deepEqual(DEFAULT_LIMITS, {
    pids: 50,
    openFiles: 350,
    lockedMemory: 64 * 1024,
    pendingSignals: 5000,
    messageQueue: 819200,
    defaultTmpfsMb: 64,
    tmpfsInodes: 0,
    readOnlyRoot: true,
    unprivileged: true,
    user: '1000:1000',
  });
});

test('name, image and attach settings', () => {
  const task = makeTask();
  const opts = createOptions(task, limits);
  assert.equal(opts.name, task.id);
  assert.equal(opts.Image, 'example/hello:0.0.1');
  assert.equal(opts.AttachStdout, true);
  assert.equal(opts.AttachStderr, true);
  assert.equal(opts.AttachStdin, false);
  assert.equal(opts.OpenStdin, false);
  assert.equal(opts.Tty, false);
});

const memoryCases: { memoryMb: number; bytes: number }[] = [
  { memoryMb: 128, bytes: 128 * MiB },
  { memoryMb: 1, bytes: MiB },
  { memoryMb: 1024, bytes: 1024 * MiB },
  { memoryMb: 8192, bytes: 8 * 1024 * MiB },
];

for (const c of memoryCases) {
  test(`memory ${c.memoryMb} MiB: Memory = MemorySwap = ${c.bytes}, no MemorySwappiness`, () => {
    const h = hc(makeTask({ memoryMb: c.memoryMb }));
    assert.equal(h.Memory, c.bytes);
    assert.equal(h.MemorySwap, c.bytes);
    assert.equal(Object.hasOwn(h, 'MemorySwappiness'), false);
  });
}

const cpuCases: { name: string; cpusMilli: number; quota?: number; period?: number }[] = [
  { name: 'no limit at 0', cpusMilli: 0 },
  { name: 'half a CPU', cpusMilli: 500, quota: 50_000, period: 100_000 },
  { name: 'one CPU', cpusMilli: 1000, quota: 100_000, period: 100_000 },
  { name: 'two and a half CPUs', cpusMilli: 2500, quota: 250_000, period: 100_000 },
  { name: 'one milli-CPU', cpusMilli: 1, quota: 100, period: 100_000 },
];

for (const c of cpuCases) {
  test(`cpus: ${c.name}`, () => {
    const h = hc(makeTask({ cpusMilli: c.cpusMilli }));
    if (c.quota === undefined) {
      assert.equal(Object.hasOwn(h, 'CpuQuota'), false);
      assert.equal(Object.hasOwn(h, 'CpuPeriod'), false);
    } else {
      assert.equal(h.CpuQuota, c.quota);
      assert.equal(h.CpuPeriod, c.period);
    }
  });
}

const cpusetCases: { name: string; cpuset?: string; cpusMilli?: number; want?: string }[] = [
  { name: 'unset: any CPU, no CpusetCpus key' },
  { name: 'one CPU', cpuset: '1', want: '1' },
  { name: 'CPU 0', cpuset: '0', want: '0' },
  { name: 'a list, as given', cpuset: '0-3,6', want: '0-3,6' },
  { name: 'with a CPU quota, both are set', cpuset: '1', cpusMilli: 500, want: '1' },
];

for (const c of cpusetCases) {
  test(`cpuset: ${c.name}`, () => {
    const over: Partial<ContainerTask> = {};
    if (c.cpuset !== undefined) over.cpuset = c.cpuset;
    if (c.cpusMilli !== undefined) over.cpusMilli = c.cpusMilli;
    const h = hc(makeTask(over));
    if (c.want === undefined) assert.equal(Object.hasOwn(h, 'CpusetCpus'), false);
    else assert.equal(h.CpusetCpus, c.want);
    if (c.cpusMilli !== undefined) assert.equal(h.CpuQuota, c.cpusMilli * 100);
  });
}

test('pids limit and ulimits come from the limits', () => {
  const h = hc(makeTask());
  assert.equal(h.PidsLimit, 77);
  assert.deepEqual(h.Ulimits, [
    { Name: 'nofile', Soft: 1024, Hard: 1024 },
    { Name: 'memlock', Soft: 65536, Hard: 65536 },
    { Name: 'sigpending', Soft: 4000, Hard: 4000 },
    { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
  ]);
});

test('a pids limit of 0 is not set at all (the engine\'s default applies), as Fn\'s driver does', () => {
  assert.equal('PidsLimit' in hc(makeTask(), { ...limits, pids: 0 }), false);
});

// A Lambda sandbox's floors (1,024 processes/threads and open files): raise a lower setting, keep
// a higher one, and leave 0 (no limit) alone.
const floorCases: { name: string; pids: number; openFiles: number; wantPids: number | undefined; wantFiles: number | undefined }[] = [
  { name: "Fn's defaults are raised to the floor", pids: 50, openFiles: 350, wantPids: 1024, wantFiles: 1024 },
  { name: "an operator's higher setting stays", pids: 4096, openFiles: 65536, wantPids: 4096, wantFiles: 65536 },
  { name: '0 (no limit) stays no limit', pids: 0, openFiles: 0, wantPids: undefined, wantFiles: undefined },
];
for (const c of floorCases) {
  test(`minLimits: ${c.name}`, () => {
    const h = hc(makeTask({ minLimits: { pids: 1024, openFiles: 1024 } }), { ...limits, pids: c.pids, openFiles: c.openFiles });
    assert.equal(h.PidsLimit, c.wantPids);
    assert.deepEqual(h.Ulimits?.find((u) => u.Name === 'nofile'), c.wantFiles === undefined ? undefined : { Name: 'nofile', Soft: c.wantFiles, Hard: c.wantFiles });
  });
}

test('without minLimits (http-stream) the settings apply as they are', () => {
  const h = hc(makeTask(), { ...limits, pids: 50, openFiles: 350 });
  assert.equal(h.PidsLimit, 50);
  assert.deepEqual(h.Ulimits?.[0], { Name: 'nofile', Soft: 350, Hard: 350 });
});

// A ulimit of 0 is not set at all (the engine's default applies), as Fn's driver does.
const ulimitCases: { name: string; over: Partial<DockerLimits>; want: { Name: string; Soft: number; Hard: number }[] }[] = [
  {
    name: 'Fn\'s defaults',
    over: { openFiles: 350, lockedMemory: 64 * 1024, pendingSignals: 5000, messageQueue: 819200 },
    want: [
      { Name: 'nofile', Soft: 350, Hard: 350 },
      { Name: 'memlock', Soft: 65536, Hard: 65536 },
      { Name: 'sigpending', Soft: 5000, Hard: 5000 },
      { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
    ],
  },
  {
    name: 'other values',
    over: { lockedMemory: 8192, pendingSignals: 77, messageQueue: 1234 },
    want: [
      { Name: 'nofile', Soft: 1024, Hard: 1024 },
      { Name: 'memlock', Soft: 8192, Hard: 8192 },
      { Name: 'sigpending', Soft: 77, Hard: 77 },
      { Name: 'msgqueue', Soft: 1234, Hard: 1234 },
    ],
  },
  { name: 'memlock 0 is left out', over: { lockedMemory: 0 }, want: [
    { Name: 'nofile', Soft: 1024, Hard: 1024 },
    { Name: 'sigpending', Soft: 4000, Hard: 4000 },
    { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
  ] },
  { name: 'sigpending 0 is left out', over: { pendingSignals: 0 }, want: [
    { Name: 'nofile', Soft: 1024, Hard: 1024 },
    { Name: 'memlock', Soft: 65536, Hard: 65536 },
    { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
  ] },
  { name: 'msgqueue 0 is left out', over: { messageQueue: 0 }, want: [
    { Name: 'nofile', Soft: 1024, Hard: 1024 },
    { Name: 'memlock', Soft: 65536, Hard: 65536 },
    { Name: 'sigpending', Soft: 4000, Hard: 4000 },
  ] },
  { name: 'all 0: none', over: { openFiles: 0, lockedMemory: 0, pendingSignals: 0, messageQueue: 0 }, want: [] },
];
for (const c of ulimitCases) {
  test(`ulimits: ${c.name}`, () => assert.deepEqual(hc(makeTask(), { ...limits, ...c.over }).Ulimits, c.want));
}

const rootfsCases: { readOnlyRoot: boolean }[] = [{ readOnlyRoot: true }, { readOnlyRoot: false }];
for (const c of rootfsCases) {
  test(`ReadonlyRootfs follows readOnlyRoot=${c.readOnlyRoot}`, () => {
    assert.equal(hc(makeTask(), { ...limits, readOnlyRoot: c.readOnlyRoot }).ReadonlyRootfs, c.readOnlyRoot);
  });
}

const tmpfsCases: { name: string; tmpfsMb: number; size: number }[] = [
  { name: '0 uses the default', tmpfsMb: 0, size: 32 },
  { name: 'a set size is used', tmpfsMb: 16, size: 16 },
  { name: 'a size larger than the default is used', tmpfsMb: 512, size: 512 },
];

// FN_MAX_TMPFS_INODES: nr_inodes only when set, next to the size.
const inodeCases: { name: string; tmpfsInodes: number; tmpfsMb?: number; want: string }[] = [
  { name: '0: no nr_inodes (the kernel\'s default)', tmpfsInodes: 0, want: 'rw,nosuid,nodev,size=32m,mode=1777' },
  { name: '1000 inodes', tmpfsInodes: 1000, want: 'rw,nosuid,nodev,size=32m,nr_inodes=1000,mode=1777' },
  { name: '2 inodes with a fn\'s own size', tmpfsInodes: 2, tmpfsMb: 8, want: 'rw,nosuid,nodev,size=8m,nr_inodes=2,mode=1777' },
];
for (const c of inodeCases) {
  test(`tmpfs inodes: ${c.name}`, () => {
    const h = hc(makeTask({ tmpfsMb: c.tmpfsMb ?? 0 }), { ...limits, tmpfsInodes: c.tmpfsInodes });
    assert.deepEqual(h.Tmpfs, { '/tmp': c.want });
  });
}

for (const c of tmpfsCases) {
  test(`tmpfs: ${c.name}`, () => {
    const h = hc(makeTask({ tmpfsMb: c.tmpfsMb }));
    assert.deepEqual(Object.keys(h.Tmpfs ?? {}), ['/tmp']);
    const v = h.Tmpfs?.['/tmp'] ?? '';
    assert.ok(v.split(',').includes(`size=${c.size}m`), v);
    assert.ok(v.split(',').includes('rw'), v);
  });
}

const bindCases: { name: string; readOnlyBinds?: Record<string, string>; binds: string[] }[] = [
  { name: 'only the socket directory without extra binds', binds: ['/var/lib/kiln/iofs/cAbC123:/tmp/iofs'] },
  { name: 'only the socket directory with empty extra binds', readOnlyBinds: {}, binds: ['/var/lib/kiln/iofs/cAbC123:/tmp/iofs'] },
  {
    name: 'extra binds are read-only',
    readOnlyBinds: { '/opt/lambda-runtime': '/opt/runtime', '/etc/kiln/ca.pem': '/etc/ssl/ca.pem' },
    binds: ['/var/lib/kiln/iofs/cAbC123:/tmp/iofs', '/opt/lambda-runtime:/opt/runtime:ro', '/etc/kiln/ca.pem:/etc/ssl/ca.pem:ro'],
  },
];

for (const c of bindCases) {
  test(`binds: ${c.name}`, () => {
    const task = c.readOnlyBinds === undefined ? makeTask() : makeTask({ readOnlyBinds: c.readOnlyBinds });
    assert.deepEqual(hc(task).Binds, c.binds);
  });
}

test('Init is on', () => {
  assert.equal(hc(makeTask()).Init, true);
});

// NetworkDisabled (the cheapest start) whenever there is no network: the engine then writes no
// /etc/hosts and drops ExtraHosts, so a task that needs names (a Lambda sandbox's
// sandbox.localdomain) has its hosts file bound there; without one, networking is enabled for
// them (mode none has loopback only either way). With a network, the engine's file and ExtraHosts.
const HOSTS = ['sandbox.localdomain:127.0.0.1'];
const networkCases: { name: string; network?: string; extraHosts?: string[]; hostsFile?: string; mode: string; disabled: boolean; bound: boolean; extra: boolean }[] = [
  { name: 'no network gives none and disabled', mode: 'none', disabled: true, bound: false, extra: false },
  { name: 'no network, extra hosts and their file (Lambda): disabled, the file at /etc/hosts', extraHosts: HOSTS, hostsFile: '/b/hosts', mode: 'none', disabled: true, bound: true, extra: false },
  { name: 'no network, extra hosts without a file: none, not disabled, ExtraHosts', extraHosts: HOSTS, mode: 'none', disabled: false, bound: false, extra: true },
  { name: 'a network with extra hosts and their file: the engine\'s /etc/hosts with ExtraHosts', network: 'bridge', extraHosts: HOSTS, hostsFile: '/b/hosts', mode: 'bridge', disabled: false, bound: false, extra: true },
  { name: 'a network is joined', network: 'kiln-fns', mode: 'kiln-fns', disabled: false, bound: false, extra: false },
  { name: 'the bridge network', network: 'bridge', mode: 'bridge', disabled: false, bound: false, extra: false },
];

for (const c of networkCases) {
  test(`network: ${c.name}`, () => {
    const task = makeTask({
      ...(c.network !== undefined && { network: c.network }), ...(c.extraHosts && { extraHosts: c.extraHosts }), ...(c.hostsFile && { hostsFile: c.hostsFile }),
    });
    const opts = createOptions(task, limits);
    assert.equal(opts.HostConfig?.NetworkMode, c.mode);
    assert.equal(opts.NetworkDisabled, c.disabled);
    assert.equal(opts.HostConfig?.Binds?.includes('/b/hosts:/etc/hosts:ro'), c.bound);
    assert.equal(Object.hasOwn(opts.HostConfig ?? {}, 'ExtraHosts'), c.extra);
  });
}

test('unprivileged: all capabilities dropped, no-new-privileges, user 1000:1000', () => {
  const opts = createOptions(makeTask(), { ...limits, unprivileged: true });
  assert.deepEqual(opts.HostConfig?.CapDrop, ['ALL']);
  assert.deepEqual(opts.HostConfig?.SecurityOpt, ['no-new-privileges']);
  assert.equal(opts.User, '1000:1000');
});

test('unprivileged with another user (KILN_FN_USER): that User; an image volume\'s tmpfs is that user\'s', () => {
  const opts = createOptions(makeTask(), { ...limits, user: '100000:100001' });
  assert.equal(opts.User, '100000:100001');
  assert.deepEqual(opts.HostConfig?.CapDrop, ['ALL']);
  assert.equal(coverImageVolumes(opts, ['/data']).HostConfig?.Tmpfs?.['/data'], 'rw,nosuid,nodev,size=32m,mode=1777,uid=100000,gid=100001');
});

test('privileged: no CapDrop, SecurityOpt or User at all', () => {
  const opts = createOptions(makeTask(), { ...limits, unprivileged: false });
  const h = opts.HostConfig ?? {};
  assert.equal(Object.hasOwn(h, 'CapDrop'), false);
  assert.equal(Object.hasOwn(h, 'SecurityOpt'), false);
  assert.equal(Object.hasOwn(opts, 'User'), false);
});

test('labels are carried', () => {
  assert.deepEqual(createOptions(makeTask(), limits).Labels, { 'kiln.app': 'app1', 'kiln.fn': 'fn1', 'kiln.node': 'node-a' });
});

const envCases: { name: string; env: Record<string, string>; expected: string[] }[] = [
  { name: 'no env', env: {}, expected: [] },
  {
    name: 'K=V, values kept as is (= and spaces included)',
    env: { FN_FORMAT: 'http-stream', FN_LISTENER: 'unix:/tmp/iofs/lsnr.sock', GREETING: 'a=b c', EMPTY: '' },
    expected: ['FN_FORMAT=http-stream', 'FN_LISTENER=unix:/tmp/iofs/lsnr.sock', 'GREETING=a=b c', 'EMPTY='],
  },
];

for (const c of envCases) {
  test(`env: ${c.name}`, () => {
    assert.deepEqual(createOptions(makeTask({ env: c.env }), limits).Env, c.expected);
  });
}

const cmdCases: { name: string; command?: string[]; entrypoint?: string[]; cmd?: string[]; ep?: string[] }[] = [
  { name: 'no command: no Cmd key, the image decides' },
  { name: 'a command becomes Cmd', command: ['/bin/sh', '-c', 'echo hi'], cmd: ['/bin/sh', '-c', 'echo hi'] },
  { name: 'an entrypoint alone runs alone (empty Cmd)', entrypoint: ['/kiln/node', '/kiln/daemon.js'], ep: ['/kiln/node', '/kiln/daemon.js'], cmd: [] },
  { name: 'an entrypoint with a command', entrypoint: ['/e'], command: ['a'], ep: ['/e'], cmd: ['a'] },
];

for (const c of cmdCases) {
  test(`cmd: ${c.name}`, () => {
    const over: Partial<ContainerTask> = {};
    if (c.command) over.command = c.command;
    if (c.entrypoint) over.entrypoint = c.entrypoint;
    const opts = createOptions(makeTask(over), limits);
    if (c.cmd === undefined) assert.equal(Object.hasOwn(opts, 'Cmd'), false);
    else assert.deepEqual(opts.Cmd, c.cmd);
    if (c.ep === undefined) assert.equal(Object.hasOwn(opts, 'Entrypoint'), false);
    else assert.deepEqual(opts.Entrypoint, c.ep);
  });
}

test('extra hosts go to HostConfig.ExtraHosts, and only when given', () => {
  assert.deepEqual(hc(makeTask({ extraHosts: ['sandbox.localdomain:127.0.0.1'] })).ExtraHosts, ['sandbox.localdomain:127.0.0.1']);
  assert.equal(Object.hasOwn(hc(makeTask()), 'ExtraHosts'), false);
  assert.equal(Object.hasOwn(hc(makeTask({ extraHosts: [] })), 'ExtraHosts'), false);
});

const logCases: { name: string; syslog: ContainerTask['syslog']; want: unknown }[] = [
  { name: 'no syslog URL: no log driver (output is attached)', syslog: undefined, want: { Type: 'none', Config: {} } },
  {
    name: 'a syslog URL: the syslog driver as Fn sets it, tags in order',
    syslog: { url: 'tcp+tls://logs.example:6514', tags: [['app_id', 'A1'], ['fn_id', 'F1']] },
    want: { Type: 'syslog', Config: { 'syslog-address': 'tcp+tls://logs.example:6514', 'syslog-facility': 'user', 'syslog-format': 'rfc5424', mode: 'non-blocking', 'max-buffer-size': '4m', tag: 'app_id=A1,fn_id=F1' } },
  },
  {
    name: 'a syslog URL without tags: the engine\'s default tag',
    syslog: { url: 'udp://127.0.0.1:514', tags: [] },
    want: { Type: 'syslog', Config: { 'syslog-address': 'udp://127.0.0.1:514', 'syslog-facility': 'user', 'syslog-format': 'rfc5424', mode: 'non-blocking', 'max-buffer-size': '4m' } },
  },
];
for (const c of logCases) {
  test(`log config: ${c.name}`, () => {
    const task = makeTask(c.syslog ? { syslog: c.syslog } : {});
    assert.deepEqual(logConfig(task), c.want);
    assert.deepEqual(hc(task).LogConfig, c.want);
  });
}

test('a full sample task gives exactly these options', () => {
  const opts = createOptions(makeTask({ network: 'kiln-fns', command: ['run'], readOnlyBinds: { '/a': '/b' } }), limits);
  assert.deepEqual(opts, {
    name: 'kiln-app1-fn1-01J00000000000000000000000',
    Image: 'example/hello:0.0.1',
    Env: ['FN_FORMAT=http-stream', 'FN_LISTENER=unix:/tmp/iofs/lsnr.sock', 'GREETING=a=b c'],
    Labels: { 'kiln.app': 'app1', 'kiln.fn': 'fn1', 'kiln.node': 'node-a' },
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: false,
    OpenStdin: false,
    Tty: false,
    NetworkDisabled: false,
    User: '1000:1000',
    Cmd: ['run'],
    HostConfig: {
      Memory: 128 * MiB,
      MemorySwap: 128 * MiB,
      PidsLimit: 77,
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
        { Name: 'memlock', Soft: 65536, Hard: 65536 },
        { Name: 'sigpending', Soft: 4000, Hard: 4000 },
        { Name: 'msgqueue', Soft: 819200, Hard: 819200 },
      ],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=32m,mode=1777' },
      Binds: ['/var/lib/kiln/iofs/cAbC123:/tmp/iofs', '/a:/b:ro'],
      Init: true,
      NetworkMode: 'kiln-fns',
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      CpuPeriod: 100_000,
      CpuQuota: 50_000,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    },
  });
});

test('does not modify the task', () => {
  const task = makeTask({ readOnlyBinds: { '/a': '/b' }, command: ['x'] });
  const { logger: _l, writeStat: _w, ...data } = task;
  const copy = structuredClone(data);
  createOptions(task, limits);
  const { logger: _l2, writeStat: _w2, ...after } = task;
  assert.deepEqual(after, copy);
});

// An image's VOLUME paths get a tmpfs like /tmp's, never an anonymous volume on the host's disk.
const tmp = 'rw,nosuid,nodev,size=32m,mode=1777';
const vol = `${tmp},uid=1000,gid=1000`;
const volumeCases: { name: string; volumes: string[]; readOnlyBinds?: Record<string, string>; want: Record<string, string> }[] = [
  { name: 'no volumes: /tmp only', volumes: [], want: { '/tmp': tmp } },
  { name: 'a volume gets a tmpfs like /tmp\'s', volumes: ['/data'], want: { '/tmp': tmp, '/data': vol } },
  { name: 'several volumes, each its own', volumes: ['/data', '/var/cache'], want: { '/tmp': tmp, '/data': vol, '/var/cache': vol } },
  { name: 'a volume at /tmp is covered already', volumes: ['/tmp'], want: { '/tmp': tmp } },
  { name: 'a volume at the socket directory is the bind already', volumes: ['/tmp/iofs'], want: { '/tmp': tmp } },
  { name: 'a volume under /tmp is its own mount, so covered too', volumes: ['/tmp/cache'], want: { '/tmp': tmp, '/tmp/cache': vol } },
  { name: 'a volume at a read-only bind is the bind', volumes: ['/opt/runtime'], readOnlyBinds: { '/host/rt': '/opt/runtime' }, want: { '/tmp': tmp } },
  { name: 'paths are cleaned as the engine cleans them', volumes: ['/data/', '//srv/./x/../y', 'rel'], want: { '/tmp': tmp, '/data': vol, '/srv/y': vol, '/rel': vol } },
  { name: 'one path given twice, one tmpfs', volumes: ['/data', '/data/'], want: { '/tmp': tmp, '/data': vol } },
];
for (const c of volumeCases) {
  test(`image volumes: ${c.name}`, () => {
    const task = makeTask(c.readOnlyBinds ? { readOnlyBinds: c.readOnlyBinds } : {});
    const before = createOptions(task, limits);
    const copy = structuredClone(before);
    const after = coverImageVolumes(before, c.volumes);
    assert.deepEqual(after.HostConfig?.Tmpfs, c.want);
    assert.deepEqual(after.HostConfig?.Binds, before.HostConfig?.Binds);
    assert.deepEqual(before, copy, 'the options given are not changed');
  });
}

test('image volumes follow the fn\'s tmpfs size and the inode limit', () => {
  const opts = createOptions(makeTask({ tmpfsMb: 8 }), { ...limits, tmpfsInodes: 100 });
  assert.deepEqual(coverImageVolumes(opts, ['/data']).HostConfig?.Tmpfs, {
    '/tmp': 'rw,nosuid,nodev,size=8m,nr_inodes=100,mode=1777',
    '/data': 'rw,nosuid,nodev,size=8m,nr_inodes=100,mode=1777,uid=1000,gid=1000',
  });
});

test('privileged (no User set): the image\'s volumes stay Docker\'s, whose owner its user (unknown here) keeps', () => {
  const opts = createOptions(makeTask(), { ...limits, unprivileged: false });
  assert.deepEqual(coverImageVolumes(opts, ['/data']).HostConfig?.Tmpfs, { '/tmp': tmp });
});
