import assert from 'node:assert/strict';
import { test } from 'node:test';
import { homedir, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, ConfigError, loadConfig } from '../../api/config.js';

const MiB = 1024 * 1024;

const DEFAULTS: Config = {
  unreadFnSettings: [],
  unknownKilnSettings: [],
  port: 8080,
  host: '0.0.0.0',
  dbUrl: 'sqlite3://./data/fn.db',
  logLevel: 'info',
  maxRequestSize: 6291456,
  publicUrl: undefined,
  lookupCacheMs: 1000,
  lookupStaleMs: 300_000,
  keepAliveTimeoutMs: 620_000,
  bodyIdleTimeoutMs: 30_000,
  dbTimeoutMs: 30_000,
  callRetentionMs: 168 * 3_600_000,
  ui: true,
  authTokens: [],
  authInvoke: true,
  metricsTokens: [],
  allowedHosts: [],
  trustProxy: false,
  agent: {
    nodeId: hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'kiln',
    iofsPath: join(tmpdir(), 'kiln-iofs'),
    iofsPathGiven: false,
    iofsTmpfs: undefined,
    freezeIdleMs: 50,
    startTimeoutMs: 5000,
    pullTimeoutMs: 600_000,
    pull: true,
    maxResponseBytes: 6 * MiB + 100,
    maxStreamedResponseBytes: 200 * MiB,
    maxLogBytes: MiB,
    maxTotalMemoryBytes: 0,
    maxTotalCpuMilli: 0,
    nonBlocking: false,
    maxPids: 50,
    maxOpenFiles: 350,
    maxLockedMemory: 65536,
    maxPendingSignals: 5000,
    maxMessageQueue: 819200,
    maxTmpfsInodes: 0,
    networks: [],
    allowedNetworks: ['bridge'],
    syslogSockets: [],
    dockerAuth: undefined,
    dockerConfigFile: join(homedir(), '.docker', 'config.json'),
    readOnlyRoot: true,
    unprivileged: true,
    fnUser: '1000:1000',
    maxQueueMs: 10_000,
    shutdownGraceMs: 10_000,
    orphanSweepMs: 60_000,
    logFrames: false,
    lambdaCpus: 'auto',
    lambdaCpusShared: true,
  },
};

test('loadConfig({}) gives the defaults', () => {
  assert.deepEqual(loadConfig({}), DEFAULTS);
  assert.equal(DEFAULTS.maxRequestSize, 6 * 1024 * 1024);
});

const tokenCases: { name: string; env: NodeJS.ProcessEnv; want: string[] }[] = [
  { name: 'one token', env: { KILN_AUTH_TOKENS: 'abcdefghijklmnop' }, want: ['abcdefghijklmnop'] },
  { name: 'two, spaces and empties dropped', env: { KILN_AUTH_TOKENS: ' abcdefghijklmnop , ,Zm9vYmFyYmF6cXV4cXV1eA== ' }, want: ['abcdefghijklmnop', 'Zm9vYmFyYmF6cXV4cXV1eA=='] },
  { name: 'b64token punctuation', env: { KILN_AUTH_TOKENS: 'a-b.c_d~e+f/g0123456' }, want: ['a-b.c_d~e+f/g0123456'] },
  { name: 'empty is none', env: { KILN_AUTH_TOKENS: '' }, want: [] },
];
for (const c of tokenCases) {
  test(`loadConfig KILN_AUTH_TOKENS: ${c.name}`, () => assert.deepEqual(loadConfig(c.env).authTokens, c.want));
}
test('KILN_METRICS_TOKENS: comma-separated, as KILN_AUTH_TOKENS', () => {
  assert.deepEqual(loadConfig({ KILN_METRICS_TOKENS: ' scrape-token-0001 ,scrape-token-0002' }).metricsTokens, ['scrape-token-0001', 'scrape-token-0002']);
});
test('KILN_AUTH_INVOKE false leaves invokes without a token', () => assert.equal(loadConfig({ KILN_AUTH_INVOKE: 'false' }).authInvoke, false));
const allowedHostCases: { name: string; value: string; want: string[] }[] = [
  { name: 'names, a domain and spaces', value: ' kiln.lan , .Example.COM,kiln_1 ', want: ['kiln.lan', '.example.com', 'kiln_1'] },
  { name: 'a trailing dot is dropped', value: 'kiln.lan.', want: ['kiln.lan'] },
  { name: 'an international name in its ASCII form', value: 'bücher.example', want: ['xn--bcher-kva.example'] },
  { name: 'any Host', value: '*', want: ['*'] },
  { name: 'empty is none', value: '', want: [] },
];
for (const c of allowedHostCases) {
  test(`loadConfig KILN_ALLOWED_HOSTS: ${c.name}`, () => assert.deepEqual(loadConfig({ KILN_ALLOWED_HOSTS: c.value }).allowedHosts, c.want));
}
for (const value of [',', 'kiln.lan:8080', 'http://kiln.lan', 'a..b', '.', '-kiln', 'kiln lan', '*.example.com', '[::1]']) {
  test(`loadConfig KILN_ALLOWED_HOSTS refuses ${JSON.stringify(value)}, naming the setting`, () => {
    assert.throws(() => loadConfig({ KILN_ALLOWED_HOSTS: value }), (err: unknown) => err instanceof ConfigError && /KILN_ALLOWED_HOSTS: /.test(err.message));
  });
}
// Refused at start-up, naming the setting: too short to be safe, or not sendable after `Bearer `.
for (const value of [',', ' , ,', 'short', 'abcdefghijklmno', 'abcdefgh ijklmnopq', 'abcdefghijklmnop"', '=abcdefghijklmnop', 'abcdefghijklmnop,x']) {
  test(`loadConfig KILN_AUTH_TOKENS refuses ${JSON.stringify(value)}`, () => {
    assert.throws(() => loadConfig({ KILN_AUTH_TOKENS: value }), (err: unknown) => err instanceof ConfigError && err.message.includes('KILN_AUTH_TOKENS'));
  });
}

test('KILN_DB_TIMEOUT_MSECS bounds waits on the database; 0 and junk stop start-up', () => {
  assert.equal(loadConfig({ KILN_DB_TIMEOUT_MSECS: '500' }).dbTimeoutMs, 500);
  for (const value of ['0', '-1', '5s']) {
    assert.throws(() => loadConfig({ KILN_DB_TIMEOUT_MSECS: value }), (err: unknown) => err instanceof ConfigError && err.message.includes('KILN_DB_TIMEOUT_MSECS'));
  }
});

