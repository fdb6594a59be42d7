// Test images and containers: the fixture functions built once per content (the
// `kiln-test/` images are a cache kept across runs), and a bare http-stream container for
// tests that talk to a function without the agent.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdtemp, readdir, readFile, readlink, realpath, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { ensureNodeBaseImage } from '../../images/base-image.js';
import { withBuildLock } from '../../images/build-lock.js';
import { buildFunctionImage, dependencyClosure, functionDockerfile } from '../../images/function-image.js';
import { inspectImage } from '../../images/inspect.js';
import { IOFS_DIR, IOFS_LISTENER, LISTENER_NAME } from '../../runtime/wire.js';

export type FixtureName = 'hello-fdk' | 'tester';

/** What each fixture vendors from the project's node_modules. */
const VENDOR: Record<FixtureName, string[]> = { 'hello-fdk': ['@fnproject/fdk'], tester: [] };
/** Bump to rebuild every fixture image. */
const FIXTURE_RECIPE = '1';

/** A dockerode client from the environment (DOCKER_HOST or the local socket). */
export function docker(): Docker {
  return new Docker();
}

/** The repository root (where test/fixtures/functions lives). */
export function projectRoot(): string {
  // This file runs from dist/test/helpers; the fixtures are plain JS kept in the source tree.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test', 'fixtures', 'functions'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('test/fixtures/functions not found above the test helpers');
    dir = up;
  }
}

export function fixtureDir(name: FixtureName): string {
  return join(projectRoot(), 'test', 'fixtures', 'functions', name);
}

export async function hashTree(h: ReturnType<typeof createHash>, root: string, dir = root): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const abs = join(dir, name);
    const st = await lstat(abs);
    const rel = relative(root, abs);
    if (st.isDirectory()) await hashTree(h, root, abs);
    else if (st.isSymbolicLink()) h.update(`l ${rel} ${await readlink(abs)}\n`);
    else if (st.isFile()) h.update(`f ${rel} ${(st.mode & 0o111) !== 0} `).update(await readFile(abs)).update('\n');
  }
}

/** Hash of what goes into a fixture image: base image, files, vendored package versions. */
async function fixtureHash(name: FixtureName, baseId: string): Promise<string> {
  const h = createHash('sha256');
  h.update(`${FIXTURE_RECIPE}\n${baseId}\n${functionDockerfile('base', ['entry'])}\n`);
  await hashTree(h, fixtureDir(name));
  const vendor = VENDOR[name];
  if (vendor.length) {
    const root = await realpath(join(projectRoot(), 'node_modules'));
    for (const dir of await dependencyClosure(root, vendor)) {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string };
      h.update(`v ${relative(root, dir)}@${pkg.version ?? '?'}\n`);
    }
  }
  return h.digest('hex');
}

/** Removes older cached tags of the same fixture; images still in use stay (Docker refuses). */
async function pruneOldFixtures(client: Docker, repo: string, keep: string): Promise<void> {
  const images = await client.listImages({ filters: JSON.stringify({ reference: [`${repo}:*`] }) });
  for (const img of images) {
    for (const t of img.RepoTags ?? []) {
      if (t !== keep && t.startsWith(`${repo}:`)) await client.getImage(t).remove().catch(() => {});
    }
  }
}

async function buildFixture(name: FixtureName, client: Docker): Promise<string> {
  const base = await ensureNodeBaseImage(client);
  const baseInfo = await inspectImage(client, base);
  if (!baseInfo) throw new Error(`base image ${base} vanished`);
  const repo = `kiln-test/${name}`;
  const tag = `${repo}:${(await fixtureHash(name, baseInfo.Id)).slice(0, 12)}`;
  return buildFixtureTag(client, repo, tag, () =>
    buildFunctionImage(client, fixtureDir(name), tag, { vendor: VENDOR[name], baseImage: base }),
  );
}

/**
 * Builds `tag` (named by its content) unless it exists, under a cross-process lock so
 * parallel test files build it once, then drops older tags of `repo`.
 */
export async function buildFixtureTag(client: Docker, repo: string, tag: string, build: () => Promise<unknown>): Promise<string> {
  if (await inspectImage(client, tag)) return tag;
  return withBuildLock(`fixture-${repo.replace(/[^\w.-]/g, '-')}-${tag.slice(-12)}`, async () => {
    if (await inspectImage(client, tag)) return tag;
    await build();
    await pruneOldFixtures(client, repo, tag);
    return tag;
  });
}

