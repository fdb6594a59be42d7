// A real filesystem that can be filled: a 20 MiB tmpfs (./tmpfs.ts), for a database whose disk is
// full.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { withTmpfs } from './tmpfs.js';

export interface FullableDir {
  /** The mounted directory. */
  dir: string;
  /** Writes a file until the filesystem has no byte left. */
  fill(): void;
  /** Removes what fill() wrote. */
  free(): void;
}

const FILLER = 'filler';

/** Runs `use` with a fresh 20 MiB tmpfs; `use` must close everything it opened on it before it returns. */
export function withFullableDir<T>(use: (d: FullableDir) => Promise<T>): Promise<T> {
  return withTmpfs('size=20m', ({ dir }) => {
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
    return use({ dir, fill, free: () => rmSync(filler, { force: true }) });
  });
}
