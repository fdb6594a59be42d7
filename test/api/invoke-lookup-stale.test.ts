// Invokes through a database outage (stale-if-error): on PostgreSQL and MySQL made unavailable by
// a proxy this test owns (refusing connections, or holding every byte as a hung server does), a
// fn looked up before the outage is still found, up to KILN_LOOKUP_STALE_MSECS after its read,
// without each invoke waiting KILN_DB_TIMEOUT_MSECS; once the database answers, it is read again.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { idFactory } from '../../api/ids.js';
import { InvokeLookup } from '../../api/invoke-lookup.js';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { App, Fn } from '../../store/types.js';
import { backends } from '../helpers/db.js';
import { partitionable } from '../helpers/partition.js';

const newId = idFactory();
const TS = '2024-02-29T23:59:59.999Z';
const TTL_MS = 50;
const TEST_TIMEOUT = { timeout: 60_000 };

const app = (): App => ({ id: newId(), name: `a${newId()}`, config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: TS, updated_at: TS });
const fn = (appId: string): Fn => ({
  id: newId(), name: 'f', app_id: appId, image: 'img:1', memory: 128, timeout: 30, idle_timeout: 30, format: 'http-stream',
  config: {}, annotations: {}, created_at: TS, updated_at: TS,
});

function capturedLog(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { raw.push(chunk.toString()); done(); } });
  return { log: pino({ level: 'info' }, sink), lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

for (const backend of backends.filter((b) => b.name !== 'sqlite')) {
  describe(`invoke lookups on ${backend.name} through an outage`, () => {
    test('refusing connections: the fn read before is served, one warn line; with KILN_LOOKUP_STALE_MSECS=0 the lookup fails', TEST_TIMEOUT, async () => {
      const db = await backend.create();
      const direct = new SqlStore(await openKnex(db.url));
      const partition = await partitionable(db.url);
      const store = new SqlStore(await openKnex(partition.urlFor(db.url), { timeoutMs: 2000 }));
      try {
        const a = app();
        const f = fn(a.id);
        await direct.insertApp(a);
        await direct.insertFn(f);
        const { log, lines } = capturedLog();
        const lookup = new InvokeLookup(store, TTL_MS, { staleMs: 60_000, log });
        const off = new InvokeLookup(store, TTL_MS, { staleMs: 0 });
        assert.equal((await lookup.byFnId(f.id)).fn.image, 'img:1');
        await off.byFnId(f.id);
        await partition.close(); // its connections cut, new ones refused
        await sleep(TTL_MS * 2);
        for (let i = 0; i < 3; i++) {
          const { value, ms } = await timed(() => lookup.byFnId(f.id));
          assert.deepEqual(value.fn, f);
          assert.deepEqual(value.app, a);
          assert.ok(ms < 2500, `served in ${ms} ms`);
        }
        await assert.rejects(off.byFnId(f.id), 'not served stale when turned off');
        const warned = lines().filter((l) => l.level === 40);
        assert.equal(warned.length, 1, 'one line for the outage');
        assert.match(String(warned[0]!.msg), /KILN_LOOKUP_STALE_MSECS/);
      } finally {
        await store.close();
        await direct.close();
        await db.cleanup();
      }
    });

    test('hung: the first lookup waits at most KILN_DB_TIMEOUT_MSECS, the next ones briefly; once it answers, changes made meanwhile show', TEST_TIMEOUT, async () => {
      const db = await backend.create();
      const direct = new SqlStore(await openKnex(db.url));
      const partition = await partitionable(db.url);
      const store = new SqlStore(await openKnex(partition.urlFor(db.url), { timeoutMs: 1000 }));
      try {
        const a = app();
        const f = fn(a.id);
        await direct.insertApp(a);
        await direct.insertFn(f);
        const { log } = capturedLog();
        const lookup = new InvokeLookup(store, TTL_MS, { staleMs: 60_000, log });
        await lookup.byFnId(f.id);
        partition.cut();
        await sleep(TTL_MS * 2);
        const first = await timed(() => lookup.byFnId(f.id));
        assert.equal(first.value.fn.image, 'img:1');
        assert.ok(first.ms < 2500, `the first within the database's bound: ${first.ms} ms`);
        for (let i = 0; i < 5; i++) {
          const next = await timed(() => lookup.byFnId(f.id));
          assert.equal(next.value.fn.image, 'img:1');
          assert.ok(next.ms < 600, `a later one does not wait the database's bound: ${next.ms} ms`);
        }
        // Another node changes the fn meanwhile; it shows once this node's database answers again.
        await direct.updateFn(f.id, (old) => ({ ...old, image: 'img:2' }));
        partition.heal();
        let image = '';
        for (const until = Date.now() + 20_000; image !== 'img:2' && Date.now() < until; await sleep(100)) {
          image = (await lookup.byFnId(f.id)).fn.image;
        }
        assert.equal(image, 'img:2');
      } finally {
        await store.close();
        await partition.close();
        await direct.close();
        await db.cleanup();
      }
    });
  });
}
