// The process entry: settings from the environment, then the server's life (api/run-server.ts:
// signals, exit codes).
import { loadConfig } from './config.js';
import { runServer } from './run-server.js';
import { startFailure } from './start-failure.js';

try {
  await runServer(loadConfig(process.env));
} catch (err) {
  console.error(`kiln: failed to start: ${startFailure(err)}`);
  process.exit(1);
}