test('KILN_BODY_IDLE_TIMEOUT_MSECS: 30 s unless set; 0 is no bound; junk stops start-up', () => {
  assert.equal(loadConfig({}).bodyIdleTimeoutMs, 30_000);
  assert.equal(loadConfig({ KILN_BODY_IDLE_TIMEOUT_MSECS: '0' }).bodyIdleTimeoutMs, 0);
  assert.equal(loadConfig({ KILN_BODY_IDLE_TIMEOUT_MSECS: '1500' }).bodyIdleTimeoutMs, 1500);
  for (const value of ['-1', '30s', '1.5']) {
    assert.throws(() => loadConfig({ KILN_BODY_IDLE_TIMEOUT_MSECS: value }), (err: unknown) => err instanceof ConfigError && err.message.includes('KILN_BODY_IDLE_TIMEOUT_MSECS'));
  }
});

test('KILN_KEEPALIVE_TIMEOUT_MSECS: 620 s unless set; 0 never closes an idle connection; junk stops start-up', () => {
  assert.equal(loadConfig({}).keepAliveTimeoutMs, 620_000);
  assert.equal(loadConfig({ KILN_KEEPALIVE_TIMEOUT_MSECS: '0' }).keepAliveTimeoutMs, 0);
  assert.equal(loadConfig({ KILN_KEEPALIVE_TIMEOUT_MSECS: '1500' }).keepAliveTimeoutMs, 1500);
  for (const value of ['-1', '65s', '1.5']) {
    assert.throws(() => loadConfig({ KILN_KEEPALIVE_TIMEOUT_MSECS: value }), (err: unknown) => err instanceof ConfigError && err.message.includes('KILN_KEEPALIVE_TIMEOUT_MSECS'));
  }
});

const retentionCases: { value: string; want: number }[] = [
  { value: '24', want: 24 * 3_600_000 },
  { value: ' 0.5 ', want: 1_800_000 },
  { value: '0', want: 0 },
  { value: '0.001', want: 3600 },
  { value: '', want: 168 * 3_600_000 },
];
for (const c of retentionCases) {
  test(`KILN_CALL_RETENTION_HOURS ${JSON.stringify(c.value)}`, () => assert.equal(loadConfig({ KILN_CALL_RETENTION_HOURS: c.value }).callRetentionMs, c.want));
}
for (const value of ['-1', '7d', '1e3', '.5', 'forever', 'NaN']) {
  test(`KILN_CALL_RETENTION_HOURS refuses ${JSON.stringify(value)}, naming the setting`, () => {
    assert.throws(() => loadConfig({ KILN_CALL_RETENTION_HOURS: value }), (err: unknown) => err instanceof ConfigError && err.message.includes('KILN_CALL_RETENTION_HOURS'));
  });
}

test('KILN_SYSLOG_SOCKETS: plain absolute paths, commas between', () => {
  assert.deepEqual(loadConfig({}).agent.syslogSockets, []);
  assert.deepEqual(loadConfig({ KILN_SYSLOG_SOCKETS: ' /dev/log, /run/rsyslog/in.sock ,' }).agent.syslogSockets, ['/dev/log', '/run/rsyslog/in.sock']);
  for (const value of ['dev/log', '/dev/../var/run/docker.sock', '/dev//log', '/dev/./log', '/dev/log/', '/dev/l%6Fg', '/dev/log sock']) {
    assert.throws(() => loadConfig({ KILN_SYSLOG_SOCKETS: value }), (err: unknown) => err instanceof ConfigError && err.message.includes('KILN_SYSLOG_SOCKETS'), value);
  }
});

