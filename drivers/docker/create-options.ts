// The container create options for a task: pure, so the security and limit choices are testable.
import { posix } from 'node:path';
import type Docker from 'dockerode';
import type { ContainerTask } from '../contract.js';

/** Per-container limits; a ulimit of 0 is not set (the engine's default applies), as in Fn. */
export interface DockerLimits {
  /** pids limit per container (FN_MAX_PIDS). */
  pids: number;
  /** RLIMIT_NOFILE (FN_MAX_OPEN_FILES). */
  openFiles: number;
  /** RLIMIT_MEMLOCK bytes (FN_MAX_LOCKED_MEMORY). */
  lockedMemory: number;
  /** RLIMIT_SIGPENDING (FN_MAX_PENDING_SIGNALS). */
  pendingSignals: number;
  /** RLIMIT_MSGQUEUE bytes (FN_MAX_MESSAGE_QUEUE). */
  messageQueue: number;
  /** tmpfs size at /tmp when the task sets none, MiB. */
  defaultTmpfsMb: number;
  /** nr_inodes of the tmpfs at /tmp (FN_MAX_TMPFS_INODES); 0: the kernel's default. */
  tmpfsInodes: number;
  /** Read-only root filesystem (off with FN_DISABLE_READONLY_ROOTFS). */
  readOnlyRoot: boolean;
  /** `user`, all capabilities dropped, no-new-privileges (off with FN_DISABLE_UNPRIVILEGED_CONTAINERS). */
  unprivileged: boolean;
  /** `uid:gid` the container runs as when unprivileged (KILN_FN_USER). */
  user: string;
}

/** DESIGN.md's user, the one the base images name (`fn`). */
export const DEFAULT_FN_USER = '1000:1000';

export const DEFAULT_LIMITS: DockerLimits = {
  pids: 50,
  openFiles: 350,
  lockedMemory: 64 * 1024,
  pendingSignals: 5000,
  messageQueue: 819200,
  defaultTmpfsMb: 64,
  tmpfsInodes: 0,
  readOnlyRoot: true,
  unprivileged: true,
  user: DEFAULT_FN_USER,
};

const MiB = 1024 * 1024;
/** The socket directory's place inside every container (Fn's contract). */
export const IOFS_MOUNT = '/tmp/iofs';

/**
 * Output is captured through attach, so Docker need not keep a copy on disk. With a syslog URL
 * the engine's syslog driver also sends it there, as Fn's driver does (facility user, RFC 5424,
 * the tags as the message's APP-NAME); attach works whatever the log driver.
 */
export function logConfig(task: Pick<ContainerTask, 'syslog'>): Docker.HostConfig['LogConfig'] {
  if (!task.syslog) return { Type: 'none', Config: {} };
  const config: Record<string, string> = {
    'syslog-address': task.syslog.url,
    'syslog-facility': 'user',
    'syslog-format': 'rfc5424',
    // Unlike Fn's (the engine's default, blocking), a receiver that stops reading costs log
    // lines past a 4 MiB buffer, never the function's time: its writes would block until its timeout.
    mode: 'non-blocking',
    'max-buffer-size': '4m',
  };
  if (task.syslog.tags.length > 0) config.tag = task.syslog.tags.map(([k, v]) => `${k}=${v}`).join(',');
  return { Type: 'syslog', Config: config };
}

/** Soft = hard for each limit given; a limit of 0 is left out. */
function ulimits(pairs: [name: string, value: number][]): { Name: string; Soft: number; Hard: number }[] {
  return pairs.filter(([, v]) => v > 0).map(([Name, v]) => ({ Name, Soft: v, Hard: v }));
}

/** The options of the tmpfs at /tmp, and of each tmpfs over an image's volume. */
function tmpfsOptions(sizeMb: number, inodes: number): string {
  return `rw,nosuid,nodev,size=${sizeMb}m${inodes > 0 ? `,nr_inodes=${inodes}` : ''},mode=1777`;
}

/**
 * Covers each path the image declares a VOLUME with a tmpfs like /tmp's. Docker would back it
 * with an anonymous volume on the host's disk, writable and unbounded even under a read-only
 * root; a path Kiln mounts already (/tmp, the socket directory, a bind) gets no volume and is
 * left as it is. Paths are cleaned as the engine cleans them (a relative one is under /).
 * The engine gives the tmpfs the mode of the image's directory (not its owner, nor its files):
 * owned by the container's user, a directory the image let that user write stays writable.
 * With no User set (FN_DISABLE_UNPRIVILEGED_CONTAINERS) the image's own user runs, whose ids
 * are not known here: a root-owned tmpfs could lock it out, so the volumes stay Docker's.
 */
