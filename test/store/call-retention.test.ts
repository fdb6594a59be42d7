// Pruning old calls in the real store, on every backend: by id (ULIDs begin with their time),
// calls and logs alike, in batches, never a newer call.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ulid } from 'ulid';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import type { Call } from '../../store/types.js';
import { idBoundAt } from '../../store/call-ids.js';
import { backends } from '../helpers/db.js';

const HOUR = 3_600_000;

function callAt(fnId: string, timeMs: number): Call {
  const at = new Date(timeMs).toISOString();
  return { id: ulid(timeMs), app_id: 'A'.repeat(26), fn_id: fnId, status: 'success', created_at: at, completed_at: at, stats: [] };
}

for (const backend of backends) {
  describe(`pruning calls on ${backend.name}`, () => {
    test('deleteCallsBefore takes calls and logs older than the bound, a batch at a time, and leaves newer ones', async () => {
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const now = Date.now();
        const fnId = ulid();
        const old = Array.from({ length: 12 }, (_, i) => callAt(fnId, now - 48 * HOUR - i * 1000));
        const young = Array.from({ length: 4 }, (_, i) => callAt(fnId, now - i * 1000));
        // Logs for some calls of each age, and one for an old call that has no row (late output
        // stored after its call was pruned).
        await store.insertCalls([...old, ...young].map((c, i) => ({ call: c, log: i % 2 ? `log of ${c.id}` : '' })));
        const orphan = ulid(now - 50 * HOUR);
        await store.insertLog(fnId, orphan, 'late output');
        const bound = idBoundAt(now - 24 * HOUR);

        // 12 old calls and 7 old logs (6 with calls, the orphan), at most 5 of each per batch.
        const batches: number[] = [];
        for (let n = -1; n !== 0; ) batches.push((n = await store.deleteCallsBefore(bound, 5)));
        assert.deepEqual(batches, [10, 7, 2, 0]);

        const left = await store.listCalls({ fnId, perPage: 100 });
        assert.deepEqual(left.items.map((c) => c.id), young.map((c) => c.id).sort().reverse());
        for (const c of old) await assert.rejects(store.getCall(fnId, c.id), /Call not found/);
        await assert.rejects(store.getLog(fnId, orphan), /Call not found/);
        assert.equal(await store.getLog(fnId, young[1]!.id), `log of ${young[1]!.id}`);
        assert.equal(await store.deleteCallsBefore(bound, 5), 0);
      } finally {
        await store.close();
        await db.cleanup();
      }
    });
  });
}
