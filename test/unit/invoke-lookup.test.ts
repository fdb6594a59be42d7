// The invoke lookups' cache: kept for the TTL, and never keeping what a load read before a write
// that cleared the cache while the load was on its way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvokeLookup } from '../../api/invoke-lookup.js';
import { watchedWrites } from '../../api/store-writes.js';
import { DatabaseUnavailableError, NotFoundError } from '../../store/errors.js';
import type { App, Fn, Store } from '../../store/types.js';

/** A store of one fn whose name is its version; getFn can be held until released. */
function fakeStore() {
  const s = { version: 1, reads: 0, held: undefined as Promise<void> | undefined };
  const store = {
    async getFn(id: string): Promise<Fn> {
      s.reads++;
      const name = `v${s.version}`;
      if (s.held) await s.held;
      return { id, app_id: 'app1', name } as Fn;
    },
    async getApp(id: string): Promise<App> {
      return { id, name: 'app' } as App;
    },
  } as unknown as Store;
  return { s, store };
}

test('InvokeLookup: a fn is read once within the TTL', async () => {
  const { s, store } = fakeStore();
  const lookup = new InvokeLookup(store, 60_000);
  assert.equal((await lookup.byFnId('f')).fn.name, 'v1');
  s.version = 2;
  assert.equal((await lookup.byFnId('f')).fn.name, 'v1', 'kept');
  assert.equal(s.reads, 1);
  lookup.clear();
  assert.equal((await lookup.byFnId('f')).fn.name, 'v2', 'a write cleared it');
});

test('InvokeLookup: a load that read the old row and ends after a clear() is not kept', async () => {
  const { s, store } = fakeStore();
  const lookup = new InvokeLookup(store, 60_000);
  let release!: () => void;
  s.held = new Promise((r) => (release = r));
  const before = lookup.byFnId('f');
  // The write commits and its answer clears the cache while that read is still on its way.
  s.version = 2;
  lookup.clear();
  s.held = undefined;
  release();
  assert.equal((await before).fn.name, 'v1', 'the call that raced the write saw the old row');
  assert.equal((await lookup.byFnId('f')).fn.name, 'v2', 'the next one reads the new row');
  assert.equal(s.reads, 2);
});

test('InvokeLookup: with a TTL of 0 nothing is kept', async () => {
  const { s, store } = fakeStore();
  const lookup = new InvokeLookup(store, 0);
  await lookup.byFnId('f');
  await lookup.byFnId('f');
  assert.equal(s.reads, 2);
});

test("InvokeLookup with watchedWrites: a write's end drops what was read while it was under way, whether or not its caller waited", async () => {
  const { s, store } = fakeStore();
  let commit!: () => void;
  const committed = new Promise<void>((r) => (commit = r));
  // The write: held until it commits, then the row is v2 (its HTTP answer may be long gone).
  Object.assign(store, {
    async updateFn(): Promise<void> {
      await committed;
      s.version = 2;
    },
  });
  const lookup = new InvokeLookup(store, 60_000);
  const api = watchedWrites(store, lookup);
  assert.equal((await lookup.byFnId('f')).fn.name, 'v1');
  const write = api.updateFn('f', (fn) => fn);
  assert.equal((await lookup.byFnId('f')).fn.name, 'v1', 'read before the commit');
  commit();
  await write;
  assert.equal((await lookup.byFnId('f')).fn.name, 'v2', 'not kept from during the write');
  assert.equal(s.reads, 3);
  // Reads through the watched store go to the store itself.
  assert.equal((await api.getFn('f')).name, 'v2');
});

test('InvokeLookup: the TTL holds when the wall clock steps back', async (t) => {
  const { s, store } = fakeStore();
  const lookup = new InvokeLookup(store, 50);
  assert.equal((await lookup.byFnId('f')).fn.name, 'v1');
  // An hour back, as a clock corrected by NTP or by hand may step.
  const realNow = Date.now;
  t.mock.method(Date, 'now', () => realNow() - 3_600_000);
  s.version = 2;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal((await lookup.byFnId('f')).fn.name, 'v2', 'read again once the TTL is over');
});

