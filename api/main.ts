// The process entry: settings from the environment, signals, exit codes.
import { loadConfig } from './config.js';
import { start } from './boot.js';
import { startFailure } from './start-failure.js';
import { STOP_STALL_MS, stopStalled } from './stop-stall.js';

/** A signal this soon after the first is the same one delivered twice, not an operator's second. */
const REPEAT_WINDOW_MS = 500;
/** How often a stop is checked for being stuck. */
const STALL_CHECK_MS = 1000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // Listened for before start-up: a signal between the `listening` line and the end of start()
  // killed the process unstopped (a test sending SIGTERM on that line saw it one time in three).
  // One that comes during start-up stops the server as soon as it is up.
  let started: Awaited<ReturnType<typeof start>> | undefined;
  let stopAfterStart: NodeJS.Signals | undefined;
  let stoppingSince: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // One Ctrl-C may come twice: a terminal sends it to `kiln start` and to this server (its
      // child), and the CLI passes its own on.
      if (performance.now() - stoppingSince < REPEAT_WINDOW_MS) return;
      // A second Ctrl-C or SIGTERM: the operator will not wait.
      console.error(`kiln: ${sig} again: exiting now; containers left running are removed at the next start`);
      process.exit(1);
    }
    stoppingSince = performance.now();
    if (!started) {
      stopAfterStart = sig;
      return;
    }
    beginStop(sig, started);
  };
  const beginStop = (sig: NodeJS.Signals, { stop, stopProgressAt }: NonNullable<typeof started>) => {
    const since = stoppingSince ?? performance.now();
    // An engine or database that stopped answering would hold the stop for ever, until a
    // supervisor's SIGKILL; one that is merely slow (hundreds of containers to remove) must not
    // be cut. So the bound is on progress: past the grace, nothing done for STOP_STALL_MS.
    const graceEndsAt = since + config.agent.shutdownGraceMs;
    setInterval(() => {
      const now = performance.now();
      if (!stopStalled({ now, graceEndsAt, progressAt: stopProgressAt(), stallMs: STOP_STALL_MS })) return;
      console.error(
        `kiln: still stopping ${Math.round(now - since)} ms after ${sig}, with no container removed and nothing written for ${STOP_STALL_MS / 1000} s ` +
          '(the container engine or the database does not answer): exiting; leftovers are removed at the next start',
      );
      process.exit(1);
    }, STALL_CHECK_MS).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`kiln: error while stopping after ${sig}:`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  started = await start(config);
  if (stopAfterStart) beginStop(stopAfterStart, started);
}

main().catch((err: unknown) => {
  console.error(`kiln: failed to start: ${startFailure(err)}`);
  process.exit(1);
});
