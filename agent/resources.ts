// Reservations of memory and CPU, held by each container for its whole life (as Fn's tracker).
// Totals come from the host and its cgroup, less headroom, capped by settings.
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

export interface Capacity {
  memoryBytes: number;
  cpuMilli: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function readNumber(path: string): number | undefined {
  try {
    const v = readFileSync(path, 'utf8').trim().split(/\s+/);
    if (v[0] === 'max') return undefined;
    const n = Number(v[0]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function memAvailable(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m?.[1]) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return totalmem();
}

/**
 * The memory containers may have: the smaller of free memory and the cgroup limit, less headroom
 * (10%, at least 256 MiB, at most 5 GiB), capped by FN_MAX_TOTAL_MEMORY_BYTES (0: none). Whole
 * bytes: the 10% would otherwise leave a fraction, shown as such in /metrics.
 */
export function memoryCapacity(available: number, cgroupLimit: number | undefined, maxMemoryBytes: number): number {
  let mem = cgroupLimit !== undefined && cgroupLimit < available ? cgroupLimit : available;
  const headroom = Math.min(5 * GiB, Math.max(256 * MiB, mem * 0.1));
  mem = Math.max(0, Math.floor(mem - headroom));
  return maxMemoryBytes > 0 ? Math.min(mem, maxMemoryBytes) : mem;
}

/** What this host can give containers: the smaller of free memory and the cgroup limit, less headroom. */
export function hostCapacity(maxMemoryBytes: number, maxCpuMilli: number): Capacity {
  // cgroup v2, then v1; a huge v1 value means "no limit".
  const limit = readNumber('/sys/fs/cgroup/memory.max') ?? readNumber('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const mem = memoryCapacity(memAvailable(), limit, maxMemoryBytes);

  let cpu = availableParallelism() * 1000;
  const quota = readNumber('/sys/fs/cgroup/cpu.max');
  const period = (() => {
    try {
      return Number(readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/)[1]);
    } catch {
      return NaN;
    }
  })();
  if (quota !== undefined && Number.isFinite(period) && period > 0) cpu = Math.min(cpu, Math.floor((quota / period) * 1000));
  if (maxCpuMilli > 0) cpu = Math.min(cpu, maxCpuMilli);
  return { memoryBytes: mem, cpuMilli: cpu };
}

export class ResourceTracker {
  private usedMemory = 0;
  private usedCpu = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly total: Capacity) {}

  /** Could this ever fit, on an empty host? */
  fitsAtAll(memoryBytes: number, cpuMilli: number): boolean {
    return memoryBytes <= this.total.memoryBytes && cpuMilli <= this.total.cpuMilli;
  }

  tryReserve(memoryBytes: number, cpuMilli: number): boolean {
    if (this.usedMemory + memoryBytes > this.total.memoryBytes) return false;
    if (this.usedCpu + cpuMilli > this.total.cpuMilli) return false;
    this.usedMemory += memoryBytes;
    this.usedCpu += cpuMilli;
    return true;
  }

  release(memoryBytes: number, cpuMilli: number): void {
    this.usedMemory = Math.max(0, this.usedMemory - memoryBytes);
    this.usedCpu = Math.max(0, this.usedCpu - cpuMilli);
    this.wake();
  }

  /** Wakes every waiter to look again: something was released, or a container became evictable. */
  wake(): void {
    // Called after every call that leaves a container idle: nothing to copy when nobody waits.
    if (this.waiters.size === 0) return;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves at the next release or wake(), or false when the signal aborts first. */
  nextRelease(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const wake = () => {
        this.waiters.delete(wake);
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = () => {
        this.waiters.delete(wake);
        resolve(false);
      };
      this.waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  get free(): Capacity {
    return { memoryBytes: this.total.memoryBytes - this.usedMemory, cpuMilli: this.total.cpuMilli - this.usedCpu };
  }

  get used(): Capacity {
    return { memoryBytes: this.usedMemory, cpuMilli: this.usedCpu };
  }
}
