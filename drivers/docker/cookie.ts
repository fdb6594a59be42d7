// One Docker container's life for the agent: run (attach, stats, start), wait, pause/unpause, remove.
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { Cookie, ContainerTask, RunResult, WaitResult } from '../contract.js';
import { ContainerRefusedError, DriverError, LogDestinationError, NetworkNotFoundError, NoCommandError } from '../errors.js';
import { coverImageVolumes } from './create-options.js';
import { limitRefusal } from './limit-refusal.js';
import { ENGINE_CALL_MS, engineCall, PAUSE_MS } from './engine-call.js';
import { toStat, type DockerStatsJson } from './stats.js';
import { AttachFrames } from './attach-frames.js';
import { exitOf, firstWait } from './container-wait.js';

/** How long the stats stream outlives the last call. */
const STATS_LINGER_MS = 2000;
/** At an exit the output stream ends first and the wait's answer comes just after: how long to give it. */
const EXIT_AFTER_OUTPUT_MS = 1000;

const statusCodeOf = (err: unknown): number | undefined => (err as { statusCode?: number } | null)?.statusCode;

/**
 * Whether the engine's refusal to create a container is about its syslog address: it names the
 * driver or the address, or is its check of the URL (`parse "URL"`). Kiln's other create options
 * are its own, so a 400 is rarely anything else. (The agent gives the engine only URLs that pass
 * Kiln's own checks, so this is the backstop for what those miss.)
 */
export function syslogRefusal(message: string, url: string): boolean {
  return /syslog|address/i.test(message) || message.includes(url) || /(^|- )parse "/.test(message);
}

export class DockerCookie implements Cookie {
  private container: Docker.Container | undefined;
  private statsStream: Readable | undefined;
  /** The attach's output stream: one connection to the engine, held until the container is removed. */
  private attachStream: Readable | undefined;
  private statsEnabled = false;
  private statsStarting = false;
  private statsStop: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  imageId: string | undefined;

  constructor(
    private readonly docker: Docker,
    readonly task: ContainerTask,
    private options: Docker.ContainerCreateOptions,
    /** Runs the removal in the driver's turn (networked containers go one at a time). */
    private readonly serializeRemoval?: <T>(remove: () => Promise<T>) => Promise<T>,
    /** How long the engine may take to answer a create, an attach, a start or a removal. */
    private readonly engineCallMs = ENGINE_CALL_MS,
    /** How long it may take to answer a pause or an unpause. */
    private readonly pauseMs = PAUSE_MS,
  ) {}

  /** One engine request, bounded (engine-call.ts); what the engine made meanwhile is this node's, not held: the agent's sweep takes it. */
  private engineCall<T>(what: string, call: (abortSignal: AbortSignal) => Promise<T>, signal?: AbortSignal, ms = this.engineCallMs): Promise<T> {
    return engineCall(`${what} for ${this.task.image}`, ms, call, signal);
  }

  containerOptions(): Docker.ContainerCreateOptions {
    return this.options;
  }

  /**
   * Called by the driver once the image is present, with the id its name resolved to and the
   * paths it declares volumes at (each gets a tmpfs, not a volume on the host's disk).
   */
  async create(imageId: string, imageVolumes: readonly string[] = [], signal?: AbortSignal): Promise<void> {
    this.imageId = imageId;
    this.options = coverImageVolumes(this.options, imageVolumes);
    try {
      this.container = await this.engineCall('creating container', (abortSignal) => this.docker.createContainer({ ...this.options, abortSignal }), signal);
    } catch (err) {
      if (err instanceof DriverError) throw err;
      // The engine checks the log options here: a syslog URL stored before Kiln checked them as
      // it does now (or by Fn) is the app's fault, not the engine's.
      const status = (err as { statusCode?: unknown }).statusCode;
      if (this.task.syslog && status === 400 && syslogRefusal((err as Error).message, this.task.syslog.url)) {
        throw new LogDestinationError((err as Error).message.replace(/^\(HTTP code 400\) bad parameter - /, '').trim(), { cause: err });
      }
      // The engine refusing the container as the fn configures it (memory under its 6 MB minimum):
      // permanent, not a busy engine to try again later. Only memory: other 400s are Kiln's own
      // setup (a bind source gone, say), the platform's fault, and say host paths.
      if (status === 400 && /memory/i.test((err as Error).message)) throw new ContainerRefusedError(this.task.memoryMb, (err as Error).message.replace(/^\(HTTP code 400\) [^-]*- /, '').trim(), { cause: err });
      // An image that says nothing to run: the fn's image to fix, every start alike.
      if (status === 400 && /no command specified/i.test((err as Error).message)) throw new NoCommandError(this.task.image, { cause: err });
      throw new DriverError(`creating container for ${this.task.image}: ${(err as Error).message}`, { cause: err });
    }
  }

