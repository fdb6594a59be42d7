// Which applied migrations a node does not know (a newer node ran them), and what it says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newerDatabaseMessage, unknownMigrations } from '../../store/newer-migrations.js';

const KNOWN = ['0001_initial', '0002_fns_by_name'];

const rows: { name: string; applied: string[]; want: string[] }[] = [
  { name: 'a fresh database: none', applied: [], want: [] },
  { name: 'some of ours pending: none', applied: ['0001_initial'], want: [] },
  { name: 'exactly ours: none', applied: KNOWN, want: [] },
  { name: "a newer node's, in the order applied", applied: [...KNOWN, '0004_b', '0003_a'], want: ['0004_b', '0003_a'] },
  { name: 'an unknown one before one of ours pending', applied: ['0001_initial', '0003_a'], want: ['0003_a'] },
];

for (const r of rows) {
  test(`unknownMigrations: ${r.name}`, () => assert.deepEqual(unknownMigrations(r.applied, KNOWN), r.want));
}

test('newerDatabaseMessage names them and says why the node runs on', () => {
  assert.equal(
    newerDatabaseMessage(['0003_a', '0004_b']),
    "this database was migrated by a newer Kiln: 0003_a, 0004_b; Kiln's migrations only add, so this node runs on it",
  );
});
