// The per-container socket directory of the http-stream contract, and readiness: the container
// binds phonylsnr.sock, then links lsnr.sock -> phonylsnr.sock (relative, same directory); or,
// as Fn's agent also takes, binds lsnr.sock itself. Once ready, the agent holds the socket itself
// (an O_PATH descriptor) and connects through that, never through a name the container can change.
import { constants, watch, type FSWatcher } from 'node:fs';
import { chmod, lstat, mkdtemp, open, readlink, type FileHandle } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { checkSocketBase, LISTENER_NAME, mountTmpfs, privateBase, removeSocketDir, removeTree } from './iofs-base.js';
import { socketDirPrefix } from './socket-dir-name.js';
import { outOfDescriptors } from './host-shortage.js';

export { LISTENER_NAME };

export interface SocketDir {
  /** The directory bind-mounted at /tmp/iofs. */
  path: string;
  /**
   * Mounts the tmpfs (FN_IOFS_TMPFS) and starts watching: call it once the container exists and
   * before it starts. Throws when the mount or the watch cannot be made (nothing to undo but remove()).
   */
  arm(): Promise<void>;
  /** Resolves, once armed and lsnr.sock is a valid link to a socket, to the path the agent connects to. */
  ready: Promise<string>;
  /**
   * Why the last look for the socket could not be made, when the server was out of file
   * descriptors (cleared by a look that could): a start that times out meanwhile is the server's fault.
   */
  shortage(): Error | undefined;
  /** Stops watching (ready rejects if still pending). */
  stopWatching(): void;
  remove(): Promise<void>;
}

/**
 * Whether something accepts connections at `path`: a socket bound but not listening yet refuses.
 * Rejects when the server is out of file descriptors: that says nothing about the socket.
 */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (err) => (outOfDescriptors(err) ? reject(err) : resolve(false)));
  });
}

/**
 * The name in `dir` of the container's socket, or undefined while there is none: lsnr.sock as a
 * relative symlink to a name in the same directory that is a socket, or a socket itself (bound
 * directly, as Fn's checkSocketDestination takes).
 */
async function listenerName(dir: string): Promise<string | undefined> {
  const link = join(dir, LISTENER_NAME);
  try {
    const l = await lstat(link);
    if (l.isSocket()) return LISTENER_NAME;
    if (!l.isSymbolicLink()) return undefined;
    const target = await readlink(link);
    if (target.includes('/') || target !== basename(target) || target === LISTENER_NAME) return undefined;
    // lstat, not stat: the target must itself be the socket, not a further link leading out
    // of the directory (say, to the engine's socket on the host).
    return (await lstat(join(dir, target))).isSocket() ? target : undefined;
  } catch {
    return undefined;
  }
}

/** Linux's O_PATH (not in fs.constants): a descriptor that names a file without opening it. */
const O_PATH = 0o10000000;

/** Connecting here reaches the socket a descriptor holds, whatever its name has become since. */
const viaDescriptor = (h: FileHandle): string => `/proc/self/fd/${h.fd}`;

/**
 * The container's socket, held: the agent connects anew after idle gaps, and a name is resolved
 * at each connect, so a function could later swap its socket's name for a link to any socket on
 * the host (the engine's, say). A descriptor taken without following links and checked to be a
 * socket keeps the agent on the socket the function bound. A socket bound directly is taken only
 * once it accepts connections (a bind comes before its listen; a linked one is linked once it listens).
 */
async function holdListener(dir: string): Promise<FileHandle | undefined> {
  const name = await listenerName(dir);
  if (name === undefined) return undefined;
  const h = await open(join(dir, name), O_PATH | constants.O_NOFOLLOW).catch((err: unknown) => {
    // Out of descriptors is the server's state, not the socket's: the caller looks again.
    if (outOfDescriptors(err)) throw err;
    return undefined;
  });
  if (!h) return undefined;
  try {
    if ((await h.stat()).isSocket() && (name !== LISTENER_NAME || (await accepts(viaDescriptor(h))))) return h;
  } catch (err) {
    await h.close();
    throw err;
  }
  await h.close();
  return undefined;
}

/** How soon to look for the socket again after a look failed for want of file descriptors. */
const SHORTAGE_RETRY_MS = 100;

/** Whether `dir` has a socket the agent would take as the container's (tests and probes). */
export async function isListenerReady(dir: string): Promise<boolean> {
  const h = await holdListener(dir);
  await h?.close();
  return h !== undefined;
}

/**
 * Makes a fresh directory (mode 0777, so the container's user can bind in it; its parent keeps
 * everyone else out), its name tagged with `nodeId`'s tag (agent/socket-dir-name.ts); arm() makes
 * it a tmpfs with these options when `tmpfs` is given, and watches it.
 */
export async function makeSocketDir(base: string, nodeId: string, tmpfs?: string): Promise<SocketDir> {
  checkSocketBase(base);
  await privateBase(base);
  const path = await mkdtemp(join(base, socketDirPrefix(nodeId)));
  await chmod(path, 0o777);
  const listener = join(path, LISTENER_NAME);

  let watcher: FSWatcher | undefined;
  let held: FileHandle | undefined;
  let mounted = false;
  let shortage: Error | undefined;
  let settle: { resolve(p: string): void; reject(e: Error): void } | undefined;
  const ready = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  ready.catch(() => {});
  const done = (err?: Error) => {
    watcher?.close();
    watcher = undefined;
    const s = settle;
    settle = undefined;
    if (!s) return;
    if (err || !held) s.reject(err ?? new Error('no socket'));
    else s.resolve(viaDescriptor(held));
  };
  const check = () => {
    if (!settle) return;
    void holdListener(path).then(async (h) => {
      shortage = undefined;
      if (h) {
        // A second event's check may have found it too: the first one holds it.
        if (held || !settle) return void h.close();
        held = h;
        return done();
      }
      // A socket bound directly that does not listen yet: no file event will say when it does.
      const bound = await lstat(listener).then((l) => l.isSocket(), () => false);
      if (bound && settle) setTimeout(check, 10);
    }, (err: Error) => {
      // Out of descriptors: the watch's one event for the link has come and gone, so look
      // again on a timer until descriptors are free (or the start gives up on it).
      shortage = outOfDescriptors(err) ? err : undefined;
      if (shortage && settle) setTimeout(check, SHORTAGE_RETRY_MS);
    });
  };

  return {
    path,
    ready,
    arm: async () => {
      // Mounted once the container that names it exists, so a server killed at any moment
      // leaves no mount that no container names (the next start cleans up after those).
      if (tmpfs !== undefined && !mounted) {
        await mountTmpfs(path, tmpfs);
        mounted = true;
      }
      // Watch before the container starts, so the link's creation cannot be missed.
      if (!settle || watcher) return;
      watcher = watch(path, (_event, name) => {
        if (name === null || name === LISTENER_NAME) check();
      });
      watcher.on('error', (err) => done(err));
      check();
    },
    shortage: () => shortage,
    stopWatching: () => done(new Error('stopped watching')),
    remove: async () => {
      done(new Error('removed'));
      const h = held;
      held = undefined;
      await h?.close();
      await (mounted ? removeSocketDir(path) : removeTree(path));
    },
  };
}
