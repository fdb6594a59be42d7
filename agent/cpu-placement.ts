// Which CPU each Lambda-format container is pinned to. Such a container runs two processes
// that hand every call back and forth (Kiln's daemon and the function's runtime, over
// loopback); on one CPU each hand-off is a local wake-up instead of a cross-CPU one (an IPI,
// on a VM an exit), which is most of the Lambda layer's per-call overhead. Pure: the agent
// owns one CpuPlacement, the composition root decides which CPUs it gets.
import { LeastUsed } from './least-used.js';

/** A CPU list that is not Linux cpu-list syntax ("0-3,6"). */
export class CpuListError extends Error {
  constructor(readonly text: string, why: string) {
    super(`"${text}" is not a CPU list such as 0-3,6 (${why})`);
    this.name = 'CpuListError';
  }
}

/** Linux builds for at most 8192 CPUs; a bound also keeps "0-99999999" from filling memory. */
export const MAX_CPU = 8191;

/**
 * Parses Linux cpu-list syntax ("0-3,6", "2", " 0-1 ") into ascending, distinct CPU numbers.
 * Throws a CpuListError on anything else (empty, "3-1", "a", "1,,2"): a wrong list is a
 * setting to fix, never a quiet "no CPUs".
 */
export function parseCpuList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new CpuListError(text, 'it is empty');
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new CpuListError(text, `"${part.trim()}" is neither a CPU number nor a range a-b`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to > MAX_CPU) throw new CpuListError(text, `CPU ${to} is above ${MAX_CPU}`);
    if (from > to) throw new CpuListError(text, `the range ${from}-${to} runs backwards`);
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/**
 * The CPUs this process may run on, from the text of /proc/self/status (its
 * `Cpus_allowed_list:` line); undefined when the line is missing or unreadable.
 */
export function cpusAllowed(procStatus: string): number[] | undefined {
  const m = /^Cpus_allowed_list:[ \t]*(.*)$/m.exec(procStatus);
  if (!m?.[1]) return undefined;
  try {
    return parseCpuList(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Lambda gives a function at most one vCPU's worth of CPU up to this much memory (MB), so
 * pinning such a sandbox to one CPU matches its resource model; larger ones get more and
 * are left free.
 */
export const LAMBDA_ONE_VCPU_MAX_MB = 1769;

/** Is a Lambda-format container with this much memory (MB) pinned to one CPU? */
export const pinsToOneCpu = (memoryMb: number): boolean => memoryMb <= LAMBDA_ONE_VCPU_MAX_MB;

/** Spreads containers over CPUs: each goes to the CPU with the fewest placed now. */
export class CpuPlacement extends LeastUsed<number> {
  constructor(cpus: readonly number[]) {
    super(cpus, 'CPU');
  }

  get cpus(): number[] {
    return this.places;
  }
}

/**
 * The placement for Lambda containers over `cpus`, or undefined (no pinning) when fewer than
 * two distinct CPUs are given: on a one-CPU host there is no cross-CPU wake-up to save, and
 * an explicit one-CPU list would crowd every Lambda container onto it.
 */
export function lambdaPlacement(cpus: readonly number[] | undefined): CpuPlacement | undefined {
  if (!cpus || new Set(cpus).size < 2) return undefined;
  return new CpuPlacement(cpus);
}
