// Where the per-container socket directories live (FN_IOFS_PATH): a base that must be Kiln's
// own and private, FN_IOFS_TMPFS's mounts, and what a killed server left there.
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isSocketDirName, nodeTag, SOCKET_DIR_PLACEHOLDER, socketDirTag } from './socket-dir-name.js';
import { LISTENER_NAME } from '../runtime/wire.js';

const run = promisify(execFile);

/** Linux's sun_path holds 108 bytes, NUL included. */
const MAX_SOCKET_PATH = 107;
/** The socket's name in each directory (FN_LISTENER's). */
export { LISTENER_NAME };

/** The socket path a directory under `base` will have (a name as long as any socket directory's). */
export function socketPathFor(base: string): string {
  return join(base, SOCKET_DIR_PLACEHOLDER, LISTENER_NAME);
}

/** Throws when sockets under `base` would not fit in a unix socket address. */
export function checkSocketBase(base: string): void {
  const path = socketPathFor(base);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    // The base, a slash, then the directory and the socket's names.
    const most = MAX_SOCKET_PATH - 1 - Buffer.byteLength(socketPathFor(''));
    throw new Error(
      `FN_IOFS_PATH "${base}" is too long (${Buffer.byteLength(base)} bytes; at most ${most}, since socket directories' names carry the node's tag): ` +
        `socket paths like ${path} are over ${MAX_SOCKET_PATH} bytes`,
    );
  }
}

/** Why `base` may not hold socket directories, or undefined when it is Kiln's own and private. */
async function baseProblem(base: string): Promise<string | undefined> {
  const st = await lstat(base);
  if (!st.isDirectory()) return 'is not a directory';
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me) return `belongs to uid ${st.uid}, not to Kiln's user (${me})`;
  if ((st.mode & 0o077) !== 0) return `is open to other users (mode ${(st.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Makes `base` (0700) when it is missing, then checks it is Kiln's own and no one else's to
 * list or enter: a container's directory in it is open to the container's user and holds a
 * socket that answers calls with no token. Every new directory checks it again (a temp cleaner
 * may remove it and someone else make it anew). The engine, which makes the bind mounts, needs
 * no access to it.
 */
export async function privateBase(base: string): Promise<void> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  const problem = await baseProblem(base);
  if (problem !== undefined) throw new Error(`FN_IOFS_PATH "${base}" ${problem}: give Kiln a directory only it can enter (mode 0700)`);
}

/**
 * Start-up: the base as privateBase wants it. `mayClose`: the default path, which older Kiln
 * made 0755, is closed to 0700; a directory an operator named (it may be /tmp) is never changed.
 */
export async function prepareSocketBase(base: string, opts: { tmpfs?: string; mayClose?: boolean } = {}): Promise<void> {
  checkSocketBase(base);
  await mkdir(base, { recursive: true, mode: 0o700 });
  const st = await lstat(base);
  const me = process.getuid?.();
  if (opts.mayClose && st.isDirectory() && st.uid === me && (st.mode & 0o7077) !== 0 && (st.mode & 0o1002) === 0) await chmod(base, 0o700);
  await privateBase(base);
  // A probe a killed start left (a mount, maybe): probes live for a moment at start-up only.
  for (const name of await readdir(base)) {
    if (name.startsWith(PROBE_PREFIX)) await removeSocketDir(join(base, name));
  }
  // With FN_IOFS_TMPFS, a mount that cannot work stops start-up rather than every call.
  if (opts.tmpfs !== undefined) {
    const probe = await mkdtemp(join(base, PROBE_PREFIX));
    try {
      await mountTmpfs(probe, opts.tmpfs);
      await run('umount', [probe]);
    } finally {
      await rm(probe, { recursive: true, force: true });
    }
  }
}

/**
 * FN_IOFS_TMPFS, as Fn's: the socket directory is a tmpfs of its own (these options after
 * Kiln's), so a function cannot write past its bounds to the host's disk through /tmp/iofs nor
 * run what it puts there. Mounting needs root; mount(8) because Node has no mount(2).
 */
export async function mountTmpfs(dir: string, options: string): Promise<void> {
  const opts = ['nosuid', 'nodev', 'noexec', 'mode=0777', ...(options ? [options] : [])].join(',');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  } catch (err) {
    const why = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`FN_IOFS_TMPFS: cannot mount a tmpfs at ${dir} (-o ${opts}): ${why}`);
  }
}

/** Unmounts `dir` when something is mounted on it (lazily: a container may still hold it). */
async function unmountIfMounted(dir: string): Promise<void> {
  const [d, parent] = await Promise.all([stat(dir).catch(() => undefined), stat(dirname(dir)).catch(() => undefined)]);
  if (d && parent && d.dev !== parent.dev) await run('umount', ['-l', dir]).catch(() => {});
}

/** Removes a socket directory, and first the tmpfs mounted on it, if any. */
export async function removeSocketDir(dir: string): Promise<void> {
  await unmountIfMounted(dir);
  await removeTree(dir);
}

/**
 * Removes a directory and everything in it. Node's rm builds each path whole, so a tree the
 * container made deeper than PATH_MAX (a function can, in its socket directory) fails with
 * ENAMETOOLONG and would stay on the host for good; GNU rm walks it by directory handles.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    await run('rm', ['-rf', '--one-file-system', '--', dir]);
  }
}

/** The start-up probe of FN_IOFS_TMPFS, a directory of the base's for a moment. */
const PROBE_PREFIX = 'probe-';

/**
 * Removes socket directories that containers left behind (a killed server's), only ones directly
 * under `base` with the names Kiln gives them: the paths come from the engine's record of mounts.
 */
export async function removeSocketDirs(base: string, dirs: readonly string[]): Promise<number> {
  const mine = dirs.filter((d) => dirname(resolve(d)) === resolve(base) && isSocketDirName(basename(d)));
  await Promise.all(mine.map(removeSocketDir));
  return mine.length;
}

/**
 * Removes this node's socket directories that no container mounts: those whose containers the
 * engine removed while the server did not wait for it (a stop cut short, a kill), which no sweep
 * finds as the engine no longer lists them. Call it only once this node's containers are known
 * gone (a sweep succeeded) and none is being made; `mounted` (every container's host paths on the
 * engine) is a second check. Other nodes' directories, and untagged ones from Kiln before tags
 * (whose they are cannot be told), are left alone. Resolves to the directories removed.
 */
export async function removeOwnSocketDirs(base: string, nodeId: string, mounted: () => Promise<string[]>): Promise<string[]> {
  const tag = nodeTag(nodeId);
  const own = (await readdir(base)).filter((name) => socketDirTag(name) === tag).map((name) => join(base, name));
  if (own.length === 0) return [];
  const inUse = new Set((await mounted()).map((p) => resolve(p)));
  const orphans = own.filter((d) => !inUse.has(resolve(d)));
  for (const d of orphans) await removeSocketDir(d);
  return orphans;
}