const agentCases: { name: string; env: NodeJS.ProcessEnv; want: Partial<Config['agent']> }[] = [
  { name: 'FN_FREEZE_IDLE_MSECS -1 disables freezing', env: { FN_FREEZE_IDLE_MSECS: '-1' }, want: { freezeIdleMs: -1 } },
  // Fn's field separator is whitespace; commas too here. Its networks are always allowed to be asked for.
  { name: 'FN_DOCKER_NETWORKS, every one listed', env: { FN_DOCKER_NETWORKS: 'fns, other  fns' }, want: { networks: ['fns', 'other'], allowedNetworks: ['bridge', 'fns', 'other'] } },
  { name: 'KILN_ALLOWED_NETWORKS', env: { KILN_ALLOWED_NETWORKS: 'a,b c' }, want: { allowedNetworks: ['a', 'b', 'c'] } },
  { name: 'KILN_ALLOWED_NETWORKS empty: no fn may ask', env: { KILN_ALLOWED_NETWORKS: '' }, want: { allowedNetworks: [] } },
  { name: 'KILN_ALLOWED_NETWORKS blank: no fn may ask', env: { KILN_ALLOWED_NETWORKS: ' ' }, want: { allowedNetworks: [] } },
  { name: 'KILN_ALLOWED_NETWORKS empty keeps FN_DOCKER_NETWORKS', env: { KILN_ALLOWED_NETWORKS: '', FN_DOCKER_NETWORKS: 'fns' }, want: { networks: ['fns'], allowedNetworks: ['fns'] } },
  { name: 'KILN_ALLOWED_NETWORKS never lets host, none or container: through', env: { KILN_ALLOWED_NETWORKS: 'host none container:x bridge' }, want: { allowedNetworks: ['bridge'] } },
  { name: 'FN_DISABLE_READONLY_ROOTFS', env: { FN_DISABLE_READONLY_ROOTFS: 'true' }, want: { readOnlyRoot: false } },
  { name: 'FN_DISABLE_UNPRIVILEGED_CONTAINERS', env: { FN_DISABLE_UNPRIVILEGED_CONTAINERS: '1' }, want: { unprivileged: false } },
  // Go's strconv.ParseBool spellings, which an Fn server's environment may use.
  ...['TRUE', 'True', 't', 'T', ' true '].map((v) => ({ name: `FN_DISABLE_READONLY_ROOTFS ${JSON.stringify(v)}`, env: { FN_DISABLE_READONLY_ROOTFS: v }, want: { readOnlyRoot: false } })),
  ...['FALSE', 'False', 'f', 'F', '0', 'no'].map((v) => ({ name: `FN_DISABLE_READONLY_ROOTFS ${JSON.stringify(v)}`, env: { FN_DISABLE_READONLY_ROOTFS: v }, want: { readOnlyRoot: true } })),
  { name: 'KILN_NODE_ID', env: { KILN_NODE_ID: 'node-7' }, want: { nodeId: 'node-7' } },
  // Where the Docker CLI keeps its config: DOCKER_CONFIG's directory, else HOME's .docker.
  { name: 'DOCKER_CONFIG', env: { DOCKER_CONFIG: '/etc/kiln/docker', HOME: '/home/k' }, want: { dockerConfigFile: '/etc/kiln/docker/config.json' } },
  { name: 'HOME', env: { HOME: '/home/k' }, want: { dockerConfigFile: '/home/k/.docker/config.json' } },
  { name: 'DOCKER_CONFIG empty is unset', env: { DOCKER_CONFIG: '', HOME: '/home/k' }, want: { dockerConfigFile: '/home/k/.docker/config.json' } },
  // FN_DOCKER_AUTH in Fn's two forms (go-dockerclient's): config.json's and .dockercfg's.
  { name: 'FN_DOCKER_AUTH with auths', env: { FN_DOCKER_AUTH: '{"auths":{"https://my.registry.com":{"auth":"dXNlcjpwYXNz"}}}' }, want: { dockerAuth: { 'https://my.registry.com': { auth: 'dXNlcjpwYXNz' } } } },
  { name: 'FN_DOCKER_AUTH bare, as .dockercfg', env: { FN_DOCKER_AUTH: '{"r.example:5000":{"auth":"dXNlcjpwYXNz","email":"a@b"}}' }, want: { dockerAuth: { 'r.example:5000': { auth: 'dXNlcjpwYXNz' } } } },
  { name: 'FN_DOCKER_AUTH {}', env: { FN_DOCKER_AUTH: '{}' }, want: { dockerAuth: {} } },
  { name: 'KILN_FN_USER', env: { KILN_FN_USER: '100000:100000' }, want: { fnUser: '100000:100000' } },
  { name: 'KILN_FN_USER uid and gid apart, spaces round', env: { KILN_FN_USER: ' 2000:3000 ' }, want: { fnUser: '2000:3000' } },
  { name: 'KILN_FN_USER leading zeros go', env: { KILN_FN_USER: '0100:007' }, want: { fnUser: '100:7' } },
  { name: 'KILN_FN_USER the largest ids', env: { KILN_FN_USER: '4294967294:4294967294' }, want: { fnUser: '4294967294:4294967294' } },
  { name: 'empty KILN_FN_USER is the default', env: { KILN_FN_USER: '' }, want: {} },
  { name: 'FN_ENABLE_NB_RESOURCE_TRACKER true', env: { FN_ENABLE_NB_RESOURCE_TRACKER: 'true' }, want: { nonBlocking: true } },
  { name: 'FN_IOFS_TMPFS true: a bounded tmpfs', env: { FN_IOFS_TMPFS: 'true' }, want: { iofsTmpfs: 'size=1m,nr_inodes=64' } },
  { name: 'FN_IOFS_TMPFS with FN_IOFS_OPTS', env: { FN_IOFS_TMPFS: 'true', FN_IOFS_OPTS: 'size=64k' }, want: { iofsTmpfs: 'size=64k' } },
  { name: 'FN_IOFS_OPTS alone does nothing', env: { FN_IOFS_OPTS: 'size=64k' }, want: {} },
  { name: 'FN_ENABLE_NB_RESOURCE_TRACKER 1', env: { FN_ENABLE_NB_RESOURCE_TRACKER: '1' }, want: { nonBlocking: true } },
  { name: 'FN_ENABLE_NB_RESOURCE_TRACKER false', env: { FN_ENABLE_NB_RESOURCE_TRACKER: 'false' }, want: { nonBlocking: false } },
  { name: 'empty FN_ENABLE_NB_RESOURCE_TRACKER is off', env: { FN_ENABLE_NB_RESOURCE_TRACKER: '' }, want: { nonBlocking: false } },
  // Container ulimits and /tmp's inodes, in Fn's units (bytes, signals, inodes); 0 leaves the engine's default.
  { name: 'FN_MAX_LOCKED_MEMORY', env: { FN_MAX_LOCKED_MEMORY: '131072' }, want: { maxLockedMemory: 131072 } },
  { name: 'FN_MAX_LOCKED_MEMORY 0', env: { FN_MAX_LOCKED_MEMORY: '0' }, want: { maxLockedMemory: 0 } },
  { name: 'FN_MAX_PIDS and FN_MAX_OPEN_FILES 0 (no limit, as Fn)', env: { FN_MAX_PIDS: '0', FN_MAX_OPEN_FILES: '0' }, want: { maxPids: 0, maxOpenFiles: 0 } },
  { name: 'FN_MAX_PENDING_SIGNALS', env: { FN_MAX_PENDING_SIGNALS: ' 100 ' }, want: { maxPendingSignals: 100 } },
  { name: 'FN_MAX_PENDING_SIGNALS 0', env: { FN_MAX_PENDING_SIGNALS: '0' }, want: { maxPendingSignals: 0 } },
  { name: 'FN_MAX_MESSAGE_QUEUE', env: { FN_MAX_MESSAGE_QUEUE: '4096' }, want: { maxMessageQueue: 4096 } },
  { name: 'FN_MAX_MESSAGE_QUEUE 0', env: { FN_MAX_MESSAGE_QUEUE: '0' }, want: { maxMessageQueue: 0 } },
  { name: 'empty FN_MAX_MESSAGE_QUEUE is the default', env: { FN_MAX_MESSAGE_QUEUE: '' }, want: {} },
  { name: 'FN_MAX_TMPFS_INODES', env: { FN_MAX_TMPFS_INODES: '1000' }, want: { maxTmpfsInodes: 1000 } },
  { name: 'FN_MAX_TMPFS_INODES 2, the least that starts', env: { FN_MAX_TMPFS_INODES: '2' }, want: { maxTmpfsInodes: 2 } },
  { name: 'FN_MAX_TMPFS_INODES 0', env: { FN_MAX_TMPFS_INODES: '0' }, want: { maxTmpfsInodes: 0 } },
  { name: 'KILN_DOCKER_PULL false', env: { KILN_DOCKER_PULL: 'false' }, want: { pull: false } },
  { name: 'KILN_LOG_FRAMES true', env: { KILN_LOG_FRAMES: 'true' }, want: { logFrames: true } },
  // As every true/false setting: Go's ParseBool spellings and yes/no.
  { name: 'KILN_DOCKER_PULL 0', env: { KILN_DOCKER_PULL: '0' }, want: { pull: false } },
  { name: 'KILN_DOCKER_PULL NO', env: { KILN_DOCKER_PULL: 'NO' }, want: { pull: false } },
  { name: 'KILN_DOCKER_PULL yes', env: { KILN_DOCKER_PULL: 'yes' }, want: { pull: true } },
  { name: 'FN_MAX_RESPONSE_SIZE 0 means no limit', env: { FN_MAX_RESPONSE_SIZE: '0' }, want: { maxResponseBytes: 0 } },
  { name: 'KILN_MAX_STREAMED_RESPONSE_SIZE', env: { KILN_MAX_STREAMED_RESPONSE_SIZE: '1048576' }, want: { maxStreamedResponseBytes: MiB } },
  { name: 'KILN_LAMBDA_CPUS auto', env: { KILN_LAMBDA_CPUS: 'auto' }, want: { lambdaCpus: 'auto' } },
  { name: 'KILN_LAMBDA_CPUS_SHARED false', env: { KILN_LAMBDA_CPUS_SHARED: 'false' }, want: { lambdaCpusShared: false } },
  { name: 'KILN_LAMBDA_CPUS AUTO', env: { KILN_LAMBDA_CPUS: ' AUTO ' }, want: { lambdaCpus: 'auto' } },
  { name: 'empty KILN_LAMBDA_CPUS is auto', env: { KILN_LAMBDA_CPUS: '' }, want: { lambdaCpus: 'auto' } },
  { name: 'KILN_LAMBDA_CPUS off', env: { KILN_LAMBDA_CPUS: 'off' }, want: { lambdaCpus: 'off' } },
  { name: 'KILN_LAMBDA_CPUS a range', env: { KILN_LAMBDA_CPUS: '0-3' }, want: { lambdaCpus: [0, 1, 2, 3] } },
  { name: 'KILN_LAMBDA_CPUS a list', env: { KILN_LAMBDA_CPUS: ' 6,0-1 ' }, want: { lambdaCpus: [0, 1, 6] } },
  { name: 'KILN_LAMBDA_CPUS one CPU', env: { KILN_LAMBDA_CPUS: '2' }, want: { lambdaCpus: [2] } },
  { name: 'auto with a unix DOCKER_HOST', env: { DOCKER_HOST: 'unix:///run/docker.sock' }, want: { lambdaCpus: 'auto' } },
  { name: 'auto with a tcp DOCKER_HOST is off', env: { DOCKER_HOST: 'tcp://10.0.0.5:2376' }, want: { lambdaCpus: 'off' } },
  { name: 'auto with an ssh DOCKER_HOST is off', env: { DOCKER_HOST: 'ssh://me@host', KILN_LAMBDA_CPUS: 'auto' }, want: { lambdaCpus: 'off' } },
  { name: 'an explicit list with a remote DOCKER_HOST is kept', env: { DOCKER_HOST: 'tcp://h:2375', KILN_LAMBDA_CPUS: '0-1' }, want: { lambdaCpus: [0, 1] } },
];
for (const c of agentCases) {
  test(`loadConfig agent: ${c.name}`, () => assert.deepEqual(loadConfig(c.env).agent, { ...DEFAULTS.agent, ...c.want }));
}

