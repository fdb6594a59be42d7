// Kiln against the floor, in one run: a hello function on @fnproject/fdk (examples/hello),
// Kiln running as its own process (as in production), this process as the client.
//   floor  : keep-alive HTTP straight to the hot container's unix socket
//   kiln   : POST /invoke/:id through Kiln at concurrency 1 and 8
//   cold   : first call of a fn with no container, end to end
//   memory : server RSS with 50 hot containers
//   lambda : a Lambda-format hello (Kiln's daemon + a node:http runtime loop) against the
//            same work as an http-stream fn, both through Kiln; and the cold start of a
//            Lambda fn with one extension (the AWS blog demo's bash/curl extension); and the
//            least a node:http relay costs in the same place (bench/least-relay.ts)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { Client, Pool } from 'undici';
import { buildFunctionImage } from '../images/function-image.js';
import { FN_LABEL, NODE_LABEL } from '../drivers/docker/driver.js';
import { spawnServer } from '../test/helpers/process.js';
import { lambdaFixtureImage } from '../test/helpers/lambda-images.js';
import { startLeastRelay } from './least-relay-container.js';
import { percentile } from './stats.js';

const MiB = 1024 * 1024;
const example = fileURLToPath(new URL('../../examples/hello', import.meta.url));
const WARM_N = Number(process.env.KILN_BENCH_N ?? 3000);
const LOAD_SECONDS = Number(process.env.KILN_BENCH_SECONDS ?? 5);

interface Lat { p50: number; p99: number; n: number }
const summary = (ms: number[]): Lat => {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length };
};
const f3 = (n: number) => n.toFixed(3);

async function timeLoop(n: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

/** CPU time (user + system) a process has used, in ms: unlike latency, steal time on a shared host does not inflate it. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

type Json = <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => Promise<T>;
type InvokeOn = (d: Client | Pool, fnId: string) => () => Promise<void>;
type SocketsOf = (fnId: string) => Promise<string[]>;
type CpusetOf = (fnId: string) => Promise<string>;

/** A keep-alive client straight to a hot container's socket, and one http-stream call through it. */
function directCall(socketPath: string, payload: string): { call: () => Promise<void>; close: () => Promise<void> } {
  const client = new Client('http://localhost', { socketPath, pipelining: 1 });
  return {
    call: async () => {
      const r = await client.request({
        method: 'POST', path: '/call', body: payload,
        headers: { 'fn-call-id': '01BENCH', 'fn-deadline': new Date(Date.now() + 30_000).toISOString(), 'content-type': 'application/json' },
      });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`direct call: ${r.statusCode}`);
    },
    close: () => client.close(),
  };
}

/**
 * The Lambda layer's cost: the same hello through both contracts, blocks interleaved; then the
 * same two containers called straight over their sockets, which tells the daemon's and the
 * runtime's share (inside the container) from Kiln's server's; and the least relay in a third
 * container like it, which tells what any node:http daemon would cost there.
 */