  private get c(): Docker.Container {
    if (!this.container) throw new DriverError('container not created: prepareCookie first');
    return this.container;
  }

  async run(signal?: AbortSignal): Promise<WaitResult> {
    try {
      return await this.attachAndStart(signal);
    } catch (err) {
      // A start that failed after the attach: its connection to the engine would stay open for
      // good (the engine keeps an attach to a removed container open), one descriptor each.
      this.dropAttach();
      throw err;
    }
  }

  private dropAttach(): void {
    this.attachStream?.destroy();
    this.attachStream = undefined;
  }

  private async attachAndStart(signal?: AbortSignal): Promise<WaitResult> {
    const c = this.c;
    // Attach before start so no early output (say, why it failed to start) is lost.
    const stream = (await this.engineCall('attaching to container', (abortSignal) => c.attach({ stream: true, stdout: true, stderr: true, logs: false, abortSignal }), signal)) as unknown as Readable;
    this.attachStream = stream;
    const { stdout, stderr } = this.task.logger;
    const frames = new AttachFrames((n, bytes) => (n === 2 ? stderr : stdout).write(bytes));
    stream.on('data', (chunk: Buffer) => frames.push(chunk));
    stream.on('error', () => {});
    // Ask for the exit before starting, so a container that dies at once is still seen; the
    // engine must take that wait (bounded) or the start fails as the engine's, not the
    // container's. Once taken, a wait it breaks off or refuses (a dockerd restart) is asked again.
    const first = await this.engineCall('asking for the exit of container', (abortSignal) => firstWait(this.docker, c.id, abortSignal), signal).catch((err: unknown) => {
      if (err instanceof DriverError) throw err;
      throw new DriverError(`asking for the exit of container for ${this.task.image}: ${(err as Error).message}`, { cause: err });
    });
    const exited = exitOf(this.docker, c.id, first, () => this.closing !== undefined);
    let ended = false;
    exited.then(() => (ended = true), () => (ended = true));
    this.watchOutput(stream, () => ended);
    if (signal?.aborted) throw new DriverError('cancelled before start');
    try {
      await this.engineCall('starting container', (abortSignal) => c.start({ abortSignal }), signal);
    } catch (err) {
      if (err instanceof DriverError) throw err;
      const detail = (err as Error).message;
      // The engine's words when the syslog driver cannot reach its address.
      if (this.task.syslog && /failed to initialize logging driver/i.test(detail)) {
        throw new LogDestinationError(detail.replace(/^.*?(failed to initialize logging driver)/is, '$1').trim(), { cause: err });
      }
      // ... and when the network to join is not there (404 "network x not found").
      const network = this.task.network;
      if (network !== undefined && (err as { statusCode?: unknown }).statusCode === 404 && detail.includes(`network ${network} not found`)) {
        throw new NetworkNotFoundError(network, { cause: err });
      }
      // ... and when runc cannot apply a FN_MAX_* limit: every start would fail alike, so not a retryable 503.
      const refused = limitRefusal(detail, this.options, err);
      if (refused) throw refused;
      throw new DriverError(`starting container for ${this.task.image}: ${detail}`, { cause: err });
    }
    return { wait: (s) => this.waitFor(exited, s) };
  }

  /**
   * The output stream ending while the container runs on (a dockerd restart with live-restore
   * keeps it, not its attach) is told to the task: no call after would have a log.
   */
  private watchOutput(stream: Readable, exited: () => boolean): void {
    let seen = false;
    const ended = () => {
      if (seen) return;
      seen = true;
      setTimeout(() => {
        // Not one Kiln dropped itself (a start that failed, a removal).
        if (!exited() && !this.closing && this.attachStream === stream) this.task.outputLost?.();
      }, EXIT_AFTER_OUTPUT_MS).unref();
    };
    stream.once('end', ended);
    stream.once('close', ended);
  }

