// One running server per node id among the servers that share a socket base (FN_IOFS_PATH; by
// default, those on one machine with one TMPDIR). A second server with the same KILN_NODE_ID (the
// default, the host name, on another port) would take the first one's containers for an earlier
// run's leftovers and remove them at its start-up sweep. A pid file in the socket base (Kiln's own
// directory, mode 0700) stops it before that, as PostgreSQL's postmaster.pid does.
import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Another live server holds this node id. */
export class NodeIdInUseError extends Error {
  constructor(readonly nodeId: string, readonly holder: NodeLockHolder) {
    super(
      `another Kiln server (pid ${holder.pid}${holder.port ? `, port ${holder.port}` : ''}) is running with node id "${nodeId}" on this machine, ` +
        'and this one would remove its containers: give each server its own KILN_NODE_ID (or stop the other one first)',
    );
    this.name = 'NodeIdInUseError';
  }
}

export interface NodeLockHolder {
  pid: number;
  /** The process's start time (/proc/PID/stat, clock ticks since boot): a reused pid is not the holder. */
  started: string;
  port: number;
  /** This holding's own mark: a release removes its own file only. */
  token: string;
}

/** The lock file of `nodeId` in `dir`: named by a hash, as the socket directories are tagged. */
export const nodeLockPath = (dir: string, nodeId: string): string =>
  join(dir, `node-${createHash('sha256').update(nodeId).digest('hex').slice(0, 16)}.pid`);

/** How often a holder touches its file, so that a cleaner of old temporary files leaves it. */
const TOUCH_MS = 60 * 60_000;
/** A takeover takes microseconds: a takeover mark older than this was left by a crash. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * The start time in a /proc/PID/stat line (field 22), or undefined when the process has died: a
 * zombie (state Z, or X) is dead, only not yet reaped by its parent, which may take a while or
 * never happen. The name (field 2) is in parentheses and may hold spaces, so fields are counted
 * after it.
 */
export function liveStartTime(stat: string): string | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  return state === 'Z' || state === 'X' ? undefined : fields[19];
}

/** A process's start time, or undefined when no such process runs (in this pid namespace). */
export async function processStarted(pid: number): Promise<string | undefined> {
  try {
    return liveStartTime(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): NodeLockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<NodeLockHolder>;
    if (typeof v.pid !== 'number' || typeof v.started !== 'string') return undefined;
    return { pid: v.pid, started: v.started, port: typeof v.port === 'number' ? v.port : 0, token: typeof v.token === 'string' ? v.token : '' };
  } catch {
    return undefined;
  }
}

/** The holder named in `path` when it still runs and is another process; undefined otherwise. */
async function liveHolder(path: string): Promise<NodeLockHolder | undefined> {
  const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
  // This very process (a server started again in it, as tests do) holds nothing against itself.
  if (!holder || holder.pid === process.pid) return undefined;
  return (await processStarted(holder.pid)) === holder.started ? holder : undefined;
}

/**
 * Runs `fn` holding the takeover mark (a directory: mkdir is atomic), so that of two servers
 * finding the same stale file one replaces it and the other then finds the first one alive.
 */
async function withTakeoverMark<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const mark = `${path}.takeover`;
  for (let i = 0; ; i++) {
    try {
      await mkdir(mark);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(mark).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > TAKEOVER_STALE_MS || i >= 100) await rmdir(mark).catch(() => undefined);
      else await sleep(20);
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(mark).catch(() => undefined);
  }
}

/**
 * Takes `nodeId` for this process: fails with NodeIdInUseError while another live server holds it;
 * a file left by a server that is gone (a kill, a crash), naming a pid another process has taken
 * since, broken, or this process's own is taken over. Returns the release.
 */
export async function lockNodeId(dir: string, nodeId: string, port: number): Promise<() => Promise<void>> {
  const path = nodeLockPath(dir, nodeId);
  const me: NodeLockHolder = { pid: process.pid, started: (await processStarted(process.pid)) ?? '', port, token: randomUUID() };
  const text = `${JSON.stringify(me)}\n`;
  // Written whole beside it, then put in place: the lock file is never seen half-written.
  const temp = `${path}.${me.token}`;
  await writeFile(temp, text, { mode: 0o600 });
  try {
    try {
      // link() fails when the path exists: the exclusive creation.
      await link(temp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      await withTakeoverMark(path, async () => {
        const holder = await liveHolder(path);
        if (holder) throw new NodeIdInUseError(nodeId, holder);
        await rename(temp, path);
      });
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const touch = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, TOUCH_MS);
  touch.unref();
  return async () => {
    clearInterval(touch);
    // Only our own: a server that took over a file it thought stale keeps its lock.
    if ((await readFile(path, 'utf8').catch(() => '')) === text) await unlink(path).catch(() => undefined);
  };
}
