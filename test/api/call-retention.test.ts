// KILN_CALL_RETENTION_HOURS in a running server: calls and logs older than it go at start-up and
// then on the schedule; newer ones stay; 0 keeps everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ulid } from 'ulid';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { Call } from '../../store/types.js';
import { eventually } from '../helpers/containers.js';
import { sqliteDb } from '../helpers/db.js';
import { call, startServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const FN = ulid();

function callAt(timeMs: number): Call {
  const at = new Date(timeMs).toISOString();
  return { id: ulid(timeMs), app_id: 'A'.repeat(26), fn_id: FN, status: 'success', created_at: at, completed_at: at, stats: [] };
}

async function insert(url: string, calls: Call[]): Promise<void> {
  const store = new SqlStore(await openKnex(url));
  try {
    await store.insertCalls(calls.map((c) => ({ call: c, log: `log of ${c.id}` })));
  } finally {
    await store.close();
  }
}

const status = async (url: string, c: Call): Promise<[number, number]> => [
  (await call(url, 'GET', `/v2/fns/${FN}/calls/${c.id}`)).status,
  (await call(url, 'GET', `/v2/fns/${FN}/calls/${c.id}/log`)).status,
];

test('calls past the retention are gone soon after start and on the schedule; younger ones stay', async () => {
  const db = await sqliteDb();
  const old = callAt(Date.now() - 2 * HOUR);
  const young = callAt(Date.now() - 60_000);
  await insert(db.url, [old, young]);
  // 0.02 hours: 72 s, pruned every 7.2 s.
  const srv = await startServer(db.url, { KILN_CALL_RETENTION_HOURS: '0.02' });
  try {
    assert.ok(await eventually(async () => (await status(srv.url, old))[0] === 404, 3000), 'the old call went at start-up');
    assert.deepEqual(await status(srv.url, old), [404, 404]);
    assert.deepEqual(await status(srv.url, young), [200, 200], 'a call a minute old stays');
    // A call that passes the retention while the server runs goes on a later pass.
    const aging = callAt(Date.now() - 72_000 + 2000);
    await insert(db.url, [aging]);
    assert.deepEqual(await status(srv.url, aging), [200, 200]);
    assert.ok(await eventually(async () => (await status(srv.url, aging))[0] === 404, 15_000), 'the aging call went on the schedule');
    assert.deepEqual(await status(srv.url, aging), [404, 404]);
  } finally {
    await srv.stop();
    await db.cleanup();
  }
});

test('KILN_CALL_RETENTION_HOURS=0 keeps every call', async () => {
  const db = await sqliteDb();
  const ancient = callAt(Date.parse('2020-01-01T00:00:00.000Z'));
  await insert(db.url, [ancient]);
  const srv = await startServer(db.url, { KILN_CALL_RETENTION_HOURS: '0' });
  try {
    // What the default would have pruned at once (a check that the test can see pruning: below).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(await status(srv.url, ancient), [200, 200]);
  } finally {
    await srv.stop();
  }
  // The default (a week) takes it at start-up.
  const dflt = await startServer(db.url);
  try {
    assert.ok(await eventually(async () => (await status(dflt.url, ancient))[0] === 404, 3000), 'the default prunes a call from 2020');
  } finally {
    await dflt.stop();
    await db.cleanup();
  }
});
