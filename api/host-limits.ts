// Container limits the kernel cannot give: refused at start-up, naming the setting, rather than
// accepted and then failing every container start (runc: "error setting rlimit type 7").
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/**
 * The largest pids.max the kernel's pids controller takes (PID_MAX_LIMIT on 64-bit Linux): a
 * larger one is EINVAL at every start; up to it, values past kernel.pid_max are taken (and mean
 * no more than it).
 */
export const PID_MAX_LIMIT = 4_194_304;

/** The kernel's own ceiling on fs.nr_open (INT_MAX rounded down to a multiple of 64). */
export const NR_OPEN_CEILING = 2_147_483_584;

/** What this host's kernel allows, when the engine runs on it (else unknown: undefined). */
export interface HostFacts {
  /** fs.nr_open: no process, root's included, may have a nofile limit above it. */
  nrOpen: number | undefined;
  /** Bytes of RAM: memory locked past it cannot be, so a memlock limit past it is a mistake. */
  totalMemory: number | undefined;
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * This host's facts when the engine is on it (its unix socket; fs.nr_open is not namespaced, so
 * a server in a container reads the host's); a remote engine's host is not this one.
 */
export function hostFacts(engineLocal: boolean): HostFacts {
  if (!engineLocal) return { nrOpen: undefined, totalMemory: undefined };
  return { nrOpen: readNumber('/proc/sys/fs/nr_open'), totalMemory: totalmem() };
}

/** The limits to check, as given (0: not set). */
export interface GivenLimits {
  FN_MAX_OPEN_FILES: number;
  FN_MAX_LOCKED_MEMORY: number;
}

/** One message per setting past what the host allows, as `NAME: must ...`. */
export function hostLimitIssues(given: GivenLimits, facts: HostFacts): string[] {
  const issues: string[] = [];
  const open = given.FN_MAX_OPEN_FILES;
  if (facts.nrOpen !== undefined && open > facts.nrOpen) {
    issues.push(`FN_MAX_OPEN_FILES: must be at most ${facts.nrOpen}, this host's fs.nr_open (/proc/sys/fs/nr_open), or 0 for the engine's default, got "${open}": the kernel refuses a larger nofile limit and no container could start`);
  }
  const locked = given.FN_MAX_LOCKED_MEMORY;
  if (facts.totalMemory !== undefined && locked > facts.totalMemory) {
    issues.push(`FN_MAX_LOCKED_MEMORY: must be at most ${facts.totalMemory}, this host's memory in bytes, or 0 for the engine's default, got "${locked}": more cannot be locked, and runc refuses a memlock limit above the engine's own`);
  }
  return issues;
}
