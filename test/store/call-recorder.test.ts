// The call recorder on every backend: a batch with a row the database refuses loses only that row;
// calls finished while the database does not answer are held and written once it answers, once each.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { CallRecorder } from '../../agent/call-recorder.js';
import { idFactory } from '../../api/ids.js';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import { callWriteError } from '../../store/db-errors.js';
import { DatabaseConnectionLostError, DatabaseTimeoutError } from '../../store/errors.js';
import type { Call, CallStore } from '../../store/types.js';
import { backends } from '../helpers/db.js';
import { partitionable } from '../helpers/partition.js';

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

    test('a batch whose write failed without an answer but was committed is written again without a refusal or a second row', async () => {
      const db = await backend.create();
      const real = new SqlStore(await openKnex(db.url));
      let lose = true;
      // The commit's answer lost: the rows are in, the recorder is told the database timed out.
      const store = Object.assign(Object.create(real) as SqlStore, {
        async insertCalls(records: readonly { call: Call; log: string }[], opts?: { again?: boolean }): Promise<void> {
          await real.insertCalls(records, opts);
          if (lose) {
            lose = false;
            throw new DatabaseTimeoutError(50);
          }
        },
      });
      try {
        const fnId = newId();
        const { log, lines } = capturedLog();
        const recorder = new CallRecorder(store, log, { retryMinMs: 20 });
        const first = call(fnId);
        recorder.record({ call: first, log: 'first' });
        await recorder.flush();
        // Joins the held one while the recorder waits to write it again.
        const second = call(fnId);
        recorder.record({ call: second, log: 'second' });
        await new Promise((r) => setTimeout(r, 100));
        await recorder.flush();
        assert.deepEqual(await real.getCall(fnId, first.id), first);
        assert.deepEqual(await real.getCall(fnId, second.id), second);
        assert.equal(await real.getLog(fnId, second.id), 'second');
        assert.deepEqual((await real.listCalls({ fnId, perPage: 10 })).items.map((c) => c.id).sort(), [first.id, second.id].sort());
        assert.deepEqual(lines().filter((l) => Number(l.level) >= 50), [], 'nothing refused, nothing lost');
      } finally {
        await real.close();
        await db.cleanup();
      }
    });

    if (backend.name !== 'sqlite') {
      test('calls finished while the database does not answer are held and written once it answers', { timeout: 60_000 }, async () => {
        const db = await backend.create();
        const partition = await partitionable(db.url);
        const store = new SqlStore(await openKnex(partition.urlFor(db.url), { timeoutMs: 500 }));
        try {
          const fnId = newId();
          const { log, lines } = capturedLog();
          const recorder = new CallRecorder(store, log, { retryMinMs: 100, retryMaxMs: 200 });
          partition.cut();
          const during = [call(fnId), call(fnId)];
          for (const c of during) recorder.record({ call: c, log: `log of ${c.id}` });
          await recorder.flush();
          const late = call(fnId);
          recorder.record({ call: late, log: 'late' });
          await new Promise((r) => setTimeout(r, 700)); // tried again, and again not answered
          partition.heal();
          const stored = async (): Promise<boolean> => {
            try {
              await store.getCall(fnId, late.id);
              return true;
            } catch {
              return false;
            }
          };
          for (const until = Date.now() + 20_000; !(await stored()) && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
          await recorder.flush();
          for (const c of [...during, late]) assert.deepEqual(await store.getCall(fnId, c.id), c);
          assert.equal(await store.getLog(fnId, during[0]!.id), `log of ${during[0]!.id}`);
          assert.equal((await store.listCalls({ fnId, perPage: 10 })).items.length, 3);
          assert.deepEqual(lines().filter((l) => Number(l.level) >= 50), [], 'no call lost');
          const warned = lines().filter((l) => l.level === 40);
          assert.equal(warned.length, 1, 'one line when the outage began');
          assert.match(String(warned[0]!.msg), /held/);
        } finally {
          await store.close();
          await partition.close();
          await db.cleanup();
        }
      });
    }
  });
}