for (const value of ['ftp://fn.example.com', 'file:///tmp/x', 'javascript:alert(1)']) {
  test(`loadConfig refuses FN_PUBLIC_LB_URL ${value}: not a URL callers can call`, () => {
    assert.throws(() => loadConfig({ FN_PUBLIC_LB_URL: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /FN_PUBLIC_LB_URL: must be an http:\/\/ or https:\/\/ URL/);
      return true;
    });
  });
}

const agentRejected: { name: string; env: NodeJS.ProcessEnv }[] = [
  { name: 'FN_FREEZE_IDLE_MSECS -2', env: { FN_FREEZE_IDLE_MSECS: '-2' } },
  { name: 'FN_HOT_START_TIMEOUT_MSECS 0', env: { FN_HOT_START_TIMEOUT_MSECS: '0' } },
  { name: 'FN_DISABLE_READONLY_ROOTFS maybe', env: { FN_DISABLE_READONLY_ROOTFS: 'maybe' } },
  { name: 'FN_DISABLE_READONLY_ROOTFS on', env: { FN_DISABLE_READONLY_ROOTFS: 'on' } },
  { name: 'FN_DISABLE_UNPRIVILEGED_CONTAINERS 2', env: { FN_DISABLE_UNPRIVILEGED_CONTAINERS: '2' } },
  { name: 'KILN_NODE_ID with a slash', env: { KILN_NODE_ID: 'a/b' } },
  { name: 'FN_IOFS_OPTS with a space', env: { FN_IOFS_TMPFS: 'true', FN_IOFS_OPTS: 'size=1m nr_inodes=2' } },
];
// KILN_FN_USER: uid:gid numbers, neither root's, named in the message.
for (const value of ['1000', 'fn:fn', 'fn', '1000:', ':1000', '1000:1000:1000', '0:0', '0:1000', '1000:0', '-1:1000', '1.5:2', '4294967295:1', '1e3:1000', '1000 : 1000']) {
  test(`loadConfig rejects KILN_FN_USER ${JSON.stringify(value)}, saying what it wants`, () => {
    assert.throws(() => loadConfig({ KILN_FN_USER: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.includes(`KILN_FN_USER: must be uid:gid, two whole numbers from 1 to 4294967294 (e.g. 100000:100000), got "${value}"`), err.message);
      return true;
    });
  });
}

// FN_DOCKER_AUTH that cannot be used stops start-up (as in Fn), naming the setting and never the secret.
for (const [name, value] of [
  ['not JSON', '{"auths": {"r": {"auth": "c2VjcmV0OnM="}'],
  ['an auth that is not base64', '{"auths":{"r.example":{"auth":"secret!!"}}}'],
  ['an auth without a colon', '{"auths":{"r.example":{"auth":"c2VjcmV0"}}}'],
  ['an entry that is not an object', '{"r.example":"secret"}'],
  ['a list', '["secret"]'],
]) {
  test(`loadConfig rejects FN_DOCKER_AUTH: ${name}`, () => {
    assert.throws(() => loadConfig({ FN_DOCKER_AUTH: value! }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^invalid settings: FN_DOCKER_AUTH: /);
      assert.ok(!/secret|c2VjcmV0/.test(err.message), err.message);
      return true;
    });
  });
}

