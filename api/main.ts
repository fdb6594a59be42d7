// The process entry: settings from the environment, signals, exit codes.
import { loadConfig, MAX_TIMER_MS } from './config.js';
import { start } from './boot.js';
import { startFailure } from './start-failure.js';

/**
 * How long, past the grace period for running calls, removing the containers and writing the
 * last call records may take. An engine or database that stopped answering would otherwise hold
 * the stop for ever, until a supervisor's SIGKILL; what is left then is removed at the next start.
 */
const SWEEP_BOUND_MS = 15_000;
/** A signal this soon after the first is the same one delivered twice, not an operator's second. */
const REPEAT_WINDOW_MS = 500;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const { stop } = await start(config);
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
    const bound = Math.min(config.agent.shutdownGraceMs + SWEEP_BOUND_MS, MAX_TIMER_MS);
    setTimeout(() => {
      console.error(`kiln: still stopping ${bound} ms after ${sig} (the container engine or the database does not answer): exiting; leftovers are removed at the next start`);
      process.exit(1);
    }, bound).unref();
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
}

main().catch((err: unknown) => {
  console.error(`kiln: failed to start: ${startFailure(err)}`);
  process.exit(1);
});
