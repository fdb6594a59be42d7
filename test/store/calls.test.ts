// Calls and logs in the store, on every backend: batch writes, newest-first pages, logs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { Call } from '../../store/types.js';
import { backends } from '../helpers/db.js';
import { idFactory } from '../../api/ids.js';

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
  });
}
