// A container engine that runs no containers and misbehaves when told to: a stand-in Driver
// for the real Agent, HotContainer, SlotPool and socket directories. Each "container" is an
// HTTP server in this process on its socket directory's phonylsnr.sock, linked as lsnr.sock,
// as a function's FDK does (DESIGN.md §5); it answers POST /call with 200 and a small JSON body
// naming itself. Removals can be made to fail, listeners to close, and the sweep is counted.
import { chmod, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { OutgoingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import { Agent, type AgentConfig } from '../../agent/agent.js';
import type { ResponseTarget } from '../../agent/relay.js';
import type {
  ContainerTask, Cookie, Driver, ImageConfig, Leftovers, RunResult, WaitResult,
} from '../../drivers/contract.js';
import type { App, Call, CallStore, Fn, Page, PageQuery } from '../../store/types.js';

/** How one stand-in container behaves. */
export interface Behaviour {
  /** Wait this long before answering each call (ms). */
  answerDelayMs?: number;
  /**
   * Stop listening after this many calls (its answer says `Connection: close`), as a function
   * process that died while its container was thought idle: the next connection is refused.
   */
  stopListeningAfter?: number;
  /** Read each call whole, then drop the connection unanswered (a server whose handler died; the process lives). */
  dropAfterReading?: boolean;
  /** Run once it listens, just before it links lsnr.sock (to make the host short of something then). */
  beforeLink?: () => void | Promise<void>;
}

/** What /call answers: which container took the call, and its how-manieth call it was. */
export interface StandInAnswer {
  container: string;
  call: number;
}

const MiB = 1024 * 1024;
/** The socket the stand-in binds; lsnr.sock links to it. */
const PHONY = 'phonylsnr.sock';

export class StandInContainer implements Cookie {
  state: 'created' | 'running' | 'removed' = 'created';
  /** When each removal was asked of the engine (Date.now()), failed or not. */
  readonly removalAttempts: number[] = [];
  /** Calls answered. */
  calls = 0;
  /** What an unfreeze does (a hung engine never settles); unset: it succeeds at once. */
  onUnfreeze: (() => Promise<void>) | undefined;
  /** What a freeze does; unset: it succeeds at once. */
  onFreeze: (() => Promise<void>) | undefined;
  private server: Server | undefined;
  private closing: Promise<void> | undefined;
  private readonly exit: Promise<RunResult>;
  private exited!: (r: RunResult) => void;

  constructor(readonly task: ContainerTask, private readonly engine: StandInEngine, private readonly behaviour: Behaviour) {
    this.exit = new Promise((resolve) => (this.exited = resolve));
  }

  get id(): string {
    return this.task.id;
  }

  /** The fn this container runs (from its labels). */
  get fnId(): string | undefined {
    return this.task.labels[FN_LABEL];
  }

  async run(): Promise<WaitResult> {
    // Heads up to 1 MiB, as Go's servers take: a large head is read, not refused.
    const server = createServer({ maxHeaderSize: MiB }, (req, res) => {
      if (req.method !== 'POST' || req.url !== '/call') {
        res.writeHead(404).end();
        return;
      }
      req.resume();
      req.on('end', () => {
        const n = ++this.calls;
        if (this.behaviour.dropAfterReading) {
          req.socket.destroy();
          return;
        }
        const last = this.behaviour.stopListeningAfter !== undefined && n >= this.behaviour.stopListeningAfter;
        const answer = () => {
          const body = JSON.stringify({ container: this.id, call: n } satisfies StandInAnswer);
          const headers: OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
          if (last) headers.connection = 'close';
          res.writeHead(200, headers);
          res.end(body);
          // The listener goes; the agent's next connection is refused.
          if (last) server.close();
        };
        if (this.behaviour.answerDelayMs) setTimeout(answer, this.behaviour.answerDelayMs);
        else answer();
      });
    });
    this.server = server;
    const sock = join(this.task.udsPath, PHONY);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, () => resolve());
    });
    await chmod(sock, 0o666);
    await this.behaviour.beforeLink?.();
    await symlink(PHONY, join(this.task.udsPath, 'lsnr.sock'));
    this.state = 'running';
    return {
      wait: (signal?: AbortSignal) =>
        new Promise<RunResult>((resolve) => {
          void this.exit.then(resolve);
          signal?.addEventListener('abort', () => resolve({ status: 'cancelled' }), { once: true });
        }),
    };
  }

  /** The engine restarted under it (live-restore): its output stream ended, it runs on. */
  loseOutput(): void {
    this.task.outputLost?.();
  }

  async freeze(): Promise<void> {
    await this.onFreeze?.();
  }
  async unfreeze(): Promise<void> {
    await this.onUnfreeze?.();
  }
  setStatsEnabled(): void {}
  containerOptions(): unknown {
    return {};
  }

  /** Kills and removes it, unless the engine's onRemove throws: then the next close() asks again (as DockerCookie). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.state === 'removed') return;
      this.removalAttempts.push(Date.now());
      await this.engine.onRemove?.(this, this.removalAttempts.length);
      this.kill();
    })().catch((err: unknown) => {
      this.closing = undefined;
      throw err;
    });
    return this.closing;
  }

  /** Gone, whatever the engine's mood (close() when it succeeds, the sweep, the test's end). */
  kill(): void {
    if (this.state === 'removed') return;
    this.state = 'removed';
    this.server?.close();
    this.server?.closeAllConnections();
    this.exited({ status: 'killed', error: new Error('container removed') });
  }
}

