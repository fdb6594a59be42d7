// The container's peak memory, from its cgroup: what `maxMemoryUsedMB` reports (a real
// figure, where the AWS emulator reports the memory size).
import { closeSync, openSync, readSync } from 'node:fs';

export interface PeakMemory {
  /** The peak so far in MB (rounded up), or undefined when no cgroup file is readable. */
  read(): number | undefined;
  close(): void;
}

/**
 * Opens the first readable file of `files` (cgroup v2, then v1) once; each read is then one
 * pread at offset 0 instead of open/stat/read/close, since REPORT needs it on every call's path.
 */
export function openPeakMemory(files: string[]): PeakMemory {
  let fd: number | undefined;
  for (const f of files) {
    try {
      fd = openSync(f, 'r');
      break;
    } catch {
      /* not this cgroup version */
    }
  }
  const buf = Buffer.alloc(32);
  return {
    read() {
      if (fd === undefined) return undefined;
      try {
        const n = readSync(fd, buf, 0, buf.length, 0);
        const bytes = Number(buf.toString('latin1', 0, n).trim());
        return Number.isFinite(bytes) && bytes > 0 ? Math.ceil(bytes / (1024 * 1024)) : undefined;
      } catch {
        return undefined;
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
