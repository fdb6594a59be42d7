// One hot container: started once, then handed one call at a time over its unix socket.
// States: starting → busy ⇄ idle (→ frozen after FN_FREEZE_IDLE_MSECS) → closed.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Client } from 'undici';
import type { Cookie, Driver, RunResult, Stat } from '../drivers/contract.js';
import { AgentError } from './errors.js';
import { deadlineFrom, toCallerResponse, toContainerHeaders, type Headers } from './headers.js';
import { makeSocketDir, type SocketDir } from './iofs.js';
import { LogBuffer } from './log-buffer.js';

/** Where a call's answer goes: a node ServerResponse, or a sink for detached calls. */
export interface ResponseTarget {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  destroy(err?: Error): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Waits until the caller's connection drains. Bounded by the call's signal (timeout or
 * cancel), so a caller that stops reading cannot hold the container past the fn's timeout.
 */
function drained(res: ResponseTarget, signal: AbortSignal): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('caller connection closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      res.removeListener('drain', onDrain);
      res.removeListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('caller connection closed'));
    const onAbort = () => done(new Error('aborted while the caller was not reading'));
    if (signal.aborted) return onAbort();
    res.once('drain', onDrain);
    res.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ContainerSpec {
  id: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  memoryMb: number;
  cpusMilli: number;
  idleTimeoutMs: number;
  network?: string;
  readOnlyBinds?: Record<string, string>;
}

export interface ContainerDeps {
  driver: Driver;
  iofsPath: string;
  startTimeoutMs: number;
  freezeIdleMs: number;
  maxLogBytes: number;
  maxResponseBytes: number;
}

export interface CallInput {
  callId: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  gateway?: { method: string; url: string };
  timeoutMs: number;
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
}

export interface CallDone {
  /** What the call is recorded as. */
  status: 'success' | 'error' | 'timeout' | 'cancelled';
  error?: string;
  /** Set when nothing (or not all) reached the caller: the answer to give, if one can still be given. */
  failure?: AgentError;
  /** Can the container take another call? */
  reusable: boolean;
  /** Still filling: output can arrive just after the answer, and is read when the call is stored. */
  log: LogBuffer;
  stats: Stat[];
}

/** Below this, and up to the response limit, an answer is buffered and sent with its length. */
const RESPONSE_WINDOW = 64 * 1024;

/** Drops a response body we will not read; its abort error has nowhere to go. */
function discard(body: { destroy(): void; on(event: 'error', l: () => void): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

const tail = (text: string, n = 512): string => (text.length > n ? `…${text.slice(-n)}` : text).trim();

export class HotContainer {
  state: 'starting' | 'busy' | 'idle' | 'frozen' | 'closed' = 'starting';
  lastUsed = Date.now();
  /** Resolves when the container stops, however that happens. */
  readonly exited: Promise<RunResult>;
  private readonly client: Client;
  private current: { log: LogBuffer; stats: Stat[] } | undefined;
  /** The last call's log, which takes output written after its answer until the next call. */
  private lastLog: LogBuffer | undefined;
  private freezeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private freezing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Per-call listeners for the container's exit (not promise reactions, which would pile up). */
  private readonly exitListeners = new Set<() => void>();

  private constructor(
    readonly spec: ContainerSpec,
    private readonly deps: ContainerDeps,
    private readonly cookie: Cookie,
    private readonly dir: SocketDir,
    exited: Promise<RunResult>,
    private readonly initLog: LogBuffer,
  ) {
    this.exited = exited;
    void exited.then(() => {
      for (const l of this.exitListeners) l();
    });
    // One connection, one request at a time. Idle connections are dropped after 1 s, as Fn
    // does, because some FDKs silently drop kept-alive connections.
    this.client = new Client('http://localhost', {
      socketPath: dir.socketPath,
      pipelining: 1,
      keepAliveTimeout: 1000,
      keepAliveMaxTimeout: 1000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Creates, starts and waits for the container's socket; cleans up fully on failure. */
  static async start(spec: ContainerSpec, deps: ContainerDeps, signal: AbortSignal): Promise<HotContainer> {
    const dir = await makeSocketDir(deps.iofsPath);
    const initLog = new LogBuffer(16 * 1024);
    let target: HotContainer | undefined;
    const route = (chunk: Buffer) => {
      if (!target) initLog.write(chunk);
      else (target.current?.log ?? target.lastLog)?.write(chunk);
    };
    const stats = (s: Stat) => target?.current?.stats.push(s);
    let cookie: Cookie | undefined;
    try {
      cookie = await deps.driver.createCookie({
        id: spec.id,
        image: spec.image,
        env: spec.env,
        labels: spec.labels,
        memoryMb: spec.memoryMb,
        cpusMilli: spec.cpusMilli,
        tmpfsMb: 0,
        udsPath: dir.path,
        ...(spec.network !== undefined && { network: spec.network }),
        ...(spec.readOnlyBinds !== undefined && { readOnlyBinds: spec.readOnlyBinds }),
        logger: { stdout: { write: route }, stderr: { write: route } },
        writeStat: stats,
      });
      await deps.driver.prepareCookie(cookie, signal);
      const waiter = await cookie.run(signal);
      const exited = waiter.wait();
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const outcome = await Promise.race([
        dir.ready.then(() => 'ready' as const),
        exited,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), deps.startTimeoutMs);
        }),
        new Promise<'aborted'>((resolve) => {
          onAbort = () => resolve('aborted');
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]).finally(() => {
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener('abort', onAbort);
      });
      if (outcome === 'timeout') {
        throw new AgentError('start-timeout', `Container did not become ready within ${deps.startTimeoutMs} ms`);
      }
      if (outcome === 'aborted') throw new AgentError('cancelled', 'cancelled while the container was starting');
      if (outcome !== 'ready') {
        const why = outcome.oomKilled ? 'ran out of memory' : `exited with code ${outcome.exitCode ?? '?'}`;
        const out = tail(initLog.toString());
        throw new AgentError('init-failed', `Container failed to initialize: ${why}${out ? `: ${out}` : ''}`);
      }
      target = new HotContainer(spec, deps, cookie, dir, exited, initLog);
      target.state = 'busy';
      return target;
    } catch (err) {
      dir.stopWatching();
      await cookie?.close().catch(() => {});
      await dir.remove().catch(() => {});
      throw err;
    }
  }

  /** Takes the container out of idle (unpausing it if frozen) for a call. */
  async activate(): Promise<void> {
    clearTimeout(this.freezeTimer);
    clearTimeout(this.idleTimer);
    this.state = 'busy';
    if (this.freezing) {
      const f = this.freezing;
      this.freezing = undefined;
      await f;
      await this.cookie.unfreeze();
    }
  }

  /** Back to idle: freeze after a while, retire after the fn's idle_timeout. */
  park(onIdleTimeout: () => void): void {
    this.state = 'idle';
    this.lastUsed = Date.now();
    if (this.deps.freezeIdleMs >= 0) {
      this.freezeTimer = setTimeout(() => {
        if (this.state !== 'idle') return;
        this.state = 'frozen';
        this.freezing = this.cookie.freeze();
        this.freezing.catch(() => {});
      }, this.deps.freezeIdleMs);
    }
    this.idleTimer = setTimeout(onIdleTimeout, this.spec.idleTimeoutMs);
  }

  async execute(input: CallInput, res: ResponseTarget): Promise<CallDone> {
    const call = { log: new LogBuffer(this.deps.maxLogBytes), stats: [] as Stat[] };
    this.current = call;
    this.cookie.setStatsEnabled(true);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort('timeout'), input.timeoutMs);
    const onCancel = () => ac.abort('cancelled');
    // The caller may have gone while the container was being unfrozen.
    if (input.signal.aborted) onCancel();
    else input.signal.addEventListener('abort', onCancel, { once: true });
    const onExit = () => ac.abort('exited');
    this.exitListeners.add(onExit);
    const finish = (d: Omit<CallDone, 'log' | 'stats'>): CallDone => ({ ...d, log: call.log, stats: call.stats });
    const fail = (failure: AgentError, status: CallDone['status'] = 'error'): CallDone =>
      finish({ status, error: failure.message, failure, reusable: false });
    try {
      const r = await this.client.request({
        path: '/call',
        method: 'POST',
        headers: toContainerHeaders(input.headers, {
          callId: input.callId,
          deadline: deadlineFrom(Date.now(), input.timeoutMs),
          ...(input.gateway && { gateway: input.gateway }),
        }, input.body.length),
        body: input.body,
        signal: ac.signal,
      });
      const status = r.statusCode;
      if (status !== 200 && status !== 502 && status !== 504) {
        discard(r.body);
        return fail(new AgentError('invalid-response', `invalid function response: status ${status}`));
      }
      // 502 and 504 are the function's own error answers: passed on, the container kept.
      const mapped = status === 200
        ? toCallerResponse(r.headers as Headers, input.gateway !== undefined)
        : { status, headers: (r.headers['content-type'] ? { 'content-type': r.headers['content-type'] } : {}) as Headers };
      // The declared length is read before mapping, which drops it as a per-hop header.
      const declared = Number(r.headers['content-length']);
      await this.relay(r.body, mapped.status, mapped.headers, Number.isFinite(declared) ? declared : undefined, res, ac.signal);
      if (status === 200) return finish({ status: 'success', reusable: true });
      return finish({
        status: status === 504 ? 'timeout' : 'error', reusable: true, error: `function answered ${status}`,
      });
    } catch (err) {
      const reason: unknown = ac.signal.reason;
      if (reason === 'timeout') return fail(new AgentError('timeout', 'Timed out'), 'timeout');
      if (reason === 'cancelled') return fail(new AgentError('cancelled', 'client disconnected'), 'cancelled');
      if (err instanceof AgentError) return fail(err);
      // The connection broke: the container died (out of memory?) or dropped it.
      const exit = await Promise.race([this.exited, new Promise<undefined>((r) => setTimeout(r, 1000, undefined))]);
      const why = exit?.oomKilled ? 'out of memory' : exit ? `container exited with code ${exit.exitCode}` : (err as Error).message;
      return fail(new AgentError('function-failed', `error receiving function response: ${why}`, { cause: err }));
    } finally {
      clearTimeout(timer);
      input.signal.removeEventListener('abort', onCancel);
      this.exitListeners.delete(onExit);
      this.cookie.setStatsEnabled(false);
      this.current = undefined;
      this.lastLog = call.log;
    }
  }

  /**
   * Streams the container's answer to the caller. Answers that fit the window are sent whole
   * with their length; a longer one streams, and one over the limit is cut (502 if nothing
   * was sent yet).
   */
  private async relay(
    body: AsyncIterable<Buffer> & { destroy(): void; on(event: 'error', l: () => void): unknown }, status: number, headers: Headers,
    declared: number | undefined, res: ResponseTarget, signal: AbortSignal,
  ): Promise<void> {
    const max = this.deps.maxResponseBytes;
    if (max > 0 && declared !== undefined && declared > max) {
      discard(body);
      throw new AgentError('response-too-large', `function response body too large: ${declared} > max ${max} bytes`);
    }
    const window = max > 0 ? Math.min(RESPONSE_WINDOW, max + 1) : RESPONSE_WINDOW;
    const pending: Buffer[] = [];
    let size = 0;
    let streaming = false;
    for await (const chunk of body) {
      size += chunk.length;
      if (max > 0 && size > max) {
        discard(body);
        const err = new AgentError('response-too-large', `function response body too large: over ${max} bytes`);
        if (streaming) res.destroy(err);
        throw err;
      }
      if (!streaming) {
        pending.push(chunk);
        if (size < window) continue;
        streaming = true;
        res.writeHead(status, headers);
        for (const p of pending.splice(0)) res.write(p);
        continue;
      }
      if (!res.write(chunk)) await drained(res, signal);
    }
    if (!streaming) {
      // Headers and body in one write.
      res.writeHead(status, { ...headers, 'content-length': String(size) });
      res.end(pending.length === 1 ? pending[0]! : Buffer.concat(pending, size));
      return;
    }
    res.end();
  }

  /** Kills and removes the container and its socket directory; safe to call again. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'closed';
      clearTimeout(this.freezeTimer);
      clearTimeout(this.idleTimer);
      await this.client.destroy().catch(() => {});
      await this.cookie.close().catch(() => {});
      await this.dir.remove().catch(() => {});
    })();
    return this.closing;
  }

  /** Output the container wrote before it was ready (for diagnosing start failures). */
  get startLog(): string {
    return this.initLog.toString();
  }
}
