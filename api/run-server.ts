// The server's life in a process: signals listened for from before start-up, a bound on a stop
// that no longer gets anything done, a second signal's exit now, the exit codes. api/main.ts and
// `npm run up` (scripts/up.ts) both run the server through it, so a Ctrl-C stops either the same way.
import { start } from './boot.js';
import type { Config } from './config.js';
import { STOP_STALL_MS, stopStalled } from './stop-stall.js';

/** A signal this soon after the first is the same one delivered twice, not an operator's second. */
const REPEAT_WINDOW_MS = 500;
/** How often a stop is checked for being stuck. */
const STALL_CHECK_MS = 1000;

type Started = Awaited<ReturnType<typeof start>>;

export interface RunningServer {
  /** Where it listens (http://host:port). */
  url: string;
  /** Aborted once a stop begins (a signal, during start-up too, or stop()): work against the server is moot. */
  stopping: AbortSignal;
  /** Stops as a signal would (`why` names the cause in messages), then exits with `exitCode`. */
  stop(why: string, exitCode?: number): void;
}

/**
 * Starts the server and owns the process from then on: SIGINT/SIGTERM stop it (one during start-up
 * as soon as it is up) and exit 0, or 1 when the stop fails, stalls past the grace period, or a
 * second signal comes. Rejects when the start fails (the caller says why and exits).
 */
export async function runServer(config: Config): Promise<RunningServer> {
  const stopping = new AbortController();
  let started: Started | undefined;
  let pending: { why: string; exitCode: number } | undefined;
  let stoppingSince: number | undefined;

  const beginStop = (why: string, exitCode: number, { stop, stopProgressAt }: Started): void => {
    const since = stoppingSince ?? performance.now();
    // An engine or database that stopped answering would hold the stop for ever, until a
    // supervisor's SIGKILL; one that is merely slow (hundreds of containers to remove) must not
    // be cut. So the bound is on progress: past the grace, nothing done for STOP_STALL_MS.
    const graceEndsAt = since + config.agent.shutdownGraceMs;
    setInterval(() => {
      const now = performance.now();
      if (!stopStalled({ now, graceEndsAt, progressAt: stopProgressAt(), stallMs: STOP_STALL_MS })) return;
      console.error(
        `kiln: still stopping ${Math.round(now - since)} ms after ${why}, with no container removed and nothing written for ${STOP_STALL_MS / 1000} s ` +
          '(the container engine or the database does not answer): exiting; leftovers are removed at the next start',
      );
      process.exit(1);
    }, STALL_CHECK_MS).unref();
    stop().then(
      () => process.exit(exitCode),
      (err: unknown) => {
        console.error(`kiln: error while stopping after ${why}:`, err);
        process.exit(1);
      },
    );
  };

  const requestStop = (why: string, exitCode: number): void => {
    stoppingSince = performance.now();
    stopping.abort();
    if (started) beginStop(why, exitCode, started);
    // One that comes during start-up stops the server as soon as it is up.
    else pending = { why, exitCode };
  };

  const onSignal = (sig: NodeJS.Signals): void => {
    if (stoppingSince !== undefined) {
      // One Ctrl-C may come twice: a terminal sends it to `kiln start` and to this server (its
      // child), and the CLI passes its own on.
      if (performance.now() - stoppingSince < REPEAT_WINDOW_MS) return;
      // A second Ctrl-C or SIGTERM: the operator will not wait.
      console.error(`kiln: ${sig} again: exiting now; containers left running are removed at the next start`);
      process.exit(1);
    }
    requestStop(sig, 0);
  };
  // Listened for before start-up: a signal between the `listening` line and the end of start()
  // killed the process unstopped (a test sending SIGTERM on that line saw it one time in three).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  started = await start(config);
  if (pending) beginStop(pending.why, pending.exitCode, started);
  return {
    url: started.url,
    stopping: stopping.signal,
    stop: (why, exitCode = 0) => {
      if (stoppingSince === undefined) requestStop(why, exitCode);
    },
  };
}