/** One build per key per process: concurrent callers share it; a failure is not cached. */
export function sharedBuilds<K>(build: (key: K, client: Docker) => Promise<string>): (key: K, client?: Docker) => Promise<string> {
  const inflight = new Map<K, Promise<string>>();
  return (key, client = docker()) => {
    let p = inflight.get(key);
    if (!p) {
      p = build(key, client);
      p.catch(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  };
}

/** The tag of the fixture's image (`kiln-test/<name>:<content hash>`), built when missing. */
export const fixtureImage = sharedBuilds(buildFixture);

/** Docker's multiplexed log stream (no TTY) split into stdout and stderr. */
export function demuxLogs(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const kind = buf[i];
    const size = buf.readUInt32BE(i + 4);
    const part = buf.subarray(i + 8, i + 8 + size);
    (kind === 2 ? err : out).push(part);
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export interface FunctionContainer {
  container: Docker.Container;
  /** Host directory bind-mounted at /tmp/iofs. */
  iofsDir: string;
  /** Host path of lsnr.sock. */
  socketPath: string;
  /** Resolves when lsnr.sock is a relative link to a socket; rejects if the container exits. */
  ready(timeoutMs?: number): Promise<void>;
  logs(): Promise<{ stdout: string; stderr: string }>;
  /** Force-removes the container and the socket directory; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Starts `image` the way the agent does for http-stream: read-only root, tmpfs /tmp,
 * uid 1000, no network, a fresh socket directory at /tmp/iofs.
 */
export async function startFunctionContainer(
  client: Docker,
  image: string,
  env: Record<string, string> = {},
): Promise<FunctionContainer> {
  // Short path: a unix socket path must stay under 108 bytes.
  const iofsDir = await mkdtemp(join(tmpdir(), `kiln-io-${process.pid}-`));
  // The function runs as uid 1000 and must create its socket here.
  await chmod(iofsDir, 0o777);
  const socketPath = join(iofsDir, LISTENER_NAME);
  let container: Docker.Container | undefined;
  const remove = async (): Promise<void> => {
    if (container) await container.remove({ force: true, v: true }).catch(() => {});
    await rm(iofsDir, { recursive: true, force: true });
  };
  try {
    const allEnv = { FN_LISTENER: IOFS_LISTENER, FN_FORMAT: 'http-stream', ...env };
    container = await client.createContainer({
      Image: image,
      Env: Object.entries(allEnv).map(([k, v]) => `${k}=${v}`),
      User: '1000:1000',
      Labels: { 'io.kiln.test': 'images', 'io.kiln.test.pid': String(process.pid) },
      HostConfig: {
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,size=64m' },
        Binds: [`${iofsDir}:${IOFS_DIR}`],
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
      },
    });
    await container.start();
  } catch (err) {
    await remove();
    throw err;
  }
  const c = container;
  const logs = async (): Promise<{ stdout: string; stderr: string }> => {
    const buf = await c.logs({ stdout: true, stderr: true, follow: false });
    return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
  };
  const ready = async (timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await isListening(iofsDir)) return;
      const state = (await c.inspect()).State;
      if (!state.Running) {
        const l = await logs();
        throw new Error(`container exited (${state.ExitCode}) before listening: ${l.stderr || l.stdout}`);
      }
      if (Date.now() > deadline) throw new Error(`no lsnr.sock in ${iofsDir} after ${timeoutMs} ms`);
      await sleep(20);
    }
  };
  return { container: c, iofsDir, socketPath, ready, logs, remove };
}

/** lsnr.sock is a relative link, within the directory, to a socket. */
export async function isListening(dir: string): Promise<boolean> {
  try {
    const target = await readlink(join(dir, LISTENER_NAME));
    if (target.includes('/')) return false;
    return (await stat(join(dir, target))).isSocket();
  } catch {
    return false;
  }
}

export interface CallAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the request went over a kept-alive connection. */
  reused: boolean;
}

/** POST /call over the unix socket, as the agent does. */
export function postCall(
  socketPath: string,
  body: string,
  headers: Record<string, string> = {},
  agent?: http.Agent,
): Promise<CallAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        path: '/call',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
        ...(agent ? { agent } : {}),
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString('utf8'),
            reused: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
