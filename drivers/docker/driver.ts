// The Docker driver: dockerode against DOCKER_HOST or the local socket.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Cookie, ContainerTask, Driver, ImageConfig, Leftovers } from '../contract.js';
import { DriverError, ImageNotFoundError } from '../errors.js';
import { parseImage } from '../image-name.js';
import { DockerCookie } from './cookie.js';
import { ENGINE_CALL_MS, engineCall } from './engine-call.js';
import type { CredentialsFor } from './registry-credentials.js';
import { imageEvent, RETAG_ACTIONS, type ImageEvent } from './image-events.js';
import { createOptions, DEFAULT_LIMITS, IOFS_MOUNT, type DockerLimits } from './create-options.js';
import { envOf } from './image-env.js';

/** Label on every container Kiln starts; its value is the node id. */
export const NODE_LABEL = 'io.kiln.node';
export const APP_LABEL = 'io.kiln.app_id';
export const FN_LABEL = 'io.kiln.fn_id';
/** The CPU a container is pinned to (its cpuset, one CPU), for other nodes on the engine to see. */
export const CPU_LABEL = 'io.kiln.cpu';

export interface DockerDriverOptions {
  /** The engine's client, made by the composition root (DOCKER_HOST etc.). */
  docker: Docker;
  /** This server's node id: leftovers are containers with this id from an earlier process. */
  nodeId: string;
  limits?: Partial<DockerLimits>;
  /** Try a registry when the image is not local (off where no registry answers). */
  pull?: boolean;
  pullTimeoutMs?: number;
  /** How long the engine may take to answer one request: a start's, a removal, a sweep's (default ENGINE_CALL_MS). */
  engineCallMs?: number;
  /** The registry credentials a pull of this image sends (X-Registry-Auth); none when absent. */
  credentials?: CredentialsFor;
}

/** How soon a broken event stream (an engine restart) is opened again. */
const IMAGE_WATCH_RETRY_MS = 1000;

