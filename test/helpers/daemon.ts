// Kiln's Lambda runtime daemon (dist/runtime/daemon.cjs) as a child process on the host, no
// Docker: a temp dir for its socket, a free port for the Lambda APIs, a bootstrap command and
// an extensions dir. Helpers call the Lambda APIs (as a runtime or an extension would) and the
// http-stream socket (as the agent would). stop() kills the daemon and every process it started.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DAEMON_ENV, DAEMON_SHUTDOWN_MS, IDLE_PATH, INIT_TIMEOUT_MS, LISTENER_NAME, SHUTDOWN_PATH, SHUTDOWN_REASON_PARAM } from '../../runtime/wire.js';

/** The bundle under test; KILN_TEST_DAEMON_BUNDLE runs the tests against another build. */
const DAEMON = process.env.KILN_TEST_DAEMON_BUNDLE || fileURLToPath(new URL('../../runtime/daemon.cjs', import.meta.url));

/** A fixture file, from the source tree (fixtures are not compiled into dist). */
export const fixturePath = (...parts: string[]): string =>
  fileURLToPath(new URL(`../../../test/fixtures/${parts.join('/')}`, import.meta.url));

export interface DaemonOptions {
  /** The bootstrap: KILN_LAMBDA_COMMAND. Default: a do-nothing `sleep 1000` (the test acts as the runtime). */
  command?: string[];
  /** An existing extensions dir (e.g. a fixture's opt/extensions). */
  extensionsDir?: string;
  /** Scripts written executable into `<dir>/extensions`, by file name (used when extensionsDir is not given). */
  extensions?: Record<string, string>;
  /** AWS_LAMBDA_FUNCTION_TIMEOUT, seconds (default 30). */
  timeoutSec?: number;
  /** KILN_LAMBDA_INIT_TIMEOUT_MS (default 10000). */
  initTimeoutMs?: number;
  /** KILN_LAMBDA_SHUTDOWN_MS (default 2000). */
  shutdownMs?: number;
  /** KILN_LAMBDA_HEADERS_TIMEOUT_MS (the daemon's default when not given). */
  headersTimeoutMs?: number;
  functionName?: string;
  /** More environment (the customer's variables, or overrides of the above). */
  env?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names and values as sent, names in their original case. */
  rawHeaders: string[];
  /** Trailers of a chunked answer. */
  trailers: Record<string, string | undefined>;
  body: Buffer;
  text: string;
  json(): unknown;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Daemon {
  /** The temp dir (socket, extensions, TMPDIR of the processes). */
  dir: string;
  port: number;
  /** host:port of the Lambda APIs (AWS_LAMBDA_RUNTIME_API). */
  address: string;
  extensionsDir: string;
  child: ChildProcess;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** The bytes of the daemon's stdout alone (the container's log, which answers' kiln-log-from offsets count). */
  stdout(): Buffer;
  /** Resolves once the output matches (rejects after timeoutMs, with the output in the message). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code and signal once the daemon has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A request to the Lambda APIs on 127.0.0.1:port. */
  api(method: string, path: string, opts?: RequestOptions): Promise<Answer>;
  /** A request to the http-stream socket. */
  socket(method: string, path: string, opts?: RequestOptions): Promise<Answer>;
  /** POST /call: one invocation. */
  call(body?: string | Buffer, headers?: Record<string, string>): Promise<Answer>;
  /** GET /.kiln/idle */
  idle(): Promise<Answer>;
  /** POST /.kiln/shutdown?reason=... */
  shutdown(reason?: string): Promise<Answer>;
  /** GET /2018-06-01/runtime/invocation/next: the test as the runtime. */
  next(): Promise<Answer>;
  /** POST /2018-06-01/runtime/invocation/{id}/{response|error} */
  post(requestId: string, what: 'response' | 'error', body?: string | Buffer, headers?: Record<string, string>): Promise<Answer>;
  /** POST /2020-01-01/extension/register */
  register(name: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** GET /2020-01-01/extension/event/next as the extension `id`. */
  eventNext(id: string): Promise<Answer>;
  /** Pids of the daemon's live descendants (the bootstrap, the extensions and their children). */
  descendants(): number[];
  /** Kills the daemon and every process it started; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A bash runtime (curl against the Runtime API) that runs `handle` for each invocation, with its
 * request id in $ID, and then answers "ok".
 */
export const bashRuntime = (handle: string): string => `
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
while true; do
  H=$(mktemp)
  curl -sS -D "$H" -o /dev/null "$API/next"
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$H"
  ${handle}
  curl -sS -XPOST "$API/$ID/response" -d '"ok"' >/dev/null
done`;

/** A port nobody listens on now: listen on 0, then close. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
}

/** Every process on the machine, from /proc (Linux). */
export function processTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // a zombie is already dead
      out.push({ pid: Number(name), ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Live descendants of `root`, and the members of their process groups (the daemon detaches its children). */
export function descendantsOf(root: number): number[] {
  const table = processTable();
  const found = new Set<number>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (found.has(p.pid)) continue;
      if (p.ppid === root || found.has(p.ppid) || found.has(p.pgid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** The pids still alive among `pids`, and any process in their groups. */
export function stillAlive(pids: number[]): number[] {
  const set = new Set(pids);
  return processTable().filter((p) => set.has(p.pid) || set.has(p.pgid)).map((p) => p.pid);
}

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** SIGSTOPs a process and waits until it is stopped (or gone). */
async function freeze(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    return;
  }
  for (let i = 0; i < 200; i++) {
    const state = procState(pid);
    if (state === undefined || state === 'T' || state === 't' || state === 'Z') return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function killGroupAndPid(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* not a group leader, or gone */
    }
  }
}

function httpCall(
  target: { socketPath: string } | { host: string; port: number },
  method: string,
  path: string,
  opts: RequestOptions,
  live: Set<ClientRequest>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (body !== undefined) headers['content-length'] = body.length;
    const req = request({ ...target, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        live.delete(req);
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, trailers: res.trailers, body: buf, text, json: () => JSON.parse(text) as unknown });
      });
    });
    live.add(req);
    req.on('error', (err) => {
      live.delete(req);
      reject(err);
    });
    req.on('close', () => live.delete(req));
    req.end(body);
  });
}

async function writeExtensions(dir: string, scripts: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(scripts)) {
    const file = join(dir, name);
    await writeFile(file, text);
    await chmod(file, 0o755);
  }
}

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-daemon-'));
  const extensionsDir = opts.extensionsDir ?? join(dir, 'extensions');
  if (!opts.extensionsDir && opts.extensions) await writeExtensions(extensionsDir, opts.extensions);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const sock = join(dir, LISTENER_NAME);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // mktemp in the fixtures' scripts lands here, and goes with the dir.
    TMPDIR: dir,
    FN_LISTENER: `unix:${sock}`,
    [DAEMON_ENV.apiAddress]: address,
    [DAEMON_ENV.extensionsDir]: extensionsDir,
    [DAEMON_ENV.command]: JSON.stringify(opts.command ?? ['sleep', '1000']),
    AWS_LAMBDA_FUNCTION_NAME: opts.functionName ?? 'daemon-test',
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(opts.timeoutSec ?? 30),
    [DAEMON_ENV.initTimeoutMs]: String(opts.initTimeoutMs ?? INIT_TIMEOUT_MS),
    [DAEMON_ENV.shutdownMs]: String(opts.shutdownMs ?? DAEMON_SHUTDOWN_MS),
    ...(opts.headersTimeoutMs !== undefined && { [DAEMON_ENV.headersTimeoutMs]: String(opts.headersTimeoutMs) }),
    ...opts.env,
  };
  const child = spawn(process.execPath, [DAEMON], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of [...listeners]) l();
  };
  const stdout: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(d));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = (once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>).then(([code, signal]) => {
    for (const l of [...listeners]) l();
    return { code, signal };
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const live = new Set<ClientRequest>();
  /** Requests are tracked (destroyed at stop) and never an unhandled rejection when left pending. */
  const tracked = (p: Promise<Answer>): Promise<Answer> => {
    p.catch(() => {});
    return p;
  };
  const api = (method: string, path: string, o: RequestOptions = {}) => tracked(httpCall({ host: '127.0.0.1', port }, method, path, o, live));
  const socket = (method: string, path: string, o: RequestOptions = {}) => tracked(httpCall({ socketPath: sock }, method, path, o, live));
  /** Descendants seen while the daemon ran: killed at stop even if they were orphaned meanwhile. */
  const seen = new Set<number>();
  const descendants = () => {
    if (child.pid === undefined) return [];
    const d = descendantsOf(child.pid);
    for (const p of d) seen.add(p);
    return d;
  };

  const waitForOutput = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(out)) done(undefined);
        else if (gone) done(new Error(`daemon exited before output matched ${pattern}:\n${out}`));
      };
      const timer = setTimeout(() => done(new Error(`output did not match ${pattern} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const done = (err: Error | undefined) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (err) reject(err);
        else resolve();
      };
      listeners.add(check);
      check();
    });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Stopped first, so it cannot start a process between the snapshot and the kill.
    if (!gone && child.pid !== undefined) await freeze(child.pid);
    const pids = [...new Set([...descendants(), ...seen])];
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
    for (const pid of pids) killGroupAndPid(pid);
    for (const req of live) req.destroy();
    live.clear();
    await rm(dir, { recursive: true, force: true });
  };

  const d: Daemon = {
    dir, port, address, extensionsDir, child, exited, api, socket, descendants, stop, waitForOutput,
    output: () => out,
    stdout: () => Buffer.concat(stdout),
    call: (body = '{}', headers = {}) => socket('POST', '/call', { body, headers }),
    idle: () => socket('GET', IDLE_PATH),
    shutdown: (reason = 'spindown') => socket('POST', `${SHUTDOWN_PATH}?${SHUTDOWN_REASON_PARAM}=${encodeURIComponent(reason)}`),
    next: () => api('GET', '/2018-06-01/runtime/invocation/next'),
    post: (id, what, body = '{}', headers = {}) => api('POST', `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/${what}`, { body, headers }),
    register: (name, body = { events: ['INVOKE'] }, headers = {}) =>
      api('POST', '/2020-01-01/extension/register', {
        headers: { ...(name !== undefined && { 'lambda-extension-name': name }), ...headers },
        body: JSON.stringify(body),
      }),
    eventNext: (id) => api('GET', '/2020-01-01/extension/event/next', { headers: { 'lambda-extension-identifier': id } }),
  };

  // Ready when lsnr.sock appears (the daemon links it once it accepts).
  const deadline = Date.now() + 10_000;
  while (!existsSync(sock)) {
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`the daemon did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return d;
}

/** Runs `fn` with a fresh daemon; prints its output when `fn` fails; always stops it. */
export async function withDaemon(opts: DaemonOptions, fn: (d: Daemon) => Promise<void>): Promise<void> {
  const d = await startDaemon(opts);
  try {
    await fn(d);
  } catch (err) {
    process.stderr.write(`--- daemon output ---\n${d.output()}\n---\n`);
    throw err;
  } finally {
    await d.stop();
  }
}

// ---- assertions and steps shared by the daemon tests ----------------------------------

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON in tests
export type Json = Record<string, any>;

/** The Lambda APIs' error answer: this status, this errorType, a `{errorMessage, errorType}` JSON body. */
export function assertApiError(a: Answer, status: number, errorType: string): void {
  assert.equal(a.status, status, `status (body ${a.text})`);
  assert.match(String(a.headers['content-type']), /^application\/json/);
  const body = a.json() as Json;
  assert.deepEqual(Object.keys(body).sort(), ['errorMessage', 'errorType'], a.text);
  assert.equal(body.errorType, errorType, a.text);
  assert.equal(typeof body.errorMessage, 'string');
  assert.ok(body.errorMessage.length > 0);
}

export function assertAccepted(a: Answer): void {
  assert.equal(a.status, 202, a.text);
  assert.deepEqual(a.json(), { status: 'OK' });
}

/** The caller's failure answer: status, X-Amz-Function-Error, `{errorType, errorMessage}`. */
export function assertFailure(a: Answer, status: number, errorType: string): Json {
  assert.equal(a.status, status, `status (body ${a.text})`);
  assert.ok(a.headers['x-amz-function-error'], 'X-Amz-Function-Error is set');
  const body = a.json() as Json;
  assert.equal(body.errorType, errorType, a.text);
  return body;
}

export interface Invocation {
  id: string;
  event: Answer;
  answer: Promise<Answer>;
}

/** The test as the runtime: parks in next, sends a call, returns the event it received. */
export async function invoke(d: Daemon, headers: Record<string, string> = {}, body = '{"a":1}'): Promise<Invocation> {
  const next = d.next();
  const answer = d.call(body, headers);
  const event = await next;
  assert.equal(event.status, 200, event.text);
  const id = String(event.headers['lambda-runtime-aws-request-id']);
  return { id, event, answer };
}

/**
 * Resolves once a process not in `before` runs under the daemon: after a reset, the re-init's
 * new runtime. Only then is a `next` (or a registration) the new generation's, not the old's.
 */
export async function newGeneration(d: Daemon, before: number[]): Promise<void> {
  const t0 = Date.now();
  while (!d.descendants().some((pid) => !before.includes(pid))) {
    if (Date.now() - t0 > 10_000) throw new Error('no new process under the daemon within 10 s');
    await sleep(20);
  }
}

/** One full invoke, so init is certainly over; the runtime is left Ready in a fresh next. */
export async function warm(d: Daemon): Promise<void> {
  const inv = await invoke(d, { 'fn-call-id': 'warm' });
  assertAccepted(await d.post(inv.id, 'response', '"ok"'));
  assert.equal((await inv.answer).status, 200);
  void d.next();
  await d.idle();
}

export const register = async (d: Daemon, name: string, events: string[] = []): Promise<string> => {
  const a = await d.register(name, { events });
  assert.equal(a.status, 200, a.text);
  return String(a.headers['lambda-extension-identifier']);
};

/** A Telemetry or Logs API destination on 127.0.0.1: keeps each delivered batch (a JSON array). */
export interface Sink {
  port: number;
  /** The batches in arrival order, each with the request's method and content type. */
  batches: { method: string; contentType: string; events: Json[] }[];
  events(): Json[];
  /** Resolves once an event of this type has arrived (rejects after timeoutMs). */
  waitFor(type: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Listens on `port` when given (a destination that comes up late), else on a free one. */
export async function startSink(port?: number): Promise<Sink> {
  const batches: Sink['batches'] = [];
  const server = createHttpServer((req, res) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => {
      batches.push({ method: req.method ?? '', contentType: String(req.headers['content-type']), events: JSON.parse(s) as Json[] });
      res.end();
    });
  });
  const at = port ?? (await freePort());
  server.listen(at, '127.0.0.1');
  await once(server, 'listening');
  const events = () => batches.flatMap((b) => b.events);
  return {
    port: at, batches, events,
    waitFor: (type, timeoutMs) => waitForEvent(events, type, timeoutMs),
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Resolves once `ok()` holds; rejects with `why()` after timeoutMs. */
export async function until(ok: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${why()} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once `events()` holds an event of this type (rejects after timeoutMs). */
const waitForEvent = (events: () => Json[], type: string, timeoutMs = 5000): Promise<void> =>
  until(() => events().some((e) => e.type === type), timeoutMs, () => `no ${type}; got ${events().map((e) => String(e.type)).join(', ')};`);

/** A TCP destination on 127.0.0.1: keeps what each connection sent, as NDJSON lines. */
export interface TcpSink {
  port: number;
  /** What each accepted connection has sent so far, in accept order. */
  received: string[];
  /** The accepted connections, live or ended. */
  sockets: Socket[];
  /** Every complete line, parsed, in arrival order (connection by connection). */
  events(): Json[];
  waitFor(type: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Listens on `port` when given (a destination that comes up late), else on a free one. */
export async function startTcpSink(port?: number): Promise<TcpSink> {
  const received: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    const i = received.push('') - 1;
    sockets.push(sock);
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => (received[i] += s));
    sock.on('error', () => {});
  });
  const at = port ?? (await freePort());
  server.listen(at, '127.0.0.1');
  await once(server, 'listening');
  // A line counts once its newline has arrived; each must be one whole JSON value.
  const events = () => received.flatMap((r) => r.split('\n').slice(0, -1).map((line) => JSON.parse(line) as Json));
  return {
    port: at, received, sockets, events,
    waitFor: (type, timeoutMs) => waitForEvent(events, type, timeoutMs),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `fn` with a fresh TCP sink; always closes it. */
export async function withTcpSink(fn: (sink: TcpSink) => Promise<void>): Promise<void> {
  const sink = await startTcpSink();
  try {
    await fn(sink);
  } finally {
    await sink.close();
  }
}

/**
 * Ends a runtime's streamed /response with `last` and reads the caller's answer to its end:
 * resolves with what the caller received from now on, once the runtime got its 202.
 */
export async function finishStream(runtime: ClientRequest, acked: Promise<[IncomingMessage]>, caller: IncomingMessage, last: string): Promise<string> {
  let rest = '';
  caller.on('data', (c: Buffer) => (rest += c.toString()));
  const ended = once(caller, 'end');
  runtime.end(last);
  await ended;
  const [ack] = await acked;
  assert.equal(ack.statusCode, 202);
  ack.resume();
  return rest;
}

/** Runs `fn` with a fresh sink; always closes it. */
export async function withSink(fn: (sink: Sink) => Promise<void>): Promise<void> {
  const sink = await startSink();
  try {
    await fn(sink);
  } finally {
    sink.close();
  }
}

/** PUT /2022-07-01/telemetry as the extension `id`, to 127.0.0.1:port; asserts the 200. */
export async function subscribeTelemetry(d: Daemon, id: string, port: number, types: string[] = ['platform']): Promise<void> {
  const a = await d.api('PUT', '/2022-07-01/telemetry', {
    headers: { 'lambda-extension-identifier': id },
    body: JSON.stringify({
      schemaVersion: '2022-12-13', types, buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
      destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${port}/` },
    }),
  });
  assert.equal(a.status, 200, a.text);
}
