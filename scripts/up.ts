// `npm run up`, after scripts/up.sh has the engine and base image ready: starts Kiln on
// SQLite, deploys examples/hello with the CLI's deploy (as `kiln deploy --app demo
// --create-app --no-bump` would), invokes it with the CLI's invoke, and keeps serving in
// the foreground until Ctrl-C.
import { fileURLToPath } from 'node:url';
import { start } from '../api/boot.js';
import { loadConfig, type Config } from '../api/config.js';
import { startFailure } from '../api/start-failure.js';
import { KilnClient } from '../cli/client.js';
import { deployDir } from '../cli/deploy.js';
import { checkDocker, dockerFromEnv } from '../cli/docker.js';
import { describeError } from '../cli/errors.js';
import { invokeFn } from '../cli/invoke.js';
import { processIo } from '../cli/io.js';

const example = fileURLToPath(new URL('../../examples/hello', import.meta.url));

let config: Config;
let running: Awaited<ReturnType<typeof start>>;
try {
  config = loadConfig(process.env);
  running = await start(config);
} catch (err) {
  process.stderr.write(`kiln: failed to start: ${startFailure(err)}\n`);
  process.exit(1);
}
const base = running.url;
const say = (s: string) => process.stdout.write(`${s}\n`);

try {
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

  const t0 = Date.now();
  const res = await invokeFn(client, fn.id, { body: Buffer.from(JSON.stringify({ name: 'Kiln' })), contentType: 'application/json' });
  say(`kiln: POST /invoke/${fn.id} -> ${res.status} ${res.body.toString('utf8')} (${Date.now() - t0} ms, cold start)`);

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
} catch (err) {
  process.stderr.write(`kiln: the demo failed: ${describeError(err).text}\n`);
  process.exitCode = 1;
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  running.stop().then(() => process.exit(process.exitCode ?? 0), () => process.exit(1));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// KILN_UP_ONCE=1: show the demo, then stop (the test of `npm run up` uses it).
if (process.env.KILN_UP_ONCE === '1') stop();