for (const c of agentRejected) {
  test(`loadConfig agent rejects ${c.name}`, () => assert.throws(() => loadConfig(c.env), ConfigError));
}

// Node's timers take at most 2^31 - 1 ms and fire after 1 ms past it: every millisecond setting stops there.
const MS_SETTINGS = ['FN_FREEZE_IDLE_MSECS', 'FN_HOT_START_TIMEOUT_MSECS', 'FN_HOT_PULL_TIMEOUT_MSECS', 'KILN_MAX_QUEUE_MSECS',
  'KILN_SHUTDOWN_GRACE_MSECS', 'KILN_LOOKUP_CACHE_MSECS', 'KILN_LOOKUP_STALE_MSECS', 'KILN_DB_TIMEOUT_MSECS', 'KILN_KEEPALIVE_TIMEOUT_MSECS',
  'KILN_BODY_IDLE_TIMEOUT_MSECS'];
for (const name of MS_SETTINGS) {
  test(`${name} takes at most 2147483647 ms, and past it stops start-up naming it`, () => {
    loadConfig({ [name]: '2147483647' });
    assert.throws(() => loadConfig({ [name]: '2147483648' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, new RegExp(`${name}: must be a whole number from -?\\d+ to 2147483647, got "2147483648"`));
      return true;
    });
  });
}

