// A best-effort cross-process lock around image builds. `node --test` runs test files in
// parallel processes; without it, each would import the ~100 MB base image on a cold cache
// and leave dangling copies behind. A directory is the lock because mkdir is atomic.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A lock older than this is taken to be left over by a killed process. */
const STALE_MS = 10 * 60_000;

export interface BuildLockOptions {
  /** Directory holding lock directories (default: the OS temp dir). */
  dir?: string;
  /** Give up waiting after this long (default 15 minutes). */
  timeoutMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockDir: string): Promise<boolean> {
  try {
    const st = await stat(lockDir);
    if (Date.now() - st.mtimeMs > STALE_MS) return true;
    const pid = Number((await readFile(join(lockDir, 'pid'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 && !alive(pid);
  } catch {
    // The pid file is written just after mkdir; a missing one is a lock being taken right now.
    return false;
  }
}

/** Runs `fn` while holding the lock named `key` (a file-name-safe string). */
export async function withBuildLock<T>(key: string, fn: () => Promise<T>, opts: BuildLockOptions = {}): Promise<T> {
  const lockDir = join(opts.dir ?? tmpdir(), `kiln-build-${key}.lock`);
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockDir)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the image build lock ${lockDir}`);
      await sleep(250);
    }
  }
  try {
    await writeFile(join(lockDir, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
