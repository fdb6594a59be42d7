// Calls and logs in the store, on every backend: batch writes, newest-first pages, logs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import { LogBuffer } from '../../agent/log-buffer.js';
import type { Call } from '../../store/types.js';
import { backends } from '../helpers/db.js';
import { idFactory } from '../../api/ids.js';
import { ulid } from 'ulid';

const newId = idFactory();

function call(fnId: string, fields: Partial<Call> = {}): Call {
  const now = new Date().toISOString();
  return { id: newId(), app_id: 'A'.repeat(26), fn_id: fnId, status: 'success', created_at: now, completed_at: now, stats: [], ...fields };
}

for (const backend of backends) {
  describe(`calls in the store on ${backend.name}`, () => {
    test('a batch is written whole, listed newest first, and pages by cursor', async () => {
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fnId = newId();
        const calls = Array.from({ length: 250 }, (_, i) =>
          call(fnId, {
            status: i % 2 ? 'error' : 'success',
            ...(i % 2 ? { error: `boom ${i}` } : {}),
            ...(i === 0 ? { trigger_id: newId(), started_at: new Date().toISOString() } : {}),
            stats: i === 1 ? [{ timestamp: new Date().toISOString(), metrics: { mem_usage: 42 } }] : [],
          }),
        );
        await store.insertCalls(calls.map((c, i) => ({ call: c, log: i % 3 === 0 ? `log of ${c.id}` : '' })));
        await store.insertCalls([{ call: call(newId()), log: '' }]); // another fn's call

        assert.deepEqual(await store.getCall(fnId, calls[0]!.id), calls[0]);
        assert.deepEqual(await store.getCall(fnId, calls[1]!.id), calls[1]);

        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listCalls({ fnId, perPage: 100, ...(after !== undefined && { after }) });
          seen.push(...page.items.map((c) => c.id));
          if (!page.last) break;
          after = page.last;
        }
        assert.deepEqual(seen, calls.map((c) => c.id).reverse(), 'newest first, each once');

        assert.equal(await store.getLog(fnId, calls[3]!.id), `log of ${calls[3]!.id}`);
        assert.equal(await store.getLog(fnId, calls[4]!.id), '', 'a call without output has an empty log');
        await assert.rejects(store.getLog(fnId, newId()), /Call not found/);
        await assert.rejects(store.getCall(newId(), calls[0]!.id), /Call not found/, 'a call is found under its own fn only');
      } finally {
        await store.close();
        await db.cleanup();
      }
    });

    test('calls are listed by creation time: after createdAfter, before createdBefore, both strict, with pages', async () => {
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fnId = newId();
        // Each id made at its call's creation, as Kiln makes them.
        const at = (iso: string) => call(fnId, { id: ulid(Date.parse(iso)), created_at: iso, completed_at: iso });
        const [c0, c1, c2, c3, c4] = [
          at('2024-01-01T00:00:00.000Z'), at('2024-01-01T00:00:00.001Z'), at('2024-06-01T12:00:00.000Z'),
          at('2024-12-31T23:59:59.999Z'), at('2025-01-01T00:00:00.000Z'),
        ];
        await store.insertCalls([c0!, c1!, c2!, c3!, c4!].map((c) => ({ call: c, log: '' })));
        await store.insertCalls([{ call: call(newId(), { id: ulid(Date.parse('2024-06-01T12:00:00.000Z')), created_at: '2024-06-01T12:00:00.000Z' }), log: '' }]); // another fn's
        const ids = async (q: { createdAfter?: string; createdBefore?: string; perPage?: number; after?: string }) =>
          (await store.listCalls({ fnId, perPage: 100, ...q })).items.map((c) => c.id);
        assert.deepEqual(await ids({}), [c4!.id, c3!.id, c2!.id, c1!.id, c0!.id]);
        assert.deepEqual(await ids({ createdAfter: '2024-01-01T00:00:00.000Z' }), [c4!.id, c3!.id, c2!.id, c1!.id], 'after is strict');
        assert.deepEqual(await ids({ createdBefore: '2025-01-01T00:00:00.000Z' }), [c3!.id, c2!.id, c1!.id, c0!.id], 'before is strict');
        assert.deepEqual(await ids({ createdAfter: '2024-01-01T00:00:00.000Z', createdBefore: '2025-01-01T00:00:00.000Z' }), [c3!.id, c2!.id, c1!.id]);
        assert.deepEqual(await ids({ createdAfter: '2025-01-01T00:00:00.000Z' }), []);
        assert.deepEqual(await ids({ createdAfter: '2024-12-01T00:00:00.000Z', createdBefore: '2024-02-01T00:00:00.000Z' }), [], 'an empty window');
        // Pages within a window: the cursor and the window together.
        const first = await store.listCalls({ fnId, perPage: 2, createdBefore: '2025-01-01T00:00:00.000Z' });
        assert.deepEqual(first.items.map((c) => c.id), [c3!.id, c2!.id]);
        assert.deepEqual(await ids({ perPage: 2, after: first.last!, createdBefore: '2025-01-01T00:00:00.000Z' }), [c1!.id, c0!.id]);
      } finally {
        await store.close();
        await db.cleanup();
      }
    });

    // Ids begin with their creation time: a time filter seeks in the (fn_id, id) index instead of
    // reading the fn's whole history for a page (a million calls took the server 1-2 s on SQLite).
    test('a time-filtered list seeks by id in the (fn_id, id) index', async (t) => {
      if (backend.name === 'mysql') return t.skip('MySQL plans are not read here');
      const db = await backend.create();
      const knex = await openKnex(db.url);
      const store = new SqlStore(knex);
      const seen: { sql: string; bindings: readonly unknown[] }[] = [];
      const onQuery = (q: { sql: string; bindings?: readonly unknown[] }) => {
        if (/from [`"]calls[`"]/i.test(q.sql) && /created_at/.test(q.sql)) seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      };
      try {
        knex.on('query', onQuery);
        await store.listCalls({ fnId: newId(), perPage: 100, createdAfter: '2024-01-01T00:00:00.000Z', createdBefore: '2024-02-01T00:00:00.000Z' });
        knex.off('query', onQuery);
        const q = seen[0];
        assert.ok(q, 'the list query was seen');
        let plan: string;
        if (backend.name === 'sqlite') {
          plan = ((await knex.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as never)) as { detail: string }[]).map((r) => r.detail).join('\n');
          assert.match(plan, /USING (INDEX \S+|PRIMARY KEY) \(fn_id=\? AND id>\? AND id<\?\)/, plan);
        } else {
          plan = await knex.transaction(async (trx) => {
            await trx.raw('SET LOCAL enable_seqscan = off');
            const res = (await trx.raw(`EXPLAIN ${q.sql.replace(/\$(\d+)/g, '?')}`, q.bindings as never)) as { rows: Record<string, string>[] };
            return res.rows.map((r) => r['QUERY PLAN']).join('\n');
          });
          assert.match(plan, /Index Cond:[^\n]*fn_id[^\n]*\bid\b[^\n]*>=[^\n]*\bid\b[^\n]*</, plan);
        }
      } finally {
        await store.close();
        await db.cleanup();
      }
    });

    test("a function's NUL bytes in its log or error are stored as U+FFFD, and the rest of the batch with them", async () => {
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fnId = newId();
        const fine = call(fnId);
        const nul = call(fnId, { status: 'error', error: 'bad\u0000error' });
        await store.insertCalls([{ call: fine, log: 'fine' }, { call: nul, log: 'bad\u0000byte' }]);
        assert.equal(await store.getLog(fnId, fine.id), 'fine');
        assert.equal(await store.getLog(fnId, nul.id), 'bad\uFFFDbyte');
        assert.equal((await store.getCall(fnId, nul.id)).error, 'bad\uFFFDerror');
        await store.insertLog(fnId, fine.id, 'again\u0000');
        assert.equal(await store.getLog(fnId, fine.id), 'again\uFFFD');
      } finally {
        await store.close();
        await db.cleanup();
      }
    });

    test('a lone UTF-16 surrogate in an error or a log is stored as one U+FFFD, as on every backend', async () => {
      // A Lambda fn's error document may hold "\\ud800"; SQLite stored its CESU-8 bytes (three U+FFFD when read).
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fnId = newId();
        const batched = call(fnId, { status: 'error', error: 'a\ud800b' });
        const single = call(fnId, { status: 'error', error: 'low \udc00 and high \ud83d' });
        await store.insertCalls([{ call: batched, log: 'log \ud800 here' }]);
        await store.insertCall(single);
        assert.equal((await store.getCall(fnId, batched.id)).error, 'a\uFFFDb');
        assert.equal(await store.getLog(fnId, batched.id), 'log \uFFFD here');
        assert.equal((await store.getCall(fnId, single.id)).error, 'low \uFFFD and high \uFFFD');
        await store.updateCall({ ...single, error: 'x\udbff' });
        assert.equal((await store.getCall(fnId, single.id)).error, 'x\uFFFD');
        await store.insertLog(fnId, single.id, '\udfff😀');
        assert.equal(await store.getLog(fnId, single.id), '\uFFFD😀', 'a whole pair is kept');
      } finally {
        await store.close();
        await db.cleanup();
      }
    });

    test('a log at a 7 MiB cap of bytes that are not UTF-8 is stored, with the calls batched with it (MariaDB\'s 16 MiB packet)', async () => {
      // The README's sizing: max_allowed_packet holds twice the larger of 1 MiB and the cap. Each
      // 0xFF is stored as U+FFFD (3 bytes): counted in raw bytes, this log was 21 MiB of text.
      const cap = 7 * 1024 * 1024;
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fnId = newId();
        const log = new LogBuffer(cap);
        log.write(Buffer.alloc(cap, 0xff));
        const big = call(fnId);
        const others = [call(fnId), call(fnId)];
        await store.insertCalls([{ call: others[0]!, log: 'before' }, { call: big, log: String(log) }, { call: others[1]!, log: 'after' }]);
        const stored = await store.getLog(fnId, big.id);
        assert.ok(stored.startsWith('\uFFFD'.repeat(1000)));
        assert.ok(Buffer.byteLength(stored) <= cap + 64, `${Buffer.byteLength(stored)} bytes stored`);
        assert.equal(await store.getLog(fnId, others[0]!.id), 'before');
        assert.equal(await store.getLog(fnId, others[1]!.id), 'after');
      } finally {
        await store.close();
        await db.cleanup();
      }
    });
  });
}
