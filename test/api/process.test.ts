// The server as a process: data survives restarts (even a kill), and two processes share PostgreSQL.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { postgresDb, sqliteDb } from '../helpers/db.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';
import { nodeLockPath } from '../../agent/node-lock.js';

test('a SQLite database survives a graceful restart and a kill', async () => {
  const db = await sqliteDb();
  // One node id, as a server restarted in place has: the killed one's node id lock is taken over.
  const env = { FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId() };
  try {
    let srv = await spawnServer(env);
    const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'durable', config: { K: 'v' } })).body;
    const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'img', memory: 256 })).body;
    assert.equal(await srv.stop('SIGTERM'), 0, 'SIGTERM exits cleanly');

    srv = await spawnServer(env);
    assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${app.id}`)).body, app);
    assert.equal((await call(srv.url, 'GET', `/v2/fns/${fn.id}`)).body.memory, 256);
    const t = (await call(srv.url, 'POST', '/v2/triggers', { name: 't', app_id: app.id, fn_id: fn.id, type: 'http', source: '/t' })).body;
    await srv.stop('SIGKILL');

    const lock = nodeLockPath(join(tmpdir(), 'kiln-iofs'), env.KILN_NODE_ID);
    assert.ok(existsSync(lock), 'the kill left its node id lock');
    srv = await spawnServer(env);
    assert.equal((await call(srv.url, 'GET', `/v2/triggers/${t.id}`)).status, 200, 'a committed write survives SIGKILL');
    assert.equal(await srv.stop(), 0);
    assert.ok(!existsSync(lock), 'taken over, then given back at the stop');
  } finally {
    await db.cleanup();
  }
});

test('two server processes on one PostgreSQL database see each other’s writes', async () => {
  const db = await postgresDb();
  const a = await spawnServer({ FN_DB_URL: db.url });
  const b = await spawnServer({ FN_DB_URL: db.url });
  try {
    const app = (await call(a.url, 'POST', '/v2/apps', { name: 'shared' })).body;
    assert.deepEqual((await call(b.url, 'GET', `/v2/apps/${app.id}`)).body, app);
    const fn = (await call(b.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: 'img' })).body;
    assert.equal((await call(a.url, 'GET', `/v2/fns?app_id=${app.id}`)).body.items[0].id, fn.id);
    // A conflict is seen across processes too.
    assert.equal((await call(b.url, 'POST', '/v2/apps', { name: 'shared' })).status, 409);
    assert.equal((await call(a.url, 'DELETE', `/v2/apps/${app.id}`)).status, 204);
    assert.equal((await call(b.url, 'GET', `/v2/fns/${fn.id}`)).status, 404);
  } finally {
    await a.stop();
    await b.stop();
    await db.cleanup();
  }
});

/** Why the server would not start; one that starts anyway is stopped (not left running) and fails the test. */
async function startFailure(env: Record<string, string>): Promise<string> {
  let srv: Awaited<ReturnType<typeof spawnServer>>;
  try {
    srv = await spawnServer(env);
  } catch (err) {
    return (err as Error).message;
  }
  await srv.stop();
  return assert.fail(`the server started with ${JSON.stringify(env)}`);
}

test('bad settings stop the server at start with a clear message', async () => {
  assert.match(await startFailure({ FN_DB_URL: 'mongodb://x' }), /unsupported scheme "mongodb"/);
  assert.match(await startFailure({ FN_PORT: 'eighty' }), /FN_PORT/);
  assert.match(await startFailure({ FN_IOFS_PATH: `/tmp/${'x'.repeat(100)}` }), /FN_IOFS_PATH .* is too long/);
  // Kiln is only ever a full node: an Fn operator's api / lb / pure-runner node must not start as one.
  assert.match(
    await startFailure({ FN_NODE_TYPE: 'lb' }),
    /kiln: failed to start: invalid settings: FN_NODE_TYPE: must be full \(or unset\), got "lb": .*Kiln runs only as a full node/,
  );
  assert.match(await startFailure({ FN_NODE_TYPE: 'api' }), /FN_NODE_TYPE: must be full/);
});

test('a database that cannot be reached or read is named as FN_DB_URL, without its password', async () => {
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  try {
    const base = { KILN_NODE_ID: uniqueNodeId(), FN_IOFS_PATH: iofs, KILN_DB_TIMEOUT_MSECS: '5000' };
    // Not FN_HOST's fault: the server's own address is fine.
    const unresolved = await startFailure({ ...base, FN_DB_URL: 'postgres://kiln:Secr3tPw@nosuchhost.invalid:5432/db' });
    assert.match(unresolved, /kiln: failed to start: FN_DB_URL host "nosuchhost\.invalid" not found: the database postgres:\/\/kiln:\*\*\*@nosuchhost\.invalid:5432\/db cannot be reached/);
    assert.doesNotMatch(unresolved, /FN_HOST|Secr3tPw/);
    // Nothing listening: FN_DB_URL named, masked (the warn line before it: test/store/db-timeout.test.ts).
    for (const url of ['postgres://kiln:Secr3tPw@127.0.0.1:1/db', 'mysql://kiln:Secr3tPw@127.0.0.1:1/db']) {
      const refused = await startFailure({ ...base, FN_DB_URL: url });
      assert.match(refused, new RegExp(`kiln: failed to start: FN_DB_URL: the database ${url.split(':')[0]}://kiln:\\*\\*\\*@127\\.0\\.0\\.1:1/db cannot be reached \\(connect ECONNREFUSED 127\\.0\\.0\\.1:1\\)`));
      assert.doesNotMatch(refused, /Secr3tPw/);
    }
    // A port no server has, on every scheme, at config time (PostgreSQL's said only "Invalid URL").
    for (const url of ['postgres://kiln:Secr3tPw@127.0.0.1:99999/db', 'mysql://kiln:Secr3tPw@127.0.0.1:99999/db']) {
      const badPort = await startFailure({ ...base, FN_DB_URL: url });
      assert.match(badPort, /kiln: failed to start: invalid settings: FN_DB_URL: its port must be a number from 1 to 65535 \(a password holding [^)]*\) \((postgres|mysql):\/\/kiln:\*\*\*@127\.0\.0\.1:99999\/db\)/);
      assert.doesNotMatch(badPort, /Secr3tPw/);
    }
    // A malformed MySQL DSN is quoted masked.
    const malformed = await startFailure({ ...base, FN_DB_URL: 'mysql://kiln:Secr3tPw@tcp(127.0.0.1:3306)' });
    assert.match(malformed, /kiln: failed to start: FN_DB_URL "mysql:\/\/kiln:\*\*\*@tcp\(127\.0\.0\.1:3306\)": names no database/);
    assert.doesNotMatch(malformed, /Secr3tPw/);
    // A start that failed after taking its node id (the database's) gave it back.
    assert.deepEqual(readdirSync(iofs).filter((n) => n.startsWith('node-')), []);
  } finally {
    rmSync(iofs, { recursive: true, force: true });
  }
});