/** A store whose getFn fails as `fail` says, counting its reads. */
function failingStore(fail: () => unknown) {
  const s = { reads: 0, fail: false };
  const store = {
    async getFn(id: string): Promise<Fn> {
      s.reads++;
      if (s.fail) throw fail();
      return { id, app_id: 'app1', name: 'v1' } as Fn;
    },
    async getApp(id: string): Promise<App> {
      return { id, name: 'app' } as App;
    },
  } as unknown as Store;
  return { s, store };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

test('InvokeLookup: a fn found nothing for (404) is not served stale', async () => {
  const { s, store } = failingStore(() => new NotFoundError('fn', 'Fn not found'));
  const lookup = new InvokeLookup(store, 10, { staleMs: 60_000 });
  await lookup.byFnId('f');
  s.fail = true;
  await new Promise((r) => setTimeout(r, 30));
  await assert.rejects(lookup.byFnId('f'), NotFoundError);
});

// What the store throws (store/db-timeout.ts): typed, the driver's error as its cause.
const typedLost = () => new DatabaseUnavailableError('the database is unavailable: Connection terminated unexpectedly', { cause: new Error('Connection terminated unexpectedly') });
const typedRefused = () => new DatabaseUnavailableError('the database is unavailable: connect ECONNREFUSED', { cause: refused() });
const lostRaw = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
for (const [what, fail] of [['a lost connection, typed', typedLost], ['a refused one, typed', typedRefused], ['a reset, raw', lostRaw]] as const) {
  test(`InvokeLookup: ${what}, is served stale`, async () => {
    const { s, store } = failingStore(fail);
    const lookup = new InvokeLookup(store, 10, { staleMs: 60_000 });
    await lookup.byFnId('f');
    s.fail = true;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await lookup.byFnId('f')).fn.name, 'v1');
  });
}

test('InvokeLookup: an entry is served stale only up to staleMs after its read', async () => {
  const { s, store } = failingStore(refused);
  const lookup = new InvokeLookup(store, 10, { staleMs: 60 });
  await lookup.byFnId('f');
  s.fail = true;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal((await lookup.byFnId('f')).fn.name, 'v1', 'stale');
  await new Promise((r) => setTimeout(r, 60));
  await assert.rejects(lookup.byFnId('f'), /ECONNREFUSED/, 'too old to serve');
});

test('InvokeLookup: while the database fails, one load per key is under way; the other invokes are served at once', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const { s, store } = failingStore(refused);
  const lookup = new InvokeLookup(store, 10, { staleMs: 60_000, reloadAfterFailureMs: 0 });
  await lookup.byFnId('f');
  s.fail = true;
  await new Promise((r) => setTimeout(r, 30));
  await lookup.byFnId('f'); // the failure that tells the database is failing
  Object.assign(store, { getFn: async () => { s.reads++; await held; throw refused(); } });
  const reads = s.reads;
  await Promise.all(Array.from({ length: 5 }, () => lookup.byFnId('f')));
  assert.equal(s.reads - reads, 1);
  release();
});

test('InvokeLookup: before any failure is known, invokes of one key share its load (a hung database: one wait, not one per invoke)', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const { s, store } = failingStore(refused);
  const lookup = new InvokeLookup(store, 10, { staleMs: 60_000 });
  await lookup.byFnId('f');
  await new Promise((r) => setTimeout(r, 30));
  Object.assign(store, { getFn: async () => { s.reads++; await held; throw refused(); } });
  const reads = s.reads;
  const all = Promise.all(Array.from({ length: 20 }, () => lookup.byFnId('f')));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.reads - reads, 1, 'one load for twenty invokes');
  release();
  assert.deepEqual((await all).map((t) => t.fn.name), Array(20).fill('v1'));
});

test('InvokeLookup: a database that refuses at once is asked again only after a pause, not by every invoke', async () => {
  const { s, store } = failingStore(refused);
  const lookup = new InvokeLookup(store, 10, { staleMs: 60_000, reloadAfterFailureMs: 200 });
  await lookup.byFnId('f');
  s.fail = true;
  await new Promise((r) => setTimeout(r, 30));
  const reads = s.reads;
  for (let i = 0; i < 20; i++) assert.equal((await lookup.byFnId('f')).fn.name, 'v1');
  assert.equal(s.reads - reads, 1, 'one connection attempt for twenty invokes');
  await new Promise((r) => setTimeout(r, 250));
  await lookup.byFnId('f');
  assert.equal(s.reads - reads, 2, 'and another after the pause');
});
