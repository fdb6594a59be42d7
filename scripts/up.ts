// `npm run up`, after scripts/up.sh has the engine and base image ready: starts Kiln on
// SQLite, deploys examples/hello through the REST API as a client would, invokes it, and
// keeps serving in the foreground until Ctrl-C.
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { start } from '../api/boot.js';
import { loadConfig } from '../api/config.js';
import { buildFunctionImage } from '../images/function-image.js';

const example = fileURLToPath(new URL('../../examples/hello', import.meta.url));

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.message ?? ''}`);
  return json;
}

interface Named { id: string; name: string }

const config = loadConfig(process.env);
const running = await start(config);
const base = running.url;
const say = (s: string) => process.stdout.write(`${s}\n`);

try {
  const image = 'kiln-examples/hello:0.0.1';
  say(`kiln: building ${image} from examples/hello (FROM the local Node base image)`);
  await buildFunctionImage(new Docker(), example, image, { vendor: ['@fnproject/fdk'] });

  const apps = await api<{ items: Named[] }>(base, 'GET', '/v2/apps?name=demo');
  const app = apps.items[0] ?? (await api<Named>(base, 'POST', '/v2/apps', { name: 'demo' }));
  const fns = await api<{ items: Named[] }>(base, 'GET', `/v2/fns?app_id=${app.id}&name=hello`);
  const fn = fns.items[0]
    ? await api<Named>(base, 'PUT', `/v2/fns/${fns.items[0].id}`, { image })
    : await api<Named>(base, 'POST', '/v2/fns', { name: 'hello', app_id: app.id, image, memory: 128 });
  const triggers = await api<{ items: Named[] }>(base, 'GET', `/v2/triggers?app_id=${app.id}&name=hello`);
  if (!triggers.items[0]) {
    await api(base, 'POST', '/v2/triggers', { name: 'hello', app_id: app.id, fn_id: fn.id, type: 'http', source: '/hello' });
  }
  say(`kiln: deployed app "demo", fn "hello" (${fn.id}), trigger /hello`);

  const t0 = Date.now();
  const res = await fetch(`${base}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ name: 'Kiln' }) });
  say(`kiln: POST /invoke/${fn.id} -> ${res.status} ${await res.text()} (${Date.now() - t0} ms, cold start)`);

  say('');
  say(`Kiln is running on ${base} (database ${config.dbUrl}). Try:`);
  say(`  curl -s -X POST ${base}/invoke/${fn.id} -d '{"name":"you"}'`);
  say(`  curl -s ${base}/t/demo/hello`);
  say(`  curl -s ${base}/v2/apps`);
  say(`  curl -s ${base}/v2/fns/${fn.id}/calls`);
  say('Ctrl-C stops it (and removes its containers).');
} catch (err) {
  process.stderr.write(`kiln: the demo failed: ${(err as Error).message}\n`);
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