export const NODE_LABEL = 'io.kiln.node';
export const APP_LABEL = 'io.kiln.app';
export const FN_LABEL = 'io.kiln.fn';

export class StandInEngine implements Driver {
  /** Every container created, in order. */
  readonly containers: StandInContainer[] = [];
  /** Each removeLeftovers(): when, which containers `keep` did not name, and which of them it found still there. */
  readonly sweeps: { at: number; asked: string[]; removed: string[] }[] = [];
  /** Awaited by removeLeftovers between the list and asking `keep` (the engine's answer on its way). */
  onList: ((listed: readonly StandInContainer[]) => Promise<void>) | undefined;
  /** Asked at every removal attempt (the first is 1); throwing, or rejecting, fails it. */
  onRemove: ((c: StandInContainer, attempt: number) => void | Promise<void>) | undefined;
  /** How the next container behaves; `index` counts containers from 0. */
  behaviour: (task: ContainerTask, index: number) => Behaviour = () => ({});
  /** The Driver's optional list of CPUs other nodes pinned (unset: the engine has none to tell). */
  cpusPinnedElsewhere: (() => Promise<number[]>) | undefined;

  constructor(readonly nodeId = 'stand-in') {}

  labelsFor(appId: string, fnId: string): Record<string, string> {
    return { [NODE_LABEL]: this.nodeId, [APP_LABEL]: appId, [FN_LABEL]: fnId };
  }

  /** The containers of one fn, in order of creation. */
  of(fnId: string): StandInContainer[] {
    return this.containers.filter((c) => c.fnId === fnId);
  }

  async createCookie(task: ContainerTask): Promise<Cookie> {
    const c = new StandInContainer(task, this, this.behaviour(task, this.containers.length));
    this.containers.push(c);
    return c;
  }

  async imageConfig(): Promise<ImageConfig> {
    return { entrypoint: ['/bin/fn'], cmd: [], workingDir: '/', env: {} };
  }

  async prepareCookie(): Promise<void> {}

  /**
   * The sweep by label: whatever is not removed yet goes, however removals have been failing.
   * As the engine's, `keep` is asked once the list is in (after `onList`, when set), and one
   * removed meanwhile is no removal of the sweep's.
   */
  async removeLeftovers(keep?: (id: string) => boolean): Promise<Leftovers> {
    const listed = this.containers.filter((c) => c.state !== 'removed');
    await this.onList?.(listed);
    const asked = listed.filter((c) => !keep?.(c.id));
    const left = asked.filter((c) => c.state !== 'removed');
    for (const c of left) c.kill();
    this.sweeps.push({ at: Date.now(), asked: asked.map((c) => c.id), removed: left.map((c) => c.id) });
    return { removed: left.map((c) => c.id), socketDirs: left.map((c) => c.task.udsPath) };
  }

  /** The host paths of the containers not removed yet: socket directories, binds, hosts files. */
  async mountedHostPaths(): Promise<string[]> {
    return this.containers
      .filter((c) => c.state !== 'removed')
      .flatMap((c) => [c.task.udsPath, ...Object.keys(c.task.readOnlyBinds ?? {}), ...(c.task.hostsFile !== undefined ? [c.task.hostsFile] : [])]);
  }

  watchImages(): () => void {
    return () => {};
  }

  /** Ends every container still running (the test's clean-up; not counted as a sweep). */
  async close(): Promise<void> {
    for (const c of this.containers) c.kill();
  }
}

/** The calls the agent records, kept in memory. */
export class MemoryCallStore implements CallStore {
  readonly calls = new Map<string, Call>();
  readonly logs = new Map<string, string>();