// FN_DOCKER_NETWORKS goes to every fn that asks for none: a mode leaving the fn's own network
// namespace would give every tenant the host's (or a container's) network stack.
for (const [value, re] of [
  ['host', /"host" is never allowed: it would give the fn the host's own network stack/],
  ['fns, HOST', /"HOST" is never allowed/],
  ['container:abc', /"container:abc" is never allowed: it would give the fn another container's network stack/],
  ['none', /"none" is not a network to ask for/],
] as const) {
  test(`loadConfig rejects FN_DOCKER_NETWORKS ${JSON.stringify(value)}`, () => {
    assert.throws(() => loadConfig({ FN_DOCKER_NETWORKS: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^invalid settings: FN_DOCKER_NETWORKS: /);
      assert.match(err.message, re);
      assert.match(err.message, /unset FN_DOCKER_NETWORKS for no network/);
      return true;
    });
  });
}

// A bad CPU list stops the server at start-up with a message that names the setting and the value.
for (const value of ['yes', '0-', '3-1', '1,,2', 'cpu1', '0-99999']) {
  test(`loadConfig rejects KILN_LAMBDA_CPUS ${JSON.stringify(value)}, saying what it wants`, () => {
    assert.throws(() => loadConfig({ KILN_LAMBDA_CPUS: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^invalid settings: KILN_LAMBDA_CPUS: must be auto, off or a CPU list such as 0-3,6: /);
      assert.ok(err.message.includes(`"${value}"`), err.message);
      return true;
    });
  });
}

// FN_NODE_TYPE: Kiln is a full node; any other role (or a value Fn would quietly run as full) stops start-up.
for (const value of ['full', 'FULL', ' full ', '']) {
  test(`loadConfig accepts FN_NODE_TYPE ${JSON.stringify(value)}`, () => assert.deepEqual(loadConfig({ FN_NODE_TYPE: value }), DEFAULTS));
}
const nodeTypeRefused: { value: string; says: RegExp }[] = [
  { value: 'api', says: /Kiln does not implement Fn's "api" role/ },
  { value: 'lb', says: /Kiln does not implement Fn's "lb" role/ },
  { value: 'pure-runner', says: /Kiln does not implement Fn's "pure-runner" role/ },
  { value: 'runner', says: /Kiln does not implement Fn's "runner" role/ },
  { value: 'LB', says: /Kiln does not implement Fn's "lb" role/ },
  { value: 'fulll', says: /Fn's roles are full, api, lb and pure-runner, and Kiln implements only full/ },
];
for (const c of nodeTypeRefused) {
  test(`loadConfig refuses FN_NODE_TYPE ${JSON.stringify(c.value)}, saying Kiln runs only as a full node`, () => {
    assert.throws(() => loadConfig({ FN_NODE_TYPE: c.value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, new RegExp(`^invalid settings: FN_NODE_TYPE: must be full \\(or unset\\), got "${c.value}": `));
      assert.match(err.message, c.says);
      assert.match(err.message, /Kiln runs only as a full node/);
      return true;
    });
  });
}

// FN_* variables Kiln does not read are listed (sorted) for the start-up warning; what it reads,
// other prefixes and empty values are not.
const unreadCases: { name: string; env: NodeJS.ProcessEnv; want: string[] }[] = [
  { name: 'none set', env: {}, want: [] },
  { name: 'only settings Kiln reads', env: { FN_PORT: '8080', FN_MAX_PIDS: '60', FN_NODE_TYPE: 'full', FN_ENABLE_NB_RESOURCE_TRACKER: 'true' }, want: [] },
  {
    name: 'Fn settings Kiln has no use for',
    env: { FN_LOG_FORMAT: 'json', FN_HOT_POLL_MSECS: '100', FN_DOCKER_AUTH: '{}', FN_IOFS_DOCKER_PATH: '/iofs', FN_PORT: '9000' },
    want: ['FN_HOT_POLL_MSECS', 'FN_IOFS_DOCKER_PATH', 'FN_LOG_FORMAT'],
  },
  { name: 'an empty one counts as unset', env: { FN_LOG_FORMAT: '', FN_MQ_URL: 'bolt:///x' }, want: ['FN_MQ_URL'] },
  { name: 'other prefixes are not Fn settings', env: { PATH: '/bin', KILN_FOO: '1', fn_port: '1', MY_FN_X: '1' }, want: [] },
];
for (const c of unreadCases) {
  test(`loadConfig lists unread FN_* settings: ${c.name}`, () => assert.deepEqual(loadConfig(c.env).unreadFnSettings, c.want));
}

const unknownKilnCases: { name: string; env: NodeJS.ProcessEnv; want: Config['unknownKilnSettings'] }[] = [
  { name: 'none', env: { KILN_NODE_ID: 'a', KILN_AUTH_TOKENS: 'x'.repeat(20) }, want: [] },
  {
    name: 'misspellings, each with the setting it may mean',
    env: { KILN_NODEID: 'a', KILN_AUTH_TOKEN: 'x'.repeat(20), KILN_LOOKUP_CACHE_MSEC: '5' },
    want: [{ name: 'KILN_AUTH_TOKEN', meant: 'KILN_AUTH_TOKENS' }, { name: 'KILN_LOOKUP_CACHE_MSEC', meant: 'KILN_LOOKUP_CACHE_MSECS' }, { name: 'KILN_NODEID', meant: 'KILN_NODE_ID' }],
  },
  { name: 'one like no setting', env: { KILN_WHATEVER: '1' }, want: [{ name: 'KILN_WHATEVER' }] },
  { name: 'a Lambda daemon variable is a fn\'s config, not the server\'s', env: { KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'DEBUG' }, want: [{ name: 'KILN_LAMBDA_SYSTEM_LOG_LEVEL' }] },
  {
    name: 'the CLI\'s, compose\'s, the scripts\' and the tests\' own are not reported',
    env: { KILN_CONFIG_DIR: '/x', KILN_SHARED_DIR: '/y', KILN_1_PORT: '1', KILN_DB_PASSWORD: 'p', KILN_UP_ONCE: '1', KILN_TEST_PG_URL: 'x', KILN_BENCH_N: '3', KILN_DOCKERD_LOG: 'l' },
    want: [],
  },
  { name: 'an empty one counts as unset', env: { KILN_NODEID: ' ' }, want: [] },
];
for (const c of unknownKilnCases) {
  test(`loadConfig lists KILN_* variables that are no setting: ${c.name}`, () => assert.deepEqual(loadConfig(c.env).unknownKilnSettings, c.want));
}

const accepted: { name: string; env: NodeJS.ProcessEnv; want: Partial<Config> }[] = [
  { name: 'unrelated variables are ignored', env: { PATH: '/usr/bin', PORT: '1234', HOME: '/root' }, want: {} },
  { name: 'FN_PORT', env: { FN_PORT: '9000' }, want: { port: 9000 } },
  { name: 'FN_PORT 0', env: { FN_PORT: '0' }, want: { port: 0 } },
  { name: 'FN_PORT 65535', env: { FN_PORT: '65535' }, want: { port: 65535 } },
  { name: 'empty FN_PORT is the default', env: { FN_PORT: '' }, want: {} },
  { name: 'blank FN_PORT is the default', env: { FN_PORT: '  ' }, want: {} },
  { name: 'empty FN_PUBLIC_LB_URL means unset', env: { FN_PUBLIC_LB_URL: '' }, want: { publicUrl: undefined } },
  { name: 'empty FN_LOG_LEVEL is the default', env: { FN_LOG_LEVEL: '' }, want: { logLevel: 'info' } },
  { name: 'FN_HOST', env: { FN_HOST: '127.0.0.1' }, want: { host: '127.0.0.1' } },
  { name: 'FN_DB_URL', env: { FN_DB_URL: 'postgres://u:p@db/fn' }, want: { dbUrl: 'postgres://u:p@db/fn' } },
  ...(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const).map((level) => ({
    name: `FN_LOG_LEVEL ${level}`,
    env: { FN_LOG_LEVEL: level },
    want: { logLevel: level },
  })),
  // Fn reads it with logrus.ParseLevel: any case, and its words warning and panic.
  { name: 'FN_LOG_LEVEL INFO', env: { FN_LOG_LEVEL: 'INFO' }, want: { logLevel: 'info' } },
  { name: 'FN_LOG_LEVEL Debug', env: { FN_LOG_LEVEL: ' Debug ' }, want: { logLevel: 'debug' } },
  { name: "FN_LOG_LEVEL warning (logrus's)", env: { FN_LOG_LEVEL: 'warning' }, want: { logLevel: 'warn' } },
  { name: "FN_LOG_LEVEL PANIC (logrus's)", env: { FN_LOG_LEVEL: 'PANIC' }, want: { logLevel: 'fatal' } },
  { name: 'KILN_UI false turns the web view off', env: { KILN_UI: 'false' }, want: { ui: false } },
  { name: 'KILN_UI 0 turns the web view off', env: { KILN_UI: '0' }, want: { ui: false } },
  { name: 'KILN_UI true', env: { KILN_UI: 'true' }, want: { ui: true } },
  { name: 'empty KILN_UI is on', env: { KILN_UI: '' }, want: { ui: true } },
  { name: 'KILN_UI F turns the web view off', env: { KILN_UI: 'F' }, want: { ui: false } },
  { name: 'KILN_AUTH_INVOKE FALSE', env: { KILN_AUTH_INVOKE: 'FALSE' }, want: { authInvoke: false } },
  { name: 'FN_MAX_REQUEST_SIZE', env: { FN_MAX_REQUEST_SIZE: '1048576' }, want: { maxRequestSize: 1048576 } },
  { name: 'FN_MAX_REQUEST_SIZE 0 (no limit)', env: { FN_MAX_REQUEST_SIZE: '0' }, want: { maxRequestSize: 0 } },
  { name: 'empty FN_MAX_REQUEST_SIZE is the default', env: { FN_MAX_REQUEST_SIZE: '' }, want: {} },
  {
    name: 'FN_PUBLIC_LB_URL without a trailing slash',
    env: { FN_PUBLIC_LB_URL: 'https://fn.example.com' },
    want: { publicUrl: 'https://fn.example.com' },
  },
  {
    name: 'FN_PUBLIC_LB_URL trailing slash trimmed',
    env: { FN_PUBLIC_LB_URL: 'https://fn.example.com/' },
    want: { publicUrl: 'https://fn.example.com' },
  },
  {
    name: 'FN_PUBLIC_LB_URL several trailing slashes trimmed',
    env: { FN_PUBLIC_LB_URL: 'https://fn.example.com//' },
    want: { publicUrl: 'https://fn.example.com' },
  },
  {
    name: 'FN_PUBLIC_LB_URL with port and path',
    env: { FN_PUBLIC_LB_URL: 'http://lb:8080/fn/' },
    want: { publicUrl: 'http://lb:8080/fn' },
  },
];
for (const c of accepted) {
  test(`loadConfig: ${c.name}`, () => assert.deepEqual(loadConfig(c.env), { ...DEFAULTS, ...c.want }));
}

const rejected: { name: string; env: NodeJS.ProcessEnv; variable: string }[] = [
  { name: 'FN_PORT abc', env: { FN_PORT: 'abc' }, variable: 'FN_PORT' },
  { name: 'FN_PORT -1', env: { FN_PORT: '-1' }, variable: 'FN_PORT' },
  { name: 'FN_PORT 1.5', env: { FN_PORT: '1.5' }, variable: 'FN_PORT' },
  { name: 'FN_PORT 80abc', env: { FN_PORT: '80abc' }, variable: 'FN_PORT' },
  // A TCP port is at most 65535; Node's listen() would throw a RangeError at startup instead.
  { name: 'FN_PORT 65536 (out of the TCP port range)', env: { FN_PORT: '65536' }, variable: 'FN_PORT' },
  { name: 'FN_PORT in hex', env: { FN_PORT: '0x50' }, variable: 'FN_PORT' },
  { name: 'FN_MAX_REQUEST_SIZE in exponent form', env: { FN_MAX_REQUEST_SIZE: '1e3' }, variable: 'FN_MAX_REQUEST_SIZE' },
  { name: 'FN_MAX_REQUEST_SIZE -1', env: { FN_MAX_REQUEST_SIZE: '-1' }, variable: 'FN_MAX_REQUEST_SIZE' },
  { name: 'FN_MAX_REQUEST_SIZE big', env: { FN_MAX_REQUEST_SIZE: 'big' }, variable: 'FN_MAX_REQUEST_SIZE' },
  { name: 'FN_LOG_LEVEL verbose', env: { FN_LOG_LEVEL: 'verbose' }, variable: 'FN_LOG_LEVEL' },
  { name: 'FN_PUBLIC_LB_URL not a URL', env: { FN_PUBLIC_LB_URL: 'not a url' }, variable: 'FN_PUBLIC_LB_URL' },
  { name: 'KILN_UI off', env: { KILN_UI: 'off' }, variable: 'KILN_UI' },
  { name: 'FN_ENABLE_NB_RESOURCE_TRACKER on', env: { FN_ENABLE_NB_RESOURCE_TRACKER: 'on' }, variable: 'FN_ENABLE_NB_RESOURCE_TRACKER' },
  { name: 'FN_MAX_LOCKED_MEMORY -1', env: { FN_MAX_LOCKED_MEMORY: '-1' }, variable: 'FN_MAX_LOCKED_MEMORY' },
  { name: 'FN_MAX_LOCKED_MEMORY 64k', env: { FN_MAX_LOCKED_MEMORY: '64k' }, variable: 'FN_MAX_LOCKED_MEMORY' },
  { name: 'FN_MAX_PENDING_SIGNALS 1.5', env: { FN_MAX_PENDING_SIGNALS: '1.5' }, variable: 'FN_MAX_PENDING_SIGNALS' },
  { name: 'FN_MAX_MESSAGE_QUEUE unlimited', env: { FN_MAX_MESSAGE_QUEUE: 'unlimited' }, variable: 'FN_MAX_MESSAGE_QUEUE' },
  { name: 'FN_MAX_TMPFS_INODES -5', env: { FN_MAX_TMPFS_INODES: '-5' }, variable: 'FN_MAX_TMPFS_INODES' },
  { name: 'FN_MAX_TMPFS_INODES 1 (no container could start)', env: { FN_MAX_TMPFS_INODES: '1' }, variable: 'FN_MAX_TMPFS_INODES' },
  { name: 'FN_MAX_TMPFS_INODES 10m', env: { FN_MAX_TMPFS_INODES: '10m' }, variable: 'FN_MAX_TMPFS_INODES' },
  { name: 'KILN_AUTH_INVOKE nope', env: { KILN_AUTH_INVOKE: 'nope' }, variable: 'KILN_AUTH_INVOKE' },
  { name: 'KILN_METRICS_TOKENS too short', env: { KILN_METRICS_TOKENS: 'short' }, variable: 'KILN_METRICS_TOKENS' },
  { name: 'KILN_METRICS_TOKENS only commas', env: { KILN_METRICS_TOKENS: ',' }, variable: 'KILN_METRICS_TOKENS' },
];
for (const c of rejected) {
  test(`loadConfig rejects: ${c.name}`, () => {
    assert.throws(() => loadConfig(c.env), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.ok(err instanceof Error);
      assert.match(err.message, new RegExp(`^invalid settings: .*${c.variable}: `));
      return true;
    });
  });
}

test('loadConfig reports every bad setting at once', () => {
  assert.throws(() => loadConfig({ FN_PORT: 'abc', FN_LOG_LEVEL: 'loud' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /FN_PORT: /);
    assert.match(err.message, /FN_LOG_LEVEL: /);
    return true;
  });
});

const trustProxyCases: { value: string; want: Config['trustProxy'] }[] = [
  { value: 'false', want: false },
  { value: ' TRUE ', want: true },
  { value: '1', want: 1 },
  { value: '0', want: 0 },
  { value: 'loopback, 10.0.0.0/8', want: ['loopback', '10.0.0.0/8'] },
  { value: '192.168.1.1/255.255.255.0,::1', want: ['192.168.1.1/255.255.255.0', '::1'] },
];
for (const c of trustProxyCases) {
  test(`loadConfig KILN_TRUST_PROXY "${c.value}"`, () => assert.deepEqual(loadConfig({ KILN_TRUST_PROXY: c.value }).trustProxy, c.want));
}
for (const value of ['yes', 'loopback,', '10.0.0.0/33', 'proxy.example', '1.2.3.4, nothing', '99999999999999999999']) {
  test(`loadConfig rejects KILN_TRUST_PROXY "${value}"`, () => {
    assert.throws(() => loadConfig({ KILN_TRUST_PROXY: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /KILN_TRUST_PROXY: must be false, true, a hop count or addresses and subnets/);
      return true;
    });
  });
}

// Container limits the kernel cannot give started cleanly, then failed every call as a retryable 503.
const HOST = { nrOpen: 1_048_576, totalMemory: 8 * 1024 * MiB };
test('FN_MAX_OPEN_FILES up to fs.nr_open, FN_MAX_LOCKED_MEMORY up to the host memory, FN_MAX_PIDS up to 4194304 start', () => {
  const a = loadConfig({ FN_MAX_OPEN_FILES: '1048576', FN_MAX_LOCKED_MEMORY: String(8 * 1024 * MiB), FN_MAX_PIDS: '4194304' }, HOST).agent;
  assert.deepEqual([a.maxOpenFiles, a.maxLockedMemory, a.maxPids], [1_048_576, 8 * 1024 * MiB, 4_194_304]);
  // A remote engine's kernel is not known: only the kernel's own ceilings apply.
  assert.equal(loadConfig({ FN_MAX_OPEN_FILES: '2097152' }, { nrOpen: undefined, totalMemory: undefined }).agent.maxOpenFiles, 2_097_152);
});
for (const [name, value, want] of [
  ['FN_MAX_OPEN_FILES', '2097152', /FN_MAX_OPEN_FILES: must be at most 1048576, this host's fs\.nr_open .*got "2097152"/],
  ['FN_MAX_LOCKED_MEMORY', '9007199254740991', /FN_MAX_LOCKED_MEMORY: must be at most 8589934592, this host's memory in bytes.*got "9007199254740991"/],
  ['FN_MAX_PIDS', '5000000', /FN_MAX_PIDS: must be a whole number from 0 to 4194304, got "5000000"/],
  ['FN_MAX_OPEN_FILES', '2147483585', /FN_MAX_OPEN_FILES: must be a whole number from 0 to 2147483584/],
] as const) {
  test(`${name}=${value} stops start-up naming it`, () => {
    const facts = name === 'FN_MAX_OPEN_FILES' && value === '2147483585' ? { nrOpen: undefined, totalMemory: undefined } : HOST;
    assert.throws(() => loadConfig({ [name]: value }, facts), (err: unknown) => err instanceof ConfigError && want.test(err.message));
  });
}

// FN_DB_URL's port, on every scheme, at start-up: PostgreSQL's reached pg unchecked ("Invalid URL").
// A password holding a / ends pg's host part early: what it takes for the port is the password's.
test('FN_DB_URL with an unencoded / in its password: the port it seems to have is not repeated', () => {
  assert.throws(() => loadConfig({ FN_DB_URL: 'postgres://kiln:s3cr/etPass@db:5432/kiln' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /s3cr|etPass/);
    assert.match(err.message, /must be percent-encoded: %2F/);
    return true;
  });
});

for (const url of ['postgres://u:Secr3t@127.0.0.1:99999/db', 'postgresql://u:Secr3t@h:0/db', 'postgres://u:Secr3t@[::1]:7x/db', 'mysql://u:Secr3t@127.0.0.1:65536/db']) {
  test(`FN_DB_URL ${url} stops start-up naming it and its port, masked`, () => {
    assert.throws(() => loadConfig({ FN_DB_URL: url }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^invalid settings: FN_DB_URL: its port must be a number from 1 to 65535 \(a password holding \/, \?, # or @ must be percent-encoded/);
      assert.doesNotMatch(err.message, /Secr3t/);
      return true;
    });
  });
}
for (const url of ['postgres://u:p@h:5432/db', 'postgres://u:p@[::1]:1/db', 'postgres://h/db', 'mysql://u:p@h:65535/db', 'mysql://u:p@tcp(h:3306)/db', 'mysql://u:p/w@h:3306/db', 'sqlite3:///tmp/x:1/fn.db']) {
  test(`FN_DB_URL ${url} is taken`, () => assert.equal(loadConfig({ FN_DB_URL: url }).dbUrl, url));
}
// Text settings are trimmed as number settings are: FN_HOST="127.0.0.1 " was "not an address of this host".
test('FN_HOST, FN_DB_URL and FN_IOFS_PATH lose the spaces round them', () => {
  const c = loadConfig({ FN_HOST: '127.0.0.1 ', FN_DB_URL: ' sqlite3:///tmp/fn.db\t', FN_IOFS_PATH: ' /tmp/kiln-x ' });
  assert.deepEqual([c.host, c.dbUrl, c.agent.iofsPath], ['127.0.0.1', 'sqlite3:///tmp/fn.db', '/tmp/kiln-x']);
});

// Paths are appended to it: `https://x/base?x=1#frag` made `https://x/base?x=1#frag/invoke/<id>`.
for (const value of ['https://x/base?x=1#frag', 'https://x/base?', 'http://lb:8080/#f']) {
  test(`FN_PUBLIC_LB_URL ${value} stops start-up: a query or fragment`, () => {
    assert.throws(() => loadConfig({ FN_PUBLIC_LB_URL: value }), (err: unknown) => err instanceof ConfigError && /FN_PUBLIC_LB_URL: must have no query \(\?\.\.\.\) or fragment/.test(err.message));
  });
}
// Under a millisecond rounded to 0 ms, which keeps calls for ever.
for (const value of ['0.0000001', '0.0000002']) {
  test(`KILN_CALL_RETENTION_HOURS ${value} (under 1 ms) stops start-up`, () => {
    assert.throws(() => loadConfig({ KILN_CALL_RETENTION_HOURS: value }), (err: unknown) => err instanceof ConfigError && /KILN_CALL_RETENTION_HOURS: must be 0 \(for ever\) or at least one millisecond/.test(err.message));
  });
}
test('KILN_CALL_RETENTION_HOURS of one millisecond is one millisecond', () => assert.equal(loadConfig({ KILN_CALL_RETENTION_HOURS: '0.0000003' }).callRetentionMs, 1));
// A total under the smallest fn (1 MB) started, then every call was a 400 "(0 MB)".
for (const value of ['1000', '1048575']) {
  test(`FN_MAX_TOTAL_MEMORY_BYTES ${value} stops start-up`, () => {
    assert.throws(() => loadConfig({ FN_MAX_TOTAL_MEMORY_BYTES: value }), (err: unknown) => err instanceof ConfigError && /FN_MAX_TOTAL_MEMORY_BYTES: must be 0 \(what the host has\) or at least 1048576/.test(err.message));
  });
}
test('FN_MAX_TOTAL_MEMORY_BYTES 1 MB is taken', () => assert.equal(loadConfig({ FN_MAX_TOTAL_MEMORY_BYTES: '1048576' }).agent.maxTotalMemoryBytes, MiB));