  /** The engine's stats stream runs only around calls: an idle container costs it nothing. */
  private startStats(): void {
    if (this.statsStream || this.statsStarting || this.closing || !this.container) return;
    this.statsStarting = true;
    void this.container.stats({ stream: true }).then(
      (raw) => {
        this.statsStarting = false;
        const stream = raw as unknown as Readable;
        if (this.closing || !this.statsEnabled) {
          stream.on('error', () => {});
          stream.destroy();
          return;
        }
        this.statsStream = stream;
        stream.once('close', () => {
          if (this.statsStream === stream) this.statsStream = undefined;
        });
        let buf = '';
        stream.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!this.statsEnabled || line.trim() === '') continue;
            try {
              this.task.writeStat(toStat(JSON.parse(line) as DockerStatsJson));
            } catch {
              // A torn or odd line loses one sample, nothing more.
            }
          }
        });
        stream.on('error', () => {});
      },
      () => {
        this.statsStarting = false;
      },
    );
  }

  setStatsEnabled(enabled: boolean): void {
    this.statsEnabled = enabled;
    clearTimeout(this.statsStop);
    if (enabled) {
      this.startStats();
      return;
    }
    // Kept a little while after a call, so steady traffic does not reopen it each time.
    this.statsStop = setTimeout(() => {
      this.statsStream?.destroy();
      this.statsStream = undefined;
    }, STATS_LINGER_MS);
    this.statsStop.unref();
  }

  private async waitFor(exited: Promise<{ StatusCode: number }>, signal?: AbortSignal): Promise<RunResult> {
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal?.aborted) resolve('aborted');
      signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const outcome = await Promise.race([exited.then((r) => r.StatusCode, () => -1), aborted]);
    if (outcome === 'aborted') return { status: 'cancelled', error: new Error('cancelled') };
    // OOMKilled stays set for the container's life once any process in it was OOM-killed (a child
    // the function went on without): only an exit by SIGKILL (137) can be the kernel's, as Fn's driver reads it.
    let oomKilled = false;
    if (outcome === 137) {
      try {
        oomKilled = (await this.c.inspect()).State?.OOMKilled === true;
      } catch {
        // Removed already: the exit code is all there is.
      }
    }
    if (oomKilled) {
      return { status: 'error', exitCode: outcome, oomKilled, error: new Error('container ran out of memory') };
    }
    if (outcome === 0) return { status: 'success', exitCode: 0 };
    if (outcome === 137) return { status: 'killed', exitCode: 137, error: new Error('container was killed') };
    return { status: 'error', exitCode: outcome, error: new Error(`container exited with code ${outcome}`) };
  }

  /** Bounded (PAUSE_MS): a call may be waiting on it, and a frozen container that cannot be unfrozen in time is dropped. */
  async freeze(): Promise<void> {
    const c = this.c;
    await this.engineCall('pausing container', (abortSignal) => c.pause({ abortSignal }), undefined, this.pauseMs);
  }

  async unfreeze(): Promise<void> {
    const c = this.c;
    await this.engineCall('unpausing container', (abortSignal) => c.unpause({ abortSignal }), undefined, this.pauseMs);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.statsStop);
      this.statsStream?.destroy();
      const container = this.container;
      if (!container) return this.dropAttach();
      // Bounded too: a removal the engine never answers would hold a failed start, and every later
      // removal queued behind it; one that fails is tried again (the agent) or swept.
      const remove = () => this.engineCall('removing container', (abortSignal) => container.remove({ force: true, v: true, abortSignal }));
      try {
        await (this.serializeRemoval ? this.serializeRemoval(remove) : remove());
        // After the removal, so what it printed up to its end is still read.
        this.dropAttach();
      } catch (err) {
        // Gone already, or being removed by someone else: either way it is going.
        const code = statusCodeOf(err);
        if (code === 404 || code === 409) return this.dropAttach();
        // The engine did not answer (a restart?): the next close() tries again.
        this.closing = undefined;
        throw err;
      }
    })();
    return this.closing;
  }
}
