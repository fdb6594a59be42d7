// Which calls looked their fn up before an API write that changed its containers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slotKey } from '../../agent/slot-key.js';
import { WrittenRecords } from '../../agent/written-records.js';
import type { App, Fn } from '../../store/types.js';

const T0 = '2026-12-03T10:00:00.000Z';
const T1 = '2026-12-03T10:00:01.000Z';
const app: App = { id: 'a1', name: 'a', config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: T0, updated_at: T0 };
const fn: Fn = {
  id: 'f1', name: 'f', app_id: 'a1', image: 'x/f:1', memory: 128, timeout: 30, idle_timeout: 30, format: 'http-stream',
  config: { SECRET: 'old' }, annotations: {}, created_at: T0, updated_at: T0,
};
const key = slotKey(app, fn);

const cases: { name: string; write: (w: WrittenRecords) => void; outdated: boolean }[] = [
  { name: 'nothing written', write: () => {}, outdated: false },
  { name: 'the fn written with new config after the lookup', write: (w) => w.fnWritten({ ...fn, config: { SECRET: 'new' }, updated_at: T1 }), outdated: true },
  { name: 'the fn written with a new annotation only (its containers the same)', write: (w) => w.fnWritten({ ...fn, annotations: { n: 'x' }, updated_at: T1 }), outdated: false },
  { name: 'the same record written (before the lookup)', write: (w) => w.fnWritten(fn), outdated: false },
  { name: 'an older record written (another node wrote a newer one since)', write: (w) => w.fnWritten({ ...fn, config: { SECRET: 'older' }, updated_at: '2026-12-03T09:00:00.000Z' }), outdated: false },
  { name: 'the fn deleted', write: (w) => w.fnDeleted(fn.id), outdated: true },
  { name: 'another fn deleted', write: (w) => w.fnDeleted('f2'), outdated: false },
  { name: 'the app written with new config', write: (w) => w.appWritten({ ...app, config: { REGION: 'b' }, updated_at: T1 }), outdated: true },
  { name: 'the app deleted', write: (w) => w.appDeleted(app.id), outdated: true },
];
for (const c of cases) {
  test(`outdated: ${c.name} -> ${c.outdated}`, () => {
    const w = new WrittenRecords();
    c.write(w);
    assert.equal(w.outdated(app, fn, key), c.outdated);
  });
}

test('a write is forgotten after the memory time (pruned at the next write)', () => {
  let now = 0;
  const w = new WrittenRecords(() => now, 1000);
  w.fnDeleted(fn.id);
  assert.equal(w.outdated(app, fn, key), true);
  now = 1001;
  w.fnDeleted('f2');
  assert.equal(w.outdated(app, fn, key), false);
});
