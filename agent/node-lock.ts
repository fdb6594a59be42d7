// One running server per node id on a machine. A second server with the same KILN_NODE_ID (the
// default, the host name, on another port) would take the first one's containers for an earlier
// run's leftovers and remove them at its start-up sweep. A pid file in the socket base (Kiln's
// own directory, mode 0700) stops it before that, as PostgreSQL's postmaster.pid does.
import { createHash } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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
}

/** The lock file of `nodeId` in `dir`: named by a hash, as the socket directories are tagged. */
export const nodeLockPath = (dir: string, nodeId: string): string =>
  join(dir, `node-${createHash('sha256').update(nodeId).digest('hex').slice(0, 16)}.pid`);

/** A process's start time, or undefined when no such process runs (in this pid namespace). */
export async function processStarted(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the name (field 2) is in parentheses and may hold spaces, so count after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): NodeLockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<NodeLockHolder>;
    if (typeof v.pid !== 'number' || typeof v.started !== 'string') return undefined;
    return { pid: v.pid, started: v.started, port: typeof v.port === 'number' ? v.port : 0 };
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
 * Takes `nodeId` for this process: fails with NodeIdInUseError while another live server holds it;
 * a file left by a server that is gone (a kill, a crash) is taken over. Returns the release.
 */
export async function lockNodeId(dir: string, nodeId: string, port: number): Promise<() => Promise<void>> {
  const path = nodeLockPath(dir, nodeId);
  const me: NodeLockHolder = { pid: process.pid, started: (await processStarted(process.pid)) ?? '', port };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      try {
        await file.writeFile(text);
      } finally {
        await file.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw err;
      const holder = await liveHolder(path);
      if (holder) throw new NodeIdInUseError(nodeId, holder);
      await unlink(path).catch(() => undefined);
    }
  }
  return async () => {
    // Only our own: a server that took over a file it thought stale keeps its lock.
    if ((await readFile(path, 'utf8').catch(() => '')) === text) await unlink(path).catch(() => undefined);
  };
}