test('a batch the database does not answer is not written again row by row: one wait, held, and at shutdown one line naming its calls', async () => {
  let inserts = 0;
  const store = {
    async insertCalls(): Promise<void> {
      inserts++;
      throw new DatabaseTimeoutError(50);
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log, { retryMinMs: 60_000 });
  const calls = [call('F'), call('F'), call('F')];
  for (const c of calls) recorder.record({ call: c, log: '' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(inserts, 1, 'the batch once, not each call after it');
  assert.deepEqual(lines().filter((l) => l.level === 50), [], 'held, not lost');
  await recorder.stop();
  assert.equal(inserts, 2, 'tried once more at shutdown, not after the backoff');
  const errors = lines().filter((l) => l.level === 50);
  assert.deepEqual(errors.map((l) => [l.msg, l.call_ids]), [['could not record calls', calls.map((c) => c.id)]]);
});

test('calls held for an unavailable database are bounded: past the bound the oldest go, counted in one line', async () => {
  const written: string[][] = [];
  let down = true;
  const store = {
    async insertCalls(records: readonly { call: Call }[]): Promise<void> {
      if (down) throw callWriteError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      written.push(records.map((r) => r.call.id));
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log, { retryMinMs: 20, retryMaxMs: 20, maxCalls: 3 });
  const calls = Array.from({ length: 5 }, () => call('F'));
  recorder.record({ call: calls[0]!, log: '' });
  await new Promise((r) => setTimeout(r, 60));
  for (const c of calls.slice(1)) recorder.record({ call: c, log: 'x' });
  await new Promise((r) => setTimeout(r, 100)); // tried again with all five, and refused
  down = false;
  await new Promise((r) => setTimeout(r, 150));
  await recorder.flush();
  assert.deepEqual(written.flat(), calls.slice(2).map((c) => c.id), 'the newest three, in order');
  const dropped = lines().filter((l) => l.level === 40 && /dropped/.test(String(l.msg)));
  assert.deepEqual(dropped.map((l) => [l.calls, l.call_ids]), [[2, calls.slice(0, 2).map((c) => c.id)]]);
  assert.deepEqual(lines().filter((l) => l.level === 50), []);
});

test('calls held for an unavailable database are bounded by bytes, logs included', async () => {
  const written: string[] = [];
  let down = true;
  const store = {
    async insertCalls(records: readonly { call: Call }[]): Promise<void> {
      if (down) throw new DatabaseTimeoutError(50);
      written.push(...records.map((r) => r.call.id));
    },
  } as unknown as CallStore;
  const { log } = capturedLog();
  const recorder = new CallRecorder(store, log, { retryMinMs: 20, retryMaxMs: 20, maxBytes: 5000 });
  const calls = Array.from({ length: 4 }, () => call('F'));
  for (const c of calls) recorder.record({ call: c, log: 'y'.repeat(2000) });
  await new Promise((r) => setTimeout(r, 60));
  down = false;
  await new Promise((r) => setTimeout(r, 150));
  await recorder.flush();
  assert.deepEqual(written, calls.slice(2).map((c) => c.id), 'two calls of 2 KB logs fit in 5000 bytes');
});

test('a stop while the database hangs waits for it no longer than its bound, and names every call not written, the one waiting included', async () => {
  let inserts = 0;
  const store = {
    insertCalls(): Promise<void> {
      inserts++;
      return new Promise(() => {}); // a database that never answers, longer than any stop may wait
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log);
  const first = call('F');
  recorder.record({ call: first, log: '' });
  await new Promise((r) => setTimeout(r, 60)); // its batch is waiting on the database
  const second = call('F');
  recorder.record({ call: second, log: '' });
  const t0 = performance.now();
  await recorder.stop(200);
  assert.ok(performance.now() - t0 < 1000, `stopped after ${performance.now() - t0} ms`);
  assert.equal(inserts, 1);
  const errors = lines().filter((l) => l.level === 50);
  assert.deepEqual(errors.map((l) => [l.msg, l.call_ids]), [['could not record calls', [first.id, second.id]]]);
});

test('while held calls are tried again and the database hangs, new calls join the held ones, within their bound', async () => {
  let inserts = 0;
  const store = {
    insertCalls(): Promise<void> {
      inserts++;
      // Refused at first; the retry then hangs.
      if (inserts === 1) return Promise.reject(callWriteError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
      return new Promise(() => {});
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log, { retryMinMs: 20, retryMaxMs: 20, maxCalls: 5 });
  recorder.record({ call: call('F'), log: '' });
  await new Promise((r) => setTimeout(r, 120)); // refused, held, and tried again: that try hangs
  assert.equal(inserts, 2);
  const later = Array.from({ length: 50 }, () => call('F'));
  for (const c of later) recorder.record({ call: c, log: '' });
  await recorder.stop(50);
  // The waiting batch (one call), then the newest five held: the 45 oldest of the later ones dropped, counted.
  const lost = lines().find((l) => l.level === 50);
  assert.equal((lost?.call_ids as string[]).length, 6, JSON.stringify(lost));
  assert.deepEqual((lost?.call_ids as string[]).slice(1), later.slice(45).map((c) => c.id));
  const dropped = lines().filter((l) => l.level === 40 && /dropped/.test(String(l.msg)));
  assert.equal(dropped.reduce((n, l) => n + Number(l.calls), 0), 45);
});

test('a batch whose connection was lost under it may have committed: its calls are written again as such, no duplicate refused', async () => {
  const seen: Array<{ calls: number; again: boolean }> = [];
  const store = {
    async insertCalls(records: readonly { call: Call }[], opts: { again?: boolean } = {}): Promise<void> {
      seen.push({ calls: records.length, again: opts.again === true });
      if (seen.length === 1) throw callWriteError(new Error('Connection terminated unexpectedly'));
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log);
  for (let i = 0; i < 3; i++) recorder.record({ call: call('F'), log: '' });
  await recorder.flush();
  assert.deepEqual(seen, [{ calls: 3, again: false }, { calls: 1, again: true }, { calls: 1, again: true }, { calls: 1, again: true }]);
  assert.deepEqual(lines().filter((l) => Number(l.level) >= 40), []);
});

// The store types a lost connection where the statement ran (db-timeout.ts); the recorder reads that type.
test('a batch whose connection the store reports lost (DatabaseConnectionLostError) is written again as such', async () => {
  const seen: Array<{ calls: number; again: boolean }> = [];
  const store = {
    async insertCalls(records: readonly { call: Call }[], opts: { again?: boolean } = {}): Promise<void> {
      seen.push({ calls: records.length, again: opts.again === true });
      if (seen.length === 1) throw new DatabaseConnectionLostError('the database is unavailable: Connection terminated unexpectedly', { cause: new Error('Connection terminated unexpectedly') });
    },
  } as unknown as CallStore;
  const { log, lines } = capturedLog();
  const recorder = new CallRecorder(store, log);
  for (let i = 0; i < 2; i++) recorder.record({ call: call('F'), log: '' });
  await recorder.flush();
  assert.deepEqual(seen, [{ calls: 2, again: false }, { calls: 1, again: true }, { calls: 1, again: true }]);
  assert.deepEqual(lines().filter((l) => Number(l.level) >= 40), []);
});
