// The container driver contract (after Fn's api/agent/drivers/driver.go): the agent talks to
// containers only through these interfaces; drivers/docker/ implements them with dockerode.

/** One resource sample. Metric names are Fn's (cpu_user, mem_usage, net_rx, ...). */
export interface Stat {
  /** Milliseconds since the epoch. */
  timestamp: number;
  metrics: Record<string, number>;
}

export type RunStatus = 'success' | 'error' | 'timeout' | 'killed' | 'cancelled';

/** How a container's run ended. A task's own failure is a RunResult; a driver failure is thrown. */
export interface RunResult {
  status: RunStatus;
  /** Set unless status is success. */
  error?: Error;
  /** The process exit code, when it exited. */
  exitCode?: number;
  /** The kernel killed it for exceeding its memory. */
  oomKilled?: boolean;
}

export interface WaitResult {
  /** Resolves when the container stops; an aborted signal ends the wait as 'cancelled'. */
  wait(signal?: AbortSignal): Promise<RunResult>;
}

export interface LogSink {
  write(chunk: Buffer): void;
}

/** Everything a driver needs to run one container. */
export interface ContainerTask {
  /** Becomes the container name; unique per container. */
  id: string;
  image: string;
  /** Overrides the image's entrypoint when set (and then the command is only `command`). */
  entrypoint?: string[];
  /** Overrides the image's command when set. */
  command?: string[];
  env: Record<string, string>;
  /** Labels that mark the container as Kiln's (app, fn, node), used to find leftovers. */
  labels: Record<string, string>;
  /** Memory limit in MiB (swap is limited to the same). */
  memoryMb: number;
  /** CPU limit in milli-CPUs; 0 means no limit. */
  cpusMilli: number;
  /** The CPUs it may run on, in Docker's CpusetCpus syntax (e.g. "1", "0-3"); unset means any. */
  cpuset?: string;
  /** Size of the tmpfs at /tmp in MiB; 0 means the driver's default. */
  tmpfsMb: number;
  /** Host directory bind-mounted at /tmp/iofs for the http-stream socket. */
  udsPath: string;
  /** Network to join, or undefined for none. */
  network?: string;
  /** Extra read-only binds, host path -> container path. */
  readOnlyBinds?: Record<string, string>;
  /** Extra /etc/hosts lines as `name:address` (e.g. sandbox.localdomain:127.0.0.1). */
  extraHosts?: string[];
  /** A file holding those lines (and localhost): /etc/hosts of a container without a network. */
  hostsFile?: string;
  /**
   * Floors under the driver's pids and open-files limits (a Lambda sandbox's quotas): a higher
   * setting of the operator's stays, and so does 0 (no limit).
   */
  minLimits?: { pids: number; openFiles: number };
  /** stdout and stderr of the container. */
  logger: { stdout: LogSink; stderr: LogSink };
  /**
   * The app's syslog_url: the container's output also goes there (Fn's remote syslog), tagged
   * with these pairs (`name=value`, comma-separated, in order).
   */
  syslog?: { url: string; tags: [string, string][] };
  /** Receives a sample about once a second while the container runs. */
  writeStat(stat: Stat): void;
  /**
   * Called when the driver can no longer pass on the container's output while it runs on (the
   * engine restarted under a live container and its output stream ended): its calls' logs would
   * be empty from then on.
   */
  outputLost?(): void;
}

/** One container's life: create (driver) → run → wait → freeze/unfreeze … → close. */
export interface Cookie {
  readonly task: ContainerTask;
  /** The id of the image the container was made from, once prepared (when the driver knows it). */
  readonly imageId?: string;
  /** Starts the container; resolves once it is running. */
  run(signal?: AbortSignal): Promise<WaitResult>;
  freeze(): Promise<void>;
  unfreeze(): Promise<void>;
  /** Stops sampling stats until resumed (stats are only wanted while a call runs). */
  setStatsEnabled(enabled: boolean): void;
  /** Kills and removes the container; safe to call more than once. */
  close(): Promise<void>;
  /** The driver-specific create options, for inspection and tests. */
  containerOptions(): unknown;
}

/** What an image runs and where, when nothing overrides it. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  /** The image's own environment (its ENV), which the engine gives every container of it. */
  env: Record<string, string>;
}

/** What removeLeftovers removed: the containers' names, and the host directories they had at udsPath. */
export interface Leftovers {
  removed: string[];
  socketDirs: string[];
}

export interface Driver {
  createCookie(task: ContainerTask): Promise<Cookie>;
  /** Makes the image available and tells what it runs (the Lambda layer runs it as the bootstrap). */
  imageConfig(image: string, signal?: AbortSignal): Promise<ImageConfig>;
  /** Makes the image available (recoverable failures belong here). */
  prepareCookie(cookie: Cookie, signal?: AbortSignal): Promise<void>;
  /**
   * Removes this node's containers: at start-up what a previous process left behind; later, those
   * `keep` does not name (by container id, the task's `id`), which the agent lost track of.
   * `keep` is asked after the engine's list: it names what was held when the list was asked for
   * too, as a container listed then may since have been removed, and let go, by its holder.
   */
  removeLeftovers(keep?: (id: string) => boolean): Promise<Leftovers>;
  /**
   * Calls `onRetagged` with an image reference, and the id of the image it now names when known,
   * whenever the engine points it at an image (a build, a tag, a pull, a load or an import),
   * until the returned function is called. Best effort: while the engine cannot be watched,
   * nothing is reported.
   */
  watchImages(onRetagged: (image: string, imageId: string | undefined) => void): () => void;
  /**
   * The CPUs other nodes on this engine have pinned their running containers to, one entry per
   * container: nodes sharing a host (the Compose deployment) spread their Lambda containers
   * together. Optional; best effort.
   */
  cpusPinnedElsewhere?(): Promise<number[]>;
  /**
   * The host paths the engine's containers have mounted (every container, any node's or none,
   * running or not): what must not be deleted from under them, such as an old runtime bundle.
   */
  mountedHostPaths(): Promise<string[]>;
  close(): Promise<void>;
}
