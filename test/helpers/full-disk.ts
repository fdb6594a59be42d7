// A real filesystem that can be filled: a 20 MiB tmpfs mounted on a temp directory (tests run as
// root), for a database whose disk is full. Always unmounted and removed, whatever the test did.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FullableDir {
  /** The mounted directory. */
  dir: string;
  /** Writes a file until the filesystem has no byte left. */
  fill(): void;
  /** Removes what fill() wrote. */
  free(): void;
}

const FILLER = 'filler';

/** Runs `use` with a fresh tmpfs; `use` must close everything it opened on it before it returns. */
export async function withFullableDir<T>(use: (d: FullableDir) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', dir]);
  const filler = join(dir, FILLER);
  const fill = (): void => {
    const fd = openSync(filler, 'a');
    try {
      // Big chunks first, then small ones for the last pages.
      for (const size of [1 << 20, 4096, 1]) {
        const chunk = Buffer.alloc(size);
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  };
  let result: T;
  try {
    result = await use({ dir, fill, free: () => rmSync(filler, { force: true }) });
  } catch (err) {
    unmount(dir);
    throw err;
  }
  // Something left open on it is the test's failure too.
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