  async insertCall(call: Call): Promise<void> {
    this.calls.set(call.id, call);
  }
  async insertCalls(records: readonly { call: Call; log: string }[]): Promise<void> {
    for (const r of records) {
      this.calls.set(r.call.id, r.call);
      this.logs.set(r.call.id, r.log);
    }
  }
  async updateCall(call: Call): Promise<void> {
    this.calls.set(call.id, call);
  }
  async getCall(_fnId: string, callId: string): Promise<Call> {
    const c = this.calls.get(callId);
    if (!c) throw new Error(`no call ${callId}`);
    return c;
  }
  async listCalls(q: PageQuery & { fnId: string }): Promise<Page<Call>> {
    return { items: [...this.calls.values()].filter((c) => c.fn_id === q.fnId).reverse().slice(0, q.perPage) };
  }
  async insertLog(_fnId: string, callId: string, log: string): Promise<void> {
    this.logs.set(callId, log);
  }
  async getLog(_fnId: string, callId: string): Promise<string> {
    return this.logs.get(callId) ?? '';
  }
}

/** A call's answer, kept whole (the stand-in's answers are small text). */
export class Answer implements ResponseTarget {
  status = 0;
  destroyed = false;
  private text = '';

  get headersSent(): boolean {
    return this.status !== 0;
  }
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  write(chunk: Buffer): boolean {
    this.text += chunk.toString('utf8');
    return true;
  }
  end(chunk?: Buffer): void {
    if (chunk) this.write(chunk);
  }
  destroy(): void {
    this.destroyed = true;
  }
  // Writes never wait: nobody listens.
  once(): void {}
  removeListener(): void {}

  json(): StandInAnswer {
    return JSON.parse(this.text) as StandInAnswer;
  }
}

export interface StandInWorld {
  agent: Agent;
  engine: StandInEngine;
  store: MemoryCallStore;
  app: App;
  /** A fn of the world's app (128 MB, idle_timeout 60 s unless `fields` say otherwise). */
  fn(name: string, fields?: Partial<Fn>): Fn;
  /** Invokes `fn` once; resolves with its answer, or rejects with the agent's error. */
  invoke(fn: Fn, callId?: string, headers?: Record<string, string>): Promise<Answer>;
  /** agent.shutdown(), once however often asked. */
  shutdown(): Promise<void>;
  /** What the agent logged at warn and above, as pino wrote it. */
  logged: { level: number; msg: string; container?: string; err?: { message: string } }[];
}

/**
 * The real Agent on a stand-in engine, with a logger that keeps what it is given and an in-memory call store.
 * `capacityMb` is the memory the agent may give containers.
 */
export function standInWorld(iofsPath: string, opts: { capacityMb: number; config?: Partial<AgentConfig>; engine?: StandInEngine }): StandInWorld {
  const engine = opts.engine ?? new StandInEngine();
  const logged: StandInWorld['logged'] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as StandInWorld['logged'][number]) });
  const store = new MemoryCallStore();
  let ids = 0;
  const newId = () => `01standin${String(++ids).padStart(8, '0')}`;
  const agent = new Agent(
    {
      iofsPath,
      nodeId: engine.nodeId,
      freezeIdleMs: 50,
      startTimeoutMs: 5000,
      maxResponseBytes: 6 * MiB,
      maxStreamedResponseBytes: 20 * MiB,
      maxLogBytes: MiB,
      maxQueueMs: 2000,
      capacity: { memoryBytes: opts.capacityMb * MiB, cpuMilli: 4000 },
      networks: [],
      allowedNetworks: [],
      shutdownGraceMs: 5000,
      ...opts.config,
    },
    { driver: engine, store, log, newId, labelsFor: (appId, fnId) => engine.labelsFor(appId, fnId) },
  );
  let stopped: Promise<void> | undefined;
  const now = new Date().toISOString();
  const app: App = { id: 'app-standin', name: 'standin', config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: now, updated_at: now };
  return {
    agent,
    engine,
    store,
    app,
    fn: (name, fields = {}) => ({
      id: `fn-${name}`, name, app_id: app.id, image: `standin/${name}:1`, memory: 128, timeout: 30, idle_timeout: 60,
      format: 'http-stream', config: {}, annotations: {}, created_at: now, updated_at: now, ...fields,
    }),
    invoke: async (fn, callId = newId(), headers = {}) => {
      const answer = new Answer();
      await agent.invoke({ app, fn, callId, headers, body: Buffer.from('{}'), signal: new AbortController().signal }, answer);
      return answer;
    },
    shutdown: () => (stopped ??= agent.shutdown()),
    logged,
  };
}