/** A listed container's name (the engine's list puts a slash before it), or its id. */
const nameOf = (info: Docker.ContainerInfo): string => info.Names[0]?.replace(/^\//, '') ?? info.Id;
const statusCodeOf = (err: unknown): number | undefined => (err as { statusCode?: number } | null)?.statusCode;

export class DockerDriver implements Driver {
  readonly docker: Docker;
  private readonly limits: DockerLimits;
  /** Concurrent pulls of one image share one request. */
  private readonly pulls = new Map<string, Promise<void>>();
  /** The last removal of a networked container (see oneRemovalAtATime). */
  private networkedRemovals: Promise<unknown> = Promise.resolve();
  /**
   * Networked containers are removed one at a time: Docker 20.10's libnetwork deadlocked here
   * when several bridge containers exited together (a server closing its pool), and every
   * engine call after that hung. Containers with no network are removed at once, as always.
   */
  private readonly oneRemovalAtATime = <T>(remove: () => Promise<T>): Promise<T> => {
    const run = this.networkedRemovals.then(remove, remove);
    this.networkedRemovals = run.catch(() => {});
    return run;
  };

  constructor(private readonly opts: DockerDriverOptions) {
    this.docker = opts.docker;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  /** How long the engine may take to answer one request. */
  private get callMs(): number {
    return this.opts.engineCallMs ?? ENGINE_CALL_MS;
  }

  labelsFor(appId: string, fnId: string): Record<string, string> {
    return { [NODE_LABEL]: this.opts.nodeId, [APP_LABEL]: appId, [FN_LABEL]: fnId };
  }

  async createCookie(task: ContainerTask): Promise<Cookie> {
    const labels = { ...task.labels, [NODE_LABEL]: this.opts.nodeId, ...(task.cpuset !== undefined && { [CPU_LABEL]: task.cpuset }) };
    const serialize = task.network !== undefined ? this.oneRemovalAtATime : undefined;
    return new DockerCookie(this.docker, { ...task, labels }, createOptions({ ...task, labels }, this.limits), serialize, this.opts.engineCallMs);
  }

  async prepareCookie(cookie: Cookie, signal?: AbortSignal): Promise<void> {
    if (!(cookie instanceof DockerCookie)) throw new DriverError('not a Docker cookie');
    // A reference Docker cannot parse fails here, named, rather than as an engine error.
    parseImage(cookie.task.image);
    const image = await this.ensureImage(cookie.task.image, signal);
    await cookie.create(image.Id, Object.keys(image.Config?.Volumes ?? {}), signal);
  }

  async imageConfig(image: string, signal?: AbortSignal): Promise<ImageConfig> {
    parseImage(image);
    const c = (await this.ensureImage(image, signal)).Config;
    const list = (v: string | string[] | null | undefined): string[] => (v == null ? [] : Array.isArray(v) ? v : [v]);
    return { entrypoint: list(c?.Entrypoint), cmd: list(c?.Cmd), workingDir: c?.WorkingDir ?? '', env: envOf(list(c?.Env)) };
  }

  /** Makes the image present; answers what its name resolves to. */
  private async ensureImage(image: string, signal?: AbortSignal): Promise<Docker.ImageInspectInfo> {
    const present = await this.inspectPresent(image);
    if (present) return present;
    if (!this.opts.pull) throw new ImageNotFoundError(image, 'it is not present locally and pulling is off');
    let pull = this.pulls.get(image);
    if (!pull) {
      pull = this.pull(image, signal).finally(() => this.pulls.delete(image));
      this.pulls.set(image, pull);
    }
    await pull;
    const pulled = await this.inspectPresent(image);
    if (pulled) return pulled;
    throw new ImageNotFoundError(image, 'the pull ended but the engine does not have it');
  }

  /** The image's inspect; undefined when the engine does not have it. */
  private async inspectPresent(image: string): Promise<Docker.ImageInspectInfo | undefined> {
    try {
      return await this.inspectImage(image);
    } catch (err) {
      if (err instanceof DriverError) throw err;
      if (statusCodeOf(err) === 404) return undefined;
      throw new DriverError(`inspecting image ${image}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** An image inspect, bounded as a start's other requests are (dockerode's inspect takes no signal). */
  private inspectImage(image: string): Promise<Docker.ImageInspectInfo> {
    return engineCall(`inspecting image ${image}`, this.callMs, () => this.docker.getImage(image).inspect());
  }

  private async pull(image: string, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.opts.pullTimeoutMs ?? 10 * 60_000);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      // The engine never reads the CLI's config: without this header a private registry refuses.
      const authconfig = await this.opts.credentials?.(image);
      const stream = await this.docker.pull(image, { abortSignal: abort, ...(authconfig && { authconfig }) });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      throw new ImageNotFoundError(image, `it is not present locally and pulling failed (${(err as Error).message})`);
    }
  }

  async removeLeftovers(keep?: (id: string) => boolean): Promise<Leftovers> {
    // Each request bounded as a start's are: this runs before the server listens, and in the
    // periodic sweep, which a request never answered would hold (and stop) for good.
    const listed = await engineCall(`listing the containers of node ${this.opts.nodeId}`, this.callMs, (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${this.opts.nodeId}`] }, abortSignal }),
    );
    // `keep` is asked after the list came back: a container made meanwhile is not in it, and one
    // removed meanwhile by its holder must be kept too (the contract says so).
    const leftovers = keep ? listed.filter((info) => !info.Names.some((n) => keep(n.replace(/^\//, '')))) : listed;
    // Only what this sweep removed is said: one gone already (404) or being removed (409) was
    // someone else's doing, the agent's own removal as a rule, and its directory is theirs.
    const removed: Docker.ContainerInfo[] = [];
    await Promise.all(
      leftovers.map(async (info) => {
        const container = this.docker.getContainer(info.Id);
        const remove = () => engineCall(`removing container ${nameOf(info)} of node ${this.opts.nodeId}`, this.callMs, (abortSignal) =>
          container.remove({ force: true, v: true, abortSignal }),
        );
        // A crash can leave several networked containers: they go one at a time, as ever.
        const networked = Object.keys(info.NetworkSettings?.Networks ?? {}).some((n) => n !== 'none');
        try {
          await (networked ? this.oneRemovalAtATime(remove) : remove());
          removed.push(info);
        } catch (err) {
          if (statusCodeOf(err) !== 404 && statusCodeOf(err) !== 409) throw err;
        }
      }),
    );
    const socketDirs = removed.flatMap((info) => info.Mounts.filter((m) => m.Destination === IOFS_MOUNT).map((m) => m.Source));
    return { removed: removed.map(nameOf), socketDirs };
  }

  async cpusPinnedElsewhere(): Promise<number[]> {
    const pinned = await engineCall('listing the containers pinned to CPUs', this.callMs, (abortSignal) =>
      this.docker.listContainers({ filters: { label: [CPU_LABEL], status: ['running', 'paused', 'created'] }, abortSignal }),
    );
    return pinned.filter((c) => c.Labels[NODE_LABEL] !== this.opts.nodeId).map((c) => Number(c.Labels[CPU_LABEL])).filter(Number.isSafeInteger);
  }

  async mountedHostPaths(): Promise<string[]> {
    const all = await engineCall('listing containers', this.callMs, (abortSignal) => this.docker.listContainers({ all: true, abortSignal }));
    return all.flatMap((c) => (c.Mounts ?? []).map((m) => m.Source));
  }

  watchImages(onRetagged: (image: string, imageId: string | undefined) => void): () => void {
    let stopped = false;
    let stream: Readable | undefined;
    let retry: NodeJS.Timeout | undefined;
    // Once a stream has broken, each new one starts from then (unix seconds, a second early):
    // the engine replays what it logged meanwhile, so a retag while the watch was down is seen.
    let since: number | undefined;
    const again = () => {
      if (stopped) return;
      retry = setTimeout(connect, IMAGE_WATCH_RETRY_MS);
      retry.unref();
    };
    const connect = () => {
      this.docker.getEvents({ filters: { type: ['image'], event: [...RETAG_ACTIONS] }, ...(since !== undefined && { since }) }).then(
        (s) => {
          const events = s as unknown as Readable;
          if (stopped) return void events.destroy();
          stream = events;
          let pending = '';
          events.setEncoding('utf8');
          events.on('data', (text: string) => {
            const lines = (pending + text).split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) {
              const event = imageEvent(line);
              if (event === undefined) continue;
              // An inspect may still be under way when the watch stops: nothing is said after.
              this.report(event, (image, id) => {
                if (!stopped) onRetagged(image, id);
              }).catch(() => {});
            }
          });
          events.on('error', () => {});
          events.once('close', () => {
            since = Math.floor(Date.now() / 1000) - 1;
            again();
          });
        },
        again,
      );
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      stream?.destroy();
    };
  }

  /** Tells `onRetagged` what an event changed, asking the engine what the line does not say. */
  private async report(event: ImageEvent, onRetagged: (image: string, imageId: string | undefined) => void): Promise<void> {
    if (event.name !== undefined && event.id !== undefined) return onRetagged(event.name, event.id);
    let info: Docker.ImageInspectInfo;
    try {
      info = await this.inspectImage(event.name ?? event.id);
    } catch {
      // Gone again already, or the engine is away: the name is still worth a look.
      if (event.name !== undefined) onRetagged(event.name, undefined);
      return;
    }
    if (event.name !== undefined) onRetagged(event.name, info.Id);
    else for (const tag of info.RepoTags ?? []) onRetagged(tag, info.Id);
  }

  async close(): Promise<void> {
    // Nothing held open: containers belong to cookies, which the agent closes.
  }
}