async function lambdaBench(docker: Docker, json: Json, invokeOn: InvokeOn, socketsOf: SocketsOf, cpusetOf: CpusetOf, payload: string, httpStreamImage: string, appId: string, url: string, serverPid: number): Promise<void> {
  const helloImage = await lambdaFixtureImage('node-hello');
  const demoImage = await lambdaFixtureImage('blog-demo');
  const lam = await json<{ id: string }>('POST', '/v2/fns', {
    name: 'lambda-hello', app_id: appId, image: helloImage, memory: 128, format: 'lambda', config: { _HANDLER: 'index.handler' },
  });
  // A fn of its own, with one container: the first bench's fn has several after its c=8 load,
  // idle ones retiring at any moment, and the direct calls below must reach one still there.
  const { id: httpStreamFnId } = await json<{ id: string }>('POST', '/v2/fns', { name: 'stream-hello', app_id: appId, image: httpStreamImage, memory: 128 });
  const client = new Client(url, { pipelining: 1 });
  await timeLoop(300, invokeOn(client, lam.id));
  await timeLoop(300, invokeOn(client, httpStreamFnId));
  const lambdaMs: number[] = [];
  const streamMs: number[] = [];
  // The server's CPU for each side: what a Lambda call costs Kiln's server beyond the container.
  let streamCpu = 0;
  let lambdaCpu = 0;
  for (let b = 0; b < 10; b++) {
    let c0 = cpuMs(serverPid);
    streamMs.push(...(await timeLoop(WARM_N / 10, invokeOn(client, httpStreamFnId))));
    streamCpu += cpuMs(serverPid) - c0;
    c0 = cpuMs(serverPid);
    lambdaMs.push(...(await timeLoop(WARM_N / 10, invokeOn(client, lam.id))));
    lambdaCpu += cpuMs(serverPid) - c0;
  }
  await client.close();

  const [lambdaSocket] = await socketsOf(lam.id);
  const [streamSocket] = await socketsOf(httpStreamFnId);
  if (!lambdaSocket || !streamSocket) throw new Error('could not find the hot containers\' sockets');
  const relay = await startLeastRelay(docker, helloImage, await cpusetOf(lam.id));
  const lambdaDirect = directCall(lambdaSocket, payload);
  const streamDirect = directCall(streamSocket, payload);
  const relayDirect = directCall(relay.socketPath, payload);
  const lambdaDirectMs: number[] = [];
  const streamDirectMs: number[] = [];
  const relayDirectMs: number[] = [];
  try {
    // The relay's node has just started: enough calls for its JIT to settle.
    await timeLoop(2000, relayDirect.call);
    await timeLoop(300, lambdaDirect.call);
    await timeLoop(300, streamDirect.call);
    for (let b = 0; b < 10; b++) {
      streamDirectMs.push(...(await timeLoop(WARM_N / 10, streamDirect.call)));
      lambdaDirectMs.push(...(await timeLoop(WARM_N / 10, lambdaDirect.call)));
      relayDirectMs.push(...(await timeLoop(WARM_N / 10, relayDirect.call)));
    }
  } finally {
    await Promise.all([lambdaDirect.close(), streamDirect.close(), relayDirect.close()]);
    await relay.stop();
  }

  const cold: number[] = [];
  const pool = new Pool(url);
  for (let i = 0; i < 10; i++) {
    const c = await json<{ id: string }>('POST', '/v2/fns', {
      name: `lambda-cold-${i}`, app_id: appId, image: demoImage, memory: 128, format: 'lambda', config: { EXTENSION_WORK_SECONDS: '0' },
    });
    const t0 = process.hrtime.bigint();
    await invokeOn(pool, c.id)();
    cold.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await pool.close();
  const l = summary(lambdaMs);
  const h = summary(streamMs);
  const c = summary(cold);
  const line = (label: string, x: Lat, extra = '') => console.log(`${label.padEnd(34)} p50 ${f3(x.p50)} ms   p99 ${f3(x.p99)} ms${extra}`);
  const perCall = (ms: number, n: number) => Math.round((ms / n) * 1000);
  line('kiln: http-stream hello, c=1', h, `   (server CPU ${perCall(streamCpu, streamMs.length)} µs/call)`);
  line('kiln: lambda hello, c=1', l, `   (+${f3(l.p50 - h.p50)} ms p50 for the Lambda layer, ratio ${(l.p50 / h.p50).toFixed(2)}; server CPU ${perCall(lambdaCpu, lambdaMs.length)} µs/call)`);
  const hd = summary(streamDirectMs);
  const ld = summary(lambdaDirectMs);
  line('direct: http-stream hello socket', hd);
  line('direct: lambda hello socket', ld, `   (+${f3(ld.p50 - hd.p50)} ms p50 inside the container: the daemon and the runtime's loop)`);
  const rd = summary(relayDirectMs);
  line('direct: least node:http relay', rd, `   (+${f3(rd.p50 - hd.p50)} ms p50: the floor of any node:http daemon here; Kiln's daemon +${f3(ld.p50 - rd.p50)} ms over it)`);
  line('kiln: lambda cold start, 1 ext', c, `   (n=${c.n})`);
}

async function main(): Promise<void> {
  const docker = new Docker();
  const image = 'kiln-examples/hello:0.0.1';
  await buildFunctionImage(docker, example, image, { vendor: ['@fnproject/fdk'] });

  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const iofs = join(work, 'iofs');
  const nodeId = `bench-${process.pid}`;
  const srv = await spawnServer({
    FN_DB_URL: `sqlite3://${join(work, 'fn.db')}`,
    FN_IOFS_PATH: iofs,
    KILN_NODE_ID: nodeId,
    KILN_DOCKER_PULL: 'false',
    // The floor talks to the container behind Kiln's back; Kiln must not freeze it meanwhile.
    FN_FREEZE_IDLE_MSECS: '-1',
    ...(process.env.KILN_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.KILN_BENCH_NODE_OPTIONS } : {}),
  });
  const api = new Pool(srv.url, { connections: 16 });
  const json = async <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> => {
    const r = await api.request({ method, path, headers: { 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text}`);
    return JSON.parse(text) as T;
  };
  const payload = JSON.stringify({ name: 'bench' });
  const invokeOn = (d: Client | Pool, fnId: string) => async () => {
    const r = await d.request({ method: 'POST', path: `/invoke/${fnId}`, body: payload });
    await r.body.text();
    if (r.statusCode !== 200) throw new Error(`invoke: ${r.statusCode}`);
  };
  /** The unix sockets of a fn's containers, from their /tmp/iofs bind mounts. */
  const socketsOf: SocketsOf = async (fnId) => {
    const list = await docker.listContainers({ filters: { label: [`${NODE_LABEL}=${nodeId}`, `${FN_LABEL}=${fnId}`] } });
    return list.flatMap((c) => c.Mounts.filter((m) => m.Destination === '/tmp/iofs').map((m) => join(m.Source, 'lsnr.sock')));
  };
  /** The CPUs a fn's first container is pinned to ('' when it is not). */
  const cpusetOf: CpusetOf = async (fnId) => {
    const [c] = await docker.listContainers({ filters: { label: [`${NODE_LABEL}=${nodeId}`, `${FN_LABEL}=${fnId}`] } });
    if (!c) throw new Error(`no container of fn ${fnId}`);
    return (await docker.getContainer(c.Id).inspect()).HostConfig.CpusetCpus ?? '';
  };
  const containers = async (fnId?: string) => {
    const label = [`${NODE_LABEL}=${nodeId}`, ...(fnId ? [`${FN_LABEL}=${fnId}`] : [])];
    return (await docker.listContainers({ filters: { label } })).length;
  };

  try {
    const app = await json<{ id: string }>('POST', '/v2/apps', { name: 'bench' });
    const fn = await json<{ id: string }>('POST', '/v2/fns', { name: 'hello', app_id: app.id, image, memory: 128 });

    // Cold starts: each round a new fn (a new slot), first call end to end.
    const cold: number[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await json<{ id: string }>('POST', '/v2/fns', { name: `cold-${i}`, app_id: app.id, image, memory: 64 });
      const t0 = process.hrtime.bigint();
      await invokeOn(api, c.id)();
      cold.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }

    // Warm: one hot container; the floor goes to the same container's socket directly.
    const kiln1 = new Client(srv.url, { pipelining: 1 });
    await timeLoop(300, invokeOn(kiln1, fn.id));
    const [socketPath] = await socketsOf(fn.id);
    if (!socketPath) throw new Error('could not find the hot container socket');
    const floorDirect = directCall(socketPath, payload);
    const floorCall = floorDirect.call;
    await timeLoop(300, floorCall);

    // Interleave blocks so drift on a shared machine hits both sides alike.
    const floorMs: number[] = [];
    const kilnMs: number[] = [];
    const blocks = 10;
    const pid = srv.child.pid!;
    let cpu1 = 0;
    for (let b = 0; b < blocks; b++) {
      floorMs.push(...(await timeLoop(WARM_N / blocks, floorCall)));
      const c0 = cpuMs(pid);
      kilnMs.push(...(await timeLoop(WARM_N / blocks, invokeOn(kiln1, fn.id))));
      cpu1 += cpuMs(pid) - c0;
    }
    await floorDirect.close();

    // Concurrency 8 for a fixed time.
    const pool8 = new Pool(srv.url, { connections: 8, pipelining: 1 });
    await Promise.all(Array.from({ length: 8 }, () => timeLoop(100, invokeOn(pool8, fn.id))));
    const c8: number[] = [];
    const end = Date.now() + LOAD_SECONDS * 1000;
    const cpu8Start = cpuMs(pid);
    const t8 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const once = invokeOn(pool8, fn.id);
        while (Date.now() < end) {
          const t0 = process.hrtime.bigint();
          await once();
          c8.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const elapsed = Number(process.hrtime.bigint() - t8) / 1e9;
    const cpu8 = cpuMs(pid) - cpu8Start;
    const hotAt8 = await containers(fn.id);
    await pool8.close();

    // The floor at concurrency 8: the same containers, each loop on its own socket.
    const sockets = await socketsOf(fn.id);
    const floor8: number[] = [];
    const end8 = Date.now() + LOAD_SECONDS * 1000;
    const tf8 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const c = new Client('http://localhost', { socketPath: sockets[i % sockets.length]!, pipelining: 1 });
        while (Date.now() < end8) {
          const t0 = process.hrtime.bigint();
          const r = await c.request({ method: 'POST', path: '/call', body: payload, headers: { 'fn-call-id': '01BENCH', 'content-type': 'application/json' } });
          await r.body.text();
          floor8.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        await c.close();
      }),
    );
    const elapsedF8 = Number(process.hrtime.bigint() - tf8) / 1e9;

    // Memory with 50 hot containers: top up what the phases above left running.
    const fifty: string[] = [];
    const already = await containers();
    for (let i = 0; i < 50 - already; i++) {
      fifty.push((await json<{ id: string }>('POST', '/v2/fns', { name: `mem-${i}`, app_id: app.id, image, memory: 32 })).id);
    }
    for (let i = 0; i < fifty.length; i += 5) await Promise.all(fifty.slice(i, i + 5).map((id) => invokeOn(api, id)()));
    const hot = await containers();
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${srv.child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

    const floor = summary(floorMs);
    const k1 = summary(kilnMs);
    const k8 = summary(c8);
    const coldS = summary(cold);
    const line = (label: string, l: Lat, extra = '') => console.log(`${label.padEnd(34)} p50 ${f3(l.p50)} ms   p99 ${f3(l.p99)} ms${extra}`);
    console.log(`\nKiln bench (${new Date().toISOString()}, node ${process.version}, ${WARM_N} sequential calls per side, ${LOAD_SECONDS}s at c=8)`);
    // Sequential calls: requests/s is the inverse of the mean latency.
    const perSecond = (ms: number[]) => Math.round((1000 * ms.length) / ms.reduce((a, b) => a + b, 0));
    line('floor: direct unix socket', floor, `   ${perSecond(floorMs)} req/s`);
    line('kiln: warm invoke, c=1', k1, `   ${perSecond(kilnMs)} req/s (+${f3(k1.p50 - floor.p50)} ms p50 over the floor, ratio ${(k1.p50 / floor.p50).toFixed(2)}; server CPU ${Math.round((cpu1 / kilnMs.length) * 1000)} µs/call)`);
    const f8 = summary(floor8);
    const f8rps = f8.n / elapsedF8;
    const k8rps = k8.n / elapsed;
    line('floor: direct unix sockets, c=8', f8, `   ${Math.round(f8rps)} req/s over ${sockets.length} container(s)`);
    line('kiln: warm invoke, c=8', k8, `   ${Math.round(k8rps)} req/s (${((100 * k8rps) / f8rps).toFixed(0)}% of the floor's; p50 ratio ${(k8.p50 / f8.p50).toFixed(2)}), ${hotAt8} container(s) of the fn for the load; server CPU ${Math.round((cpu8 / c8.length) * 1000)} µs/call, ${Math.round((100 * cpu8) / (elapsed * 1000))}% of a core`);
    line('kiln: cold start (new slot)', coldS, `   (n=${coldS.n})`);
    console.log(`${'kiln: server RSS'.padEnd(34)} ${(rss / MiB).toFixed(1)} MiB with ${hot} hot containers`);
    await kiln1.close();
    await lambdaBench(docker, json, invokeOn, socketsOf, cpusetOf, payload, image, app.id, srv.url, pid);
  } finally {
    try {
      await api.close();
      await srv.stop('SIGTERM');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

await main();
