// A real, small filesystem of a test's own: a tmpfs mounted on a fresh temp directory (tests run
// as root), for a disk, an FN_IOFS_PATH or a TMPDIR that runs out of space or inodes. Always
// unmounted and removed, whatever the test did.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  /** The mounted directory. */
  dir: string;
  /** Mounts it again with other options (`size=512m`: room again), keeping what is on it. */
  remount(options: string): void;
}

/** Whether this process may mount one (tests that need it skip otherwise). */
export const canMountTmpfs = (): boolean => process.getuid?.() === 0;

/**
 * Runs `use` with a fresh tmpfs mounted with `options` (mount's -o: `size=20m`, `nr_inodes=8`).
 * `use` must close everything it opened on it before it returns: something still open there
 * fails the test, once the mount is detached.
 */
export async function withTmpfs<T>(options: string, use: (fs: Tmpfs) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  let result: T;
  try {
    result = await use({ dir, remount: (o) => execFileSync('mount', ['-o', `remount,${o}`, dir]) });
  } catch (err) {
    unmount(dir);
    throw err;
  }
  if (!unmount(dir)) throw new Error(`${dir} was still in use when the test ended`);
  return result;
}

/** Unmounts and removes `dir`; when busy, detaches it (freed once its last file is closed), and says so. */
function unmount(dir: string): boolean {
  let clean = true;
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    clean = false;
    execFileSync('umount', ['-l', dir]);
  }
  rmdirSync(dir);
  return clean;
}
