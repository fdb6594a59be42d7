// Kiln's Lambda runtime daemon: the entrypoint of every `format: lambda` container. It
// serves the Lambda APIs on 127.0.0.1:9001, supervises the extensions and the bootstrap, and
// answers the agent over http-stream. Bundled into one file (dist/runtime/daemon.js).
import { createServer } from 'node:http';
import { loadDaemonConfig } from './config.js';
import { containerLog } from './container-log.js';
import { lambdaApi } from './lambda-api.js';
import { httpStreamHandler, listenHttpStream } from './http-stream.js';
import { MAX_HEADER_BYTES, serverTimeouts } from './http-util.js';
import { openPeakMemory } from './memory.js';
import { Sandbox } from './sandbox.js';
import { Telemetry } from './telemetry.js';

async function main(): Promise<void> {
  const cfg = loadDaemonConfig(process.env);
  // A bad log setting falls back to its default; say so once, in the container's output.
  for (const w of cfg.log.warnings) process.stderr.write(`kiln runtime daemon: ${w}\n`);
  const telemetry = new Telemetry();
  const out = containerLog(process.stdout);
  const sandbox = new Sandbox({ cfg, telemetry, peakMemory: openPeakMemory(cfg.memoryPeakFiles), out });

  const [host, port] = cfg.apiAddress.split(':');
  const api = createServer({ keepAliveTimeout: 60_000, maxHeaderSize: MAX_HEADER_BYTES, ...serverTimeouts(cfg.headersTimeoutMs) }, lambdaApi({
    sandbox, telemetry, functionName: cfg.functionName, functionVersion: cfg.functionVersion, handler: cfg.handler, apiPort: Number(port),
    maxResponseBytes: cfg.maxResponseBytes,
  }));
  // A client that half-closes its side once its request is sent (nc -N, socat, shutdown(SHUT_WR))
  // still reads the answer, as from the service's Go server: node:http would abort the request
  // and close at the client's FIN, and a `next` parked so lost the event it was then given.
  // (A long-standing http.Server property, which @types/node leaves out.)
  (api as typeof api & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  await new Promise<void>((resolve, reject) => {
    api.once('error', reject);
    api.listen(Number(port), host, () => resolve());
  });

  sandbox.startInit();

  const exit = () => {
    api.close();
    // Let the last answer leave before the process goes.
    setTimeout(() => process.exit(0), 20).unref();
  };
  const handler = httpStreamHandler({ sandbox, out, timeoutMs: cfg.timeoutSec * 1000, functionName: cfg.functionName, onShutdown: exit });
  await listenHttpStream(cfg.listener, handler, cfg.headersTimeoutMs);

  // `docker stop`: the same shutdown as an agent's retirement request.
  const onSignal = () => void sandbox.shutdown('spindown').then(exit);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`kiln runtime daemon: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