test('a port in use stops the server saying so and naming FN_PORT', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = taken.address() as AddressInfo;
    assert.match(await startFailure({ FN_HOST: '127.0.0.1', FN_PORT: String(port) }), new RegExp(`kiln: failed to start: port ${port} on 127\\.0\\.0\\.1 is already in use: set FN_PORT to a free one`));
  } finally {
    taken.close();
  }
});

test('FN_* settings Kiln does not read are named in one warning at start-up', async () => {
  const db = await sqliteDb();
  // A failed assertion must not leave a server running: its pipes would keep this file from ending.
  const started: ServerProcess[] = [];
  try {
    const srv = await spawnServer({
      FN_DB_URL: db.url,
      KILN_NODE_ID: uniqueNodeId(),
      FN_NODE_TYPE: 'full',
      FN_LOG_FORMAT: 'json',
      FN_HOT_POLL_MSECS: '100',
      FN_DOCKER_AUTH: '{"auths":{}}',
      FN_IOFS_DOCKER_PATH: '/var/lib/iofs',
      FN_MAX_TMPFS_INODES: '1000',
      FN_EMPTY_ONE: '',
    });
    started.push(srv);
    const lines = srv.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; settings?: string[] });
    const warnings = lines.filter((l) => l.settings !== undefined);
    assert.equal(warnings.length, 1, srv.output());
    assert.equal(warnings[0]!.level, 40, 'warn');
    // FN_DOCKER_AUTH is read (registry credentials for pulls): not named.
    assert.deepEqual(warnings[0]!.settings, ['FN_HOT_POLL_MSECS', 'FN_IOFS_DOCKER_PATH', 'FN_LOG_FORMAT']);
    assert.match(warnings[0]!.msg, /no effect here: FN_HOT_POLL_MSECS, FN_IOFS_DOCKER_PATH, FN_LOG_FORMAT$/);
    // Once it answers, its signal handlers are in place (the listening line comes just before).
    assert.equal((await call(srv.url, 'GET', '/version')).status, 200);
    assert.equal(await srv.stop(), 0);

    // Only settings Kiln reads: no such warning.
    const quiet = await spawnServer({ FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), FN_MAX_PIDS: '60' });
    started.push(quiet);
    assert.doesNotMatch(quiet.output(), /"settings"/);
    assert.equal((await call(quiet.url, 'GET', '/version')).status, 200);
    assert.equal(await quiet.stop(), 0);
  } finally {
    for (const srv of started) await srv.stop('SIGKILL');
    await db.cleanup();
  }
});

