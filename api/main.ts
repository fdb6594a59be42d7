// The process entry: settings from the environment, signals, exit codes.
import { loadConfig } from './config.js';
import { start } from './boot.js';

async function main(): Promise<void> {
  const { stop } = await start(loadConfig(process.env));
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
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
  console.error('kiln: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
