// What a real server sends the real engine when it pulls: a logging proxy on a unix socket sits
// between them (DOCKER_HOST), and records each request line and its X-Registry-Auth header.
// The registry is a closed local port, so every pull fails (there is none here); what matters is
// what the pull carried.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqliteDb } from '../helpers/db.js';
import { spawnServer } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';

const dockerHost = process.env.DOCKER_HOST;
const engineSocket = dockerHost === undefined ? '/var/run/docker.sock' : dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined;

interface Seen {
  method: string;
  url: string;
  registryAuth: string | undefined;
}

/** A proxy to the engine on `path` that remembers every request it passed on. */
async function loggingProxy(path: string, engine: string) {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    const header = req.headers['x-registry-auth'];
    seen.push({ method: req.method ?? '', url: req.url ?? '', registryAuth: Array.isArray(header) ? header[0] : header });
    const upstream = request({ socketPath: engine, method: req.method, path: req.url, headers: req.headers as IncomingHttpHeaders }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    seen,
    pullsOf: (repo: string) => seen.filter((s) => s.method === 'POST' && s.url.includes('/images/create?') && s.url.includes(`fromImage=${encodeURIComponent(repo)}`)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local port nothing listens on: a registry that refuses every connection. */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** X-Registry-Auth as the engine reads it: base64url JSON. */
const decode = (header: string): unknown => JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));

test('pulls send the Docker config’s credentials for the image’s registry, read at each pull; none without an entry', { skip: engineSocket === undefined && 'DOCKER_HOST is not a unix socket' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-regpull-'));
  const home = join(dir, 'home');
  const bin = join(dir, 'bin');
  mkdirSync(join(home, '.docker'), { recursive: true });
  mkdirSync(bin);
  const configFile = join(home, '.docker', 'config.json');
  const writeConfig = (config: unknown) => writeFileSync(configFile, JSON.stringify(config));
  const proxy = await loggingProxy(join(dir, 'engine.sock'), engineSocket!);
  const db = await sqliteDb();
  const iofs = join(dir, 'iofs');
  const registry = `127.0.0.1:${await closedPort()}`;
  let srv: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    srv = await spawnServer({
      DOCKER_HOST: `unix://${join(dir, 'engine.sock')}`, HOME: home, PATH: `${bin}:${process.env.PATH ?? ''}`,
      FN_DB_URL: db.url, FN_IOFS_PATH: iofs, KILN_NODE_ID: uniqueNodeId(), KILN_DOCKER_PULL: 'true', FN_HOT_PULL_TIMEOUT_MSECS: '20000', TMPDIR: tmpdir(),
    });
    const url = srv.url;
    const app = await call(url, 'POST', '/v2/apps', { name: 'private' });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    /** Invokes a new fn on `repo`: the pull fails (no registry), as an unavailable image. */
    const invoke = async (repo: string) => {
      const fn = await call(url, 'POST', '/v2/fns', { name: repo.replace(/\W/g, '-'), app_id: app.body.id, image: `${registry}/${repo}:1` });
      assert.equal(fn.status, 200, JSON.stringify(fn.body));
      const r = await call(url, 'POST', `/invoke/${fn.body.id}`, '{}');
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.match(r.body.message, /is not available: it is not present locally and pulling failed/);
      const pulls = proxy.pullsOf(`${registry}/${repo}`);
      assert.equal(pulls.length, 1, JSON.stringify(proxy.seen));
      return pulls[0]!;
    };

    // No config file: the pull carries no X-Registry-Auth at all.
    assert.equal((await invoke('private/none')).registryAuth, undefined);

    // A config written after start-up (a `docker login`) is read at the next pull.
    writeConfig({ auths: { [registry]: { auth: Buffer.from('user:pass').toString('base64') }, 'other.example:5000': { auth: 'b3RoZXI6eA==' } } });
    const withAuth = await invoke('private/auths');
    assert.ok(withAuth.registryAuth, 'X-Registry-Auth sent');
    assert.deepEqual(decode(withAuth.registryAuth), { username: 'user', password: 'pass', serveraddress: registry });
    assert.equal(withAuth.url, `/images/create?fromImage=${encodeURIComponent(`${registry}/private/auths`)}&tag=1`, 'no credentials in the URL');

    // An entry for another registry only: none.
    writeConfig({ auths: { 'other.example:5000': { auth: 'b3RoZXI6eA==' } } });
    assert.equal((await invoke('private/other')).registryAuth, undefined);

    // The registry's credential helper, run with the server address on stdin.
    writeFileSync(join(bin, 'docker-credential-kilnpull'), '#!/bin/sh\naddr=$(cat)\nprintf \'{"Username":"<token>","Secret":"tok-for-%s"}\' "$addr"\n');
    chmodSync(join(bin, 'docker-credential-kilnpull'), 0o755);
    writeConfig({ auths: { [registry]: {} }, credHelpers: { [registry]: 'kilnpull' } });
    const helped = await invoke('private/helper');
    assert.deepEqual(decode(helped.registryAuth!), { identitytoken: `tok-for-${registry}`, serveraddress: registry });

    // A helper that is not there: a pull without credentials, and a warning naming it.
    writeConfig({ credsStore: 'kiln-missing' });
    assert.equal((await invoke('private/missing')).registryAuth, undefined);
    assert.match(srv.output(), /pulling without credentials: credential helper docker-credential-kiln-missing failed for 127\.0\.0\.1:\d+: it is not on PATH/);

    // No secret is ever logged.
    assert.doesNotMatch(srv.output(), /"pass"|dXNlcjpwYXNz|tok-for/);
  } finally {
    await srv?.stop();
    await proxy.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FN_DOCKER_AUTH, as Fn reads it, is what pulls send, over the Docker config', { skip: engineSocket === undefined && 'DOCKER_HOST is not a unix socket' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-regpull-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.docker'), { recursive: true });
  const proxy = await loggingProxy(join(dir, 'engine.sock'), engineSocket!);
  const db = await sqliteDb();
  const registry = `127.0.0.1:${await closedPort()}`;
  writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [registry]: { auth: Buffer.from('file:user').toString('base64') } } }));
  let srv: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    srv = await spawnServer({
      DOCKER_HOST: `unix://${join(dir, 'engine.sock')}`, HOME: home,
      FN_DOCKER_AUTH: JSON.stringify({ auths: { [`https://${registry}`]: { auth: Buffer.from('fn:secret').toString('base64') } } }),
      FN_DB_URL: db.url, FN_IOFS_PATH: join(dir, 'iofs'), KILN_NODE_ID: uniqueNodeId(), KILN_DOCKER_PULL: 'true', TMPDIR: tmpdir(),
    });
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'fnauth' });
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.body.id, image: `${registry}/private/fn:1` });
    const r = await call(srv.url, 'POST', `/invoke/${fn.body.id}`, '{}');
    assert.equal(r.status, 502, JSON.stringify(r.body));
    const pulls = proxy.pullsOf(`${registry}/private/fn`);
    assert.equal(pulls.length, 1, JSON.stringify(proxy.seen));
    assert.deepEqual(decode(pulls[0]!.registryAuth!), { username: 'fn', password: 'secret', serveraddress: `https://${registry}` });
    // Read, so not named among the Fn settings Kiln ignores.
    assert.doesNotMatch(srv.output(), /Kiln does not read these Fn settings/);
  } finally {
    await srv?.stop();
    await proxy.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
