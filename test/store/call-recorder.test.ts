// The call recorder on every backend: a batch with a row the database refuses loses only that row.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { CallRecorder } from '../../agent/call-recorder.js';
import { idFactory } from '../../api/ids.js';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import { DatabaseTimeoutError } from '../../store/errors.js';
import type { Call, CallStore } from '../../store/types.js';
import { backends } from '../helpers/db.js';

const newId = idFactory();

function call(fnId: string, id = newId()): Call {
  const now = new Date().toISOString();
  return { id, app_id: 'A'.repeat(26), fn_id: fnId, status: 'success', created_at: now, completed_at: now, stats: [] };
}

function capturedLog(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { raw.push(chunk.toString()); done(); } });
  return { log: pino({ level: 'info' }, sink), lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

for (const backend of backends) {
  describe(`the call recorder on ${backend.name}`, () => {
    test('a batch with a row the database refuses is written row by row: the others are kept, the refused one logged by id', async () => {
      const db = await backend.create();
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fnId = newId();
        const taken = call(fnId);
        await store.insertCalls([{ call: taken, log: 'first' }]);
        const { log, lines } = capturedLog();
        const recorder = new CallRecorder(store, log);
        const before = call(fnId);
        const after = call(fnId);
        // The same id again: a unique violation, which rolls back the transaction it is in.
        recorder.record({ call: before, log: 'before' });
        recorder.record({ call: { ...taken, status: 'error' }, log: 'again' });
        recorder.record({ call: after, log: 'after' });
        await recorder.flush();
        assert.deepEqual(await store.getCall(fnId, before.id), before);
        assert.deepEqual(await store.getCall(fnId, after.id), after);
        assert.equal(await store.getLog(fnId, before.id), 'before');
        assert.equal(await store.getLog(fnId, after.id), 'after');
        assert.deepEqual(await store.getCall(fnId, taken.id), taken, 'the refused row changed nothing');
        const errors = lines().filter((l) => l.level === 50);
        assert.deepEqual(errors.map((l) => [l.msg, l.call]), [['could not record a call', taken.id]]);
        // The driver's message and code, not knex's statement with its values, nor a stack.
        const err = errors[0]!.error as Record<string, unknown>;
        assert.match(String(err.message), /duplicate|unique/i);
        assert.ok(err.code !== undefined);
        assert.doesNotMatch(JSON.stringify(errors), /insert into|'again'|\bstack\b/i);
      } finally {
        await store.close();
        await db.cleanup();
      }
    });
  });
}

test('a batch the database does not answer is not written again row by row: one wait, one line naming its calls', async () => {
  let inserts = 0;
  const store = {
    async insertCalls(): Promise<void> {
      inserts++;
      throw new DatabaseTimeoutError(50);
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log);
  const calls = [call('F'), call('F'), call('F')];
  for (const c of calls) recorder.record({ call: c, log: '' });
  await recorder.flush();
  assert.equal(inserts, 1, 'the batch once, not each call after it');
  const errors = lines().filter((l) => l.level === 50);
  assert.deepEqual(errors.map((l) => [l.msg, l.call_ids]), [['could not record calls', calls.map((c) => c.id)]]);
});
