// When a stop is stuck rather than slow: the bound on a SIGTERM/SIGINT stop (api/main.ts).

/** How long a stop, past the grace period for running calls, may go without getting anything done. */
export const STOP_STALL_MS = 15_000;

export interface StopProgress {
  /** Now, on the clock of the others (performance.now()). */
  now: number;
  /** When the grace period for running calls ends (the signal's time plus KILN_SHUTDOWN_GRACE_MSECS). */
  graceEndsAt: number;
  /** When the stop last got something done (a container removed, the sweep, the records written); undefined: nothing yet. */
  progressAt: number | undefined;
  stallMs: number;
}

/**
 * Whether the stop is stuck: past the grace period, nothing done for `stallMs`. A healthy engine
 * removing hundreds of containers one after another keeps it going however long that takes; an
 * engine or a database that stopped answering does not.
 */
export function stopStalled(p: StopProgress): boolean {
  return p.now - Math.max(p.graceEndsAt, p.progressAt ?? -Infinity) >= p.stallMs;
}