test('without tokens, on an address fns given a network reach (not loopback), a warning says so at start-up', async () => {
  const db = await sqliteDb();
  const started: ServerProcess[] = [];
  /** The start-up's authentication lines, once the second of them (after the listening line) is out. */
  const authLines = async (env: Record<string, string>): Promise<Array<{ level: number; msg: string }>> => {
    const srv = await spawnServer({ FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), ...env });
    started.push(srv);
    for (let i = 0; i < 100 && !/authentication (on|off)/.test(srv.output()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await srv.stop(), 0);
    return srv.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => /^authentication/.test(l.msg));
  };
  try {
    const open = await authLines({ FN_HOST: '0.0.0.0' });
    const warned = open.filter((l) => l.level === 40);
    assert.equal(warned.length, 1, JSON.stringify(open));
    assert.match(warned[0]!.msg, /fns may be given a network \(bridge\): such a fn reaches this API at its network's gateway address .*set KILN_AUTH_TOKENS, or FN_HOST=127\.0\.0\.1/);
    const quiet: Array<Record<string, string>> = [{ FN_HOST: '127.0.0.1' }, { FN_HOST: '0.0.0.0', KILN_AUTH_TOKENS: 'a-token-of-16-chars-or-more' }, { FN_HOST: '0.0.0.0', KILN_ALLOWED_NETWORKS: '' }];
    for (const env of quiet) {
      const lines = await authLines(env);
      assert.equal(lines.length, 1, JSON.stringify(env));
      assert.equal(lines[0]!.level, 30, `${JSON.stringify(env)}: info only`);
    }
  } finally {
    for (const srv of started) await srv.stop('SIGKILL');
    await db.cleanup();
  }
});

test('request log lines mask secrets in the query and in headers named like them; invoke lines name the caller', async () => {
  const db = await sqliteDb();
  const token = 'a-token-of-16-chars-or-more';
  const srv = await spawnServer({ FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), FN_LOG_LEVEL: 'debug', KILN_AUTH_TOKENS: token });
  try {
    // Refused (no valid token): the `request refused` line wrote ?access_token=... verbatim.
    assert.equal((await call(srv.url, 'GET', '/v2/apps?access_token=Qu3ryS3cret&per_page=5')).status, 401);
    // A REST request's headers at debug: only a fixed list was masked.
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await call(srv.url, 'GET', '/v2/apps?api_key=K3yS3cret', undefined, { ...auth, 'x-auth-token': 'H3aderS3cret', 'x-visible': 'shown' })).status, 200);
    assert.equal((await call(srv.url, 'POST', '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV', '{}', auth)).status, 404);
    await new Promise((r) => setTimeout(r, 200));
    const out = srv.output();
    assert.doesNotMatch(out, /Qu3ryS3cret|K3yS3cret|H3aderS3cret/);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; url?: string; req?: { url: string; headers?: Record<string, string>; remoteAddress?: string } });
    assert.ok(lines.some((l) => l.msg === 'request refused: no valid token' && l.url === '/v2/apps?access_token=[redacted]&per_page=5'), out);
    const rest = lines.find((l) => l.msg === 'request completed' && l.req?.url === '/v2/apps?api_key=[redacted]');
    assert.equal(rest?.req?.headers?.['x-auth-token'], '[redacted]', out);
    assert.equal(rest?.req?.headers?.['x-visible'], 'shown');
    const invoked = lines.find((l) => l.msg === 'request completed' && l.req?.url.startsWith('/invoke/'));
    assert.equal(invoked?.req?.remoteAddress, '127.0.0.1', out);
  } finally {
    await srv.stop();
    await db.cleanup();
  }
});