export function coverImageVolumes(opts: Docker.ContainerCreateOptions, volumes: readonly string[]): Docker.ContainerCreateOptions {
  const hostConfig = opts.HostConfig ?? {};
  const tmpfs = { ...hostConfig.Tmpfs };
  if (tmpfs['/tmp'] === undefined) throw new Error('coverImageVolumes: the options have no tmpfs at /tmp to copy');
  const user = /^(\d+):(\d+)$/.exec(opts.User ?? '');
  if (!user) return opts;
  const like = `${tmpfs['/tmp']},uid=${user[1]},gid=${user[2]}`;
  const mounted = new Set([...Object.keys(tmpfs), ...(hostConfig.Binds ?? []).map((b) => b.split(':')[1])]);
  for (const volume of volumes) {
    const path = posix.resolve('/', volume);
    if (!mounted.has(path)) tmpfs[path] = like;
  }
  return { ...opts, HostConfig: { ...hostConfig, Tmpfs: tmpfs } };
}

/** A limit raised to the task's floor; 0 (no limit) stays no limit. */
const atLeast = (limit: number, floor = 0): number => (limit === 0 ? 0 : Math.max(limit, floor));

export function createOptions(task: ContainerTask, limits: DockerLimits): Docker.ContainerCreateOptions {
  const memory = task.memoryMb * MiB;
  const pids = atLeast(limits.pids, task.minLimits?.pids);
  const openFiles = atLeast(limits.openFiles, task.minLimits?.openFiles);
  const tmpfsMb = task.tmpfsMb > 0 ? task.tmpfsMb : limits.defaultTmpfsMb;
  const binds = [`${task.udsPath}:${IOFS_MOUNT}`];
  for (const [host, inside] of Object.entries(task.readOnlyBinds ?? {})) binds.push(`${host}:${inside}:ro`);
  // Without a network the engine sets up no network sandbox at all (NetworkDisabled: the
  // cheapest start, 80–130 ms less than mode none alone), and then writes no /etc/hosts and
  // drops ExtraHosts. A task that needs names (a Lambda sandbox's sandbox.localdomain) has them
  // from its hosts file, bound in place; only without one is networking enabled for them.
  const noNetwork = task.network === undefined;
  const hostsBound = noNetwork && task.hostsFile !== undefined;
  if (hostsBound) binds.push(`${task.hostsFile}:/etc/hosts:ro`);

  const hostConfig: Docker.HostConfig = {
    // Swap is limited to the same amount, so a fn cannot exceed its memory by swapping.
    // MemorySwappiness is deliberately unset: it breaks containers on cgroup v2.
    Memory: memory,
    MemorySwap: memory,
    // 0: no limit of Kiln's (the engine's default), as Fn's driver leaves it.
    ...(pids > 0 && { PidsLimit: pids }),
    // Docker's names (Fn's driver spells the last one `msqueue`, which runc does not know).
    Ulimits: ulimits([
      ['nofile', openFiles],
      ['memlock', limits.lockedMemory],
      ['sigpending', limits.pendingSignals],
      ['msgqueue', limits.messageQueue],
    ]),
    ReadonlyRootfs: limits.readOnlyRoot,
    // The tmpfs is under /tmp, the socket directory is bound over /tmp/iofs inside it.
    Tmpfs: { '/tmp': tmpfsOptions(tmpfsMb, limits.tmpfsInodes) },
    Binds: binds,
    Init: true,
    NetworkMode: task.network ?? 'none',
    LogConfig: logConfig(task),
    AutoRemove: false,
  };
  if (!hostsBound && task.extraHosts?.length) hostConfig.ExtraHosts = task.extraHosts;
  if (task.cpusMilli > 0) {
    hostConfig.CpuPeriod = 100_000;
    hostConfig.CpuQuota = task.cpusMilli * 100;
  }
  if (task.cpuset !== undefined) hostConfig.CpusetCpus = task.cpuset;
  if (limits.unprivileged) {
    hostConfig.CapDrop = ['ALL'];
    hostConfig.SecurityOpt = ['no-new-privileges'];
  }

  const opts: Docker.ContainerCreateOptions = {
    name: task.id,
    Image: task.image,
    Env: Object.entries(task.env).map(([k, v]) => `${k}=${v}`),
    Labels: task.labels,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: false,
    OpenStdin: false,
    Tty: false,
    NetworkDisabled: noNetwork && (hostsBound || !task.extraHosts?.length),
    HostConfig: hostConfig,
  };
  if (limits.unprivileged) opts.User = limits.user;
  if (task.entrypoint) opts.Entrypoint = task.entrypoint;
  if (task.command) opts.Cmd = task.command;
  // An entrypoint given alone runs alone: the image's Cmd would become its arguments.
  else if (task.entrypoint) opts.Cmd = [];
  return opts;
}
