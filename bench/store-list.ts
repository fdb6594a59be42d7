// Store scale: 10,000 fns across 100 apps, then list-page latency straight from the store and
// through the HTTP API, on SQLite and (when KILN_BENCH_PG_URL is set) PostgreSQL.
import { monotonicFactory } from 'ulid';
import { start } from '../api/boot.js';
import { loadConfig } from '../api/config.js';
import { encodeCursor } from '../api/pagination.js';
import { openKnex } from '../store/open.js';
import { SqlStore } from '../store/sql-store.js';
import { postgresDb, sqliteDb, type TestDb } from '../test/helpers/db.js';
import { fmt, measure } from './stats.js';

const APPS = 100;
const FNS_PER_APP = 100;
const PER_PAGE = 30;
const N = 2000;

async function seed(url: string): Promise<{ appIds: string[]; seconds: number }> {
  const store = new SqlStore(await openKnex(url));
  const ulid = monotonicFactory();
  const now = new Date().toISOString();
  const appIds: string[] = [];
  const t0 = Date.now();
  for (let a = 0; a < APPS; a++) {
    const id = ulid();
    appIds.push(id);
    await store.insertApp({ id, name: `app-${a}`, config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: now, updated_at: now });
    for (let f = 0; f < FNS_PER_APP; f++) {
      await store.insertFn({
        id: ulid(), name: `fn-${String(f).padStart(3, '0')}`, app_id: id, image: `img/${f}:1`, memory: 128, timeout: 30,
        idle_timeout: 30, format: 'http-stream', config: { K: 'v' }, annotations: {}, created_at: now, updated_at: now,
      });
    }
  }
  await store.close();
  return { appIds, seconds: (Date.now() - t0) / 1000 };
}

/** A random app and a random starting point inside its list. */
function pick(appIds: string[], i: number): { appId: string; after: string } {
  const appId = appIds[(i * 7919) % appIds.length]!;
  const after = `fn-${String((i * 31) % (FNS_PER_APP - PER_PAGE)).padStart(3, '0')}`;
  return { appId, after };
}

async function run(label: string, db: TestDb): Promise<void> {
  try {
    const { appIds, seconds } = await seed(db.url);
    console.log(`\n${label}: seeded ${APPS * FNS_PER_APP} fns across ${APPS} apps in ${seconds.toFixed(1)} s`);

    const store = new SqlStore(await openKnex(db.url));
    const direct = await measure(N, 200, async (i) => {
      const { appId, after } = pick(appIds, i);
      const page = await store.listFns({ appId, perPage: PER_PAGE, after });
      if (page.items.length !== PER_PAGE) throw new Error('short page');
    });
    console.log(`  store.listFns (page of ${PER_PAGE})        ${fmt(direct)}`);
    await store.close();

    const srv = await start(loadConfig({ FN_PORT: '0', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'silent', FN_DB_URL: db.url }));
    try {
      const http = await measure(N, 200, async (i) => {
        const { appId, after } = pick(appIds, i);
        const res = await fetch(`${srv.url}/v2/fns?app_id=${appId}&cursor=${encodeCursor(after)}`);
        const body = (await res.json()) as { items: unknown[] };
        if (body.items.length !== PER_PAGE) throw new Error('short page');
      });
      console.log(`  GET /v2/fns?app_id&cursor (HTTP)     ${fmt(http)}`);
      const apps = await measure(N, 200, async (i) => {
        const res = await fetch(`${srv.url}/v2/apps?cursor=${encodeCursor(`app-${i % 60}`)}`);
        await res.arrayBuffer();
      });
      console.log(`  GET /v2/apps?cursor (HTTP)           ${fmt(apps)}`);
    } finally {
      await srv.stop();
    }
  } finally {
    await db.cleanup();
  }
}

await run('SQLite', await sqliteDb());
if (process.env.KILN_BENCH_PG_URL) await run('PostgreSQL', await postgresDb());
