// `npm run up`, after scripts/up.sh has the engine and base image ready: runs Kiln (on SQLite
// unless FN_DB_URL says otherwise) as api/main.ts does, deploys examples/hello to it with the
// CLI's deploy (as `kiln deploy --app demo --create-app --no-bump` would), invokes it with the
// CLI's invoke, and keeps serving in the foreground until Ctrl-C.
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../api/config.js';
import { runServer, type RunningServer } from '../api/run-server.js';
import { startFailure } from '../api/start-failure.js';
import { KilnClient } from '../cli/client.js';
import { deployDir } from '../cli/deploy.js';
import { checkDocker, dockerFromEnv } from '../cli/docker.js';
import { describeError } from '../cli/errors.js';
import { invokeFn } from '../cli/invoke.js';
import { processIo } from '../cli/io.js';

const example = fileURLToPath(new URL('../../examples/hello', import.meta.url));
const say = (s: string) => process.stdout.write(`${s}\n`);

let config: Config;
let server: RunningServer;
try {
  config = loadConfig(process.env);
  // The server's own life (signals from before start-up on, exit codes): a Ctrl-C during the
  // demo stops it and removes its containers as it would once the demo is over.
  server = await runServer(config);
} catch (err) {
  process.stderr.write(`kiln: failed to start: ${startFailure(err)}\n`);
  process.exit(1);
}

/** The demo, as a client of the server over HTTP; returns early once the server is stopping. */
async function demo(base: string, stopping: AbortSignal): Promise<void> {
  if (stopping.aborted) return;
  const io = processIo();
  const docker = dockerFromEnv(process.env);
  await checkDocker(docker, process.env);
  // With KILN_AUTH_TOKENS set, the demo uses the first token, as a user's CLI context would.
  const token = config.authTokens[0];
  const client = new KilnClient({ url: base, ...(token && { token }) });
  // No bump: the example's func.yaml stays as it is in the repository.
  const { fn, image } = await deployDir(client, docker, io, example, {
    app: 'demo',
    createApp: true,
    noBump: true,
    registry: 'kiln-examples',
  });
  say(`kiln: deployed app "demo", fn "hello" (${fn.id}) as ${image}, trigger /hello`);
  if (stopping.aborted) return;

  const t0 = Date.now();
  const res = await invokeFn(client, fn.id, { body: Buffer.from(JSON.stringify({ name: 'Kiln' })), contentType: 'application/json' });
  say(`kiln: POST /invoke/${fn.id} -> ${res.status} ${res.body.toString('utf8')} (${Date.now() - t0} ms, cold start)`);
  if (stopping.aborted) return;

  say('');
  say(`Kiln is running on ${base} (database ${config.dbUrl}). Try:`);
  if (token) say('  (the server wants a token: export FN_TOKEN=<one of KILN_AUTH_TOKENS>, and add -H "Authorization: Bearer $FN_TOKEN" to curl but /t/)');
  say(`  FN_API_URL=${base} node dist/cli/main.js invoke demo hello --body '{"name":"you"}'`);
  say(`  curl -s -X POST ${base}/invoke/${fn.id} -d '{"name":"you"}'`);
  say(`  curl -s ${base}/t/demo/hello`);
  say(`  FN_API_URL=${base} node dist/cli/main.js calls demo hello`);
  say(`  curl -s ${base}/v2/fns/${fn.id}/calls`);
  if (config.ui) say(`  open ${base}/ui/ in a browser: the web view of apps, fns and calls`);
  say('Ctrl-C stops it (and removes its containers).');
}

let demoFailed = false;
try {
  await demo(server.url, server.stopping);
} catch (err) {
  // Once a stop began, the server refusing the demo's requests is that stop, not a failure.
  if (!server.stopping.aborted) {
    process.stderr.write(`kiln: the demo failed: ${describeError(err).text}\n`);
    demoFailed = true;
  }
}
// KILN_UP_ONCE=1: show the demo, then stop (the tests of `npm run up` use it).
if (process.env.KILN_UP_ONCE === '1') server.stop('the demo (KILN_UP_ONCE)', demoFailed ? 1 : 0);
