// The per-container socket directory of the http-stream contract, and readiness: the container
// binds phonylsnr.sock, then links lsnr.sock -> phonylsnr.sock (relative, same directory); or,
// as Fn's agent also takes, binds lsnr.sock itself.
import { watch, type FSWatcher } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readlink, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, join } from 'node:path';

export const LISTENER_NAME = 'lsnr.sock';
/** Linux's sun_path holds 108 bytes, NUL included. */
const MAX_SOCKET_PATH = 107;

export interface SocketDir {
  path: string;
  socketPath: string;
  /** Resolves once lsnr.sock is a valid link to a socket; the watch is already set up. */
  ready: Promise<void>;
  /** Stops watching (ready rejects if still pending). */
  stopWatching(): void;
  remove(): Promise<void>;
}

/** Whether something accepts connections at `path`: a socket bound but not listening yet refuses. */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Checks lsnr.sock: a relative symlink to a name in the same directory that is a socket, or a
 * socket itself that accepts connections (bound directly, as Fn's checkSocketDestination takes;
 * the link is made only once the phony socket listens, a direct bind comes before its listen).
 */
export async function isListenerReady(dir: string): Promise<boolean> {
  const link = join(dir, LISTENER_NAME);
  try {
    const l = await lstat(link);
    if (l.isSocket()) return await accepts(link);
    if (!l.isSymbolicLink()) return false;
    const target = await readlink(link);
    if (target.includes('/') || target !== basename(target) || target === LISTENER_NAME) return false;
    // lstat, not stat: the target must itself be the socket, not a further link leading out
    // of the directory (say, to the engine's socket on the host).
    return (await lstat(join(dir, target))).isSocket();
  } catch {
    return false;
  }
}

/** The socket path a directory under `base` will have (mkdtemp adds six characters). */
export function socketPathFor(base: string): string {
  return join(base, 'cXXXXXX', LISTENER_NAME);
}

/** Throws when sockets under `base` would not fit in a unix socket address. */
export function checkSocketBase(base: string): void {
  const path = socketPathFor(base);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(`FN_IOFS_PATH "${base}" is too long: socket paths like ${path} are over ${MAX_SOCKET_PATH} bytes`);
  }
}

/** Makes a fresh directory (mode 0777, so the container's user can bind in it) and watches it. */
export async function makeSocketDir(base: string): Promise<SocketDir> {
  await mkdir(base, { recursive: true });
  checkSocketBase(base);
  const path = await mkdtemp(join(base, 'c'));
  await chmod(path, 0o777);
  const socketPath = join(path, LISTENER_NAME);

  let watcher: FSWatcher | undefined;
  let settle: { resolve(): void; reject(e: Error): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  ready.catch(() => {});
  const done = (err?: Error) => {
    watcher?.close();
    watcher = undefined;
    const s = settle;
    settle = undefined;
    if (!s) return;
    if (err) s.reject(err);
    else s.resolve();
  };
  const check = () => {
    if (!settle) return;
    void isListenerReady(path).then(async (ok) => {
      if (ok) return done();
      // A socket bound directly that does not listen yet: no file event will say when it does.
      const bound = await lstat(socketPath).then((l) => l.isSocket(), () => false);
      if (bound && settle) setTimeout(check, 10);
    });
  };
  // Watch before the container starts, so the link's creation cannot be missed.
  try {
    watcher = watch(path, (_event, name) => {
      if (name === null || name === LISTENER_NAME) check();
    });
  } catch (err) {
    // Out of inotify instances, say: no directory is left behind.
    await rm(path, { recursive: true, force: true });
    throw err;
  }
  watcher.on('error', (err) => done(err));
  check();

  return {
    path,
    socketPath,
    ready,
    stopWatching: () => done(new Error('stopped watching')),
    remove: async () => {
      done(new Error('removed'));
      await rm(path, { recursive: true, force: true });
    },
  };
}
