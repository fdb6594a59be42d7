// store/sqlite-file.ts through openKnex: a SQLite database Kiln makes is its account's alone
// (directory 0700, file 0600, and SQLite's -wal and -shm after it); one made otherwise is kept
// as it is, with a warning when other accounts may read it. Real files, under the usual umask.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openKnex } from '../../store/open.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-sqlite-file-'));
after(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (p: string): number => statSync(p).mode & 0o777;

function logger(): { warnings: string[]; log: { warn(o: object, m: string): void; error(): void; debug(): void } } {
  const warnings: string[] = [];
  return { warnings, log: { warn: (_o, m) => warnings.push(m), error: () => undefined, debug: () => undefined } };
}

test('a new database, in a directory Kiln makes: 0700, and the file, its -wal and its -shm 0600; no warning', async () => {
  const umask = process.umask(0o022);
  try {
    const dir = join(root, 'fresh', 'data');
    const file = join(dir, 'fn.db');
    const { warnings, log } = logger();
    const knex = await openKnex(`sqlite3://${file}`, { log });
    try {
      assert.equal(modeOf(dir), 0o700);
      assert.equal(modeOf(file), 0o600);
      for (const side of ['-wal', '-shm']) {
        assert.ok(existsSync(file + side), `${side} exists (WAL)`);
        assert.equal(modeOf(file + side), 0o600, side);
      }
      assert.deepEqual(warnings.filter((w) => /may be read by other accounts/.test(w)), []);
    } finally {
      await knex.destroy();
    }
  } finally {
    process.umask(umask);
  }
});

test('an existing database others may read: left as it is, and a warning naming it and the fix', async () => {
  const file = join(root, 'shared.db');
  writeFileSync(file, '');
  chmodSync(file, 0o644);
  const { warnings, log } = logger();
  const knex = await openKnex(`sqlite3://${file}`, { log });
  await knex.destroy();
  assert.equal(modeOf(file), 0o644);
  const w = warnings.find((m) => /may be read by other accounts/.test(m));
  assert.ok(w, JSON.stringify(warnings));
  assert.ok(w.includes(file) && w.includes('0644') && w.includes('chmod 600'), w);
});

test('an existing database of its own account only: no warning', async () => {
  const file = join(root, 'own.db');
  writeFileSync(file, '');
  chmodSync(file, 0o600);
  const { warnings, log } = logger();
  const knex = await openKnex(`sqlite3://${file}`, { log });
  await knex.destroy();
  assert.deepEqual(warnings.filter((m) => /may be read by other accounts/.test(m)), []);
});
