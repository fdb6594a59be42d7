// The container's peak memory, from its cgroup: what `maxMemoryUsedMB` reports (a real
// figure, where the AWS emulator reports the memory size).
import { readFileSync } from 'node:fs';

export function peakMemoryMb(files: string[]): number | undefined {
  for (const f of files) {
    try {
      const bytes = Number(readFileSync(f, 'utf8').trim());
      if (Number.isFinite(bytes) && bytes > 0) return Math.ceil(bytes / (1024 * 1024));
    } catch {
      /* not this cgroup version */
    }
  }
  return undefined;
}
