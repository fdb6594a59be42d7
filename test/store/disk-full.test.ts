// A SQLite database whose disk is full (a real tmpfs, filled): calls finished meanwhile are held
// and written once space is freed, as for a database that does not answer; a REST write gets 503
// `database is full` with Retry-After, not a bare 500; and a node with nothing to migrate starts
// (the migration lock's sidecar cannot be written: it is held shared), one with migrations to run
// stops saying why.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { CallRecorder } from '../../agent/call-recorder.js';
import { idFactory } from '../../api/ids.js';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import { sqliteLockFile, withMigrationLock } from '../../store/migration-lock.js';
import type { Call } from '../../store/types.js';
import { withFullableDir } from '../helpers/full-disk.js';
import { call, startServer } from '../helpers/server.js';

const newId = idFactory();

function finished(fnId: string): Call {
  const now = new Date().toISOString();
  return { id: newId(), app_id: 'A'.repeat(26), fn_id: fnId, status: 'success', created_at: now, completed_at: now, stats: [] };
}

/** Larger than anything SQLite's WAL already holds room for: its write needs new space. */
const bigText = (c: string): string => c.repeat(2 * 1024 * 1024);

describe('a SQLite database whose disk is full', () => {
  test('calls finished meanwhile, and a log rewritten, are held and written once space is freed', { timeout: 60_000 }, () => withFullableDir(async (disk) => {
    const store = new SqlStore(await openKnex(`sqlite3://${join(disk.dir, 'fn.db')}`));
    try {
      const raw: string[] = [];
      const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, done) { raw.push(chunk.toString()); done(); } }));
      const recorder = new CallRecorder(store, log, { retryMinMs: 50, retryMaxMs: 200 });
      const fnId = newId();
      const earlier = finished(fnId);
      recorder.record({ call: earlier, log: 'first words' });
      await recorder.flush();
      disk.fill();
      const during = finished(fnId);
      recorder.record({ call: during, log: bigText('d') });
      recorder.updateLog(fnId, earlier.id, bigText('e'));
      await recorder.flush();
      await assert.rejects(store.getCall(fnId, during.id), { name: 'NotFoundError' }, 'not written while the disk is full');
      const lines = raw.map((l) => JSON.parse(l) as { level: number; msg: string; error?: { message?: string } });
      assert.deepEqual(lines.filter((l) => l.level >= 50), [], 'nothing logged as lost');
      const held = lines.find((l) => l.level === 40);
      assert.equal(held?.msg, 'could not record calls: the database is full; they are held and written again when it has space');
      assert.match(String(held?.error?.message), /database or disk is full/);
      disk.free();
      await recorder.flush(); // tries the held ones at once
      assert.deepEqual(await store.getCall(fnId, during.id), during);
      assert.equal(await store.getLog(fnId, during.id), bigText('d'));
      assert.equal(await store.getLog(fnId, earlier.id), bigText('e'));
      await recorder.stop();
      assert.deepEqual(raw.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 50), []);
    } finally {
      await store.close();
    }
  }));

  test('a REST write gets 503 `database is full` with Retry-After: 15, and works once space is freed', { timeout: 60_000 }, () => withFullableDir(async (disk) => {
    const srv = await startServer(`sqlite3://${join(disk.dir, 'fn.db')}`);
    try {
      disk.fill();
      const app = { name: 'while-full', config: { BIG: bigText('c') } };
      const write = await call(srv.url, 'POST', '/v2/apps', app);
      assert.deepEqual([write.status, write.body, write.headers.get('retry-after')], [503, { message: 'database is full' }, '15']);
      disk.free();
      const again = await call(srv.url, 'POST', '/v2/apps', app);
      assert.equal(again.status, 200);
    } finally {
      await srv.stop();
    }
  }));

  test('a node with nothing to migrate starts, reads, and answers writes 503 `database is full`', { timeout: 60_000 }, () => withFullableDir(async (disk) => {
    const filename = join(disk.dir, 'fn.db');
    const url = `sqlite3://${filename}`;
    const first = await startServer(url);
    const app = (await call(first.url, 'POST', '/v2/apps', { name: 'before-full' })).body;
    // Another process reading the file (a second node, the sqlite3 shell) keeps its -wal and -shm,
    // which SQLite cannot make on a full disk (it deletes them as the last connection closes).
    const reader = new Database(filename, { readonly: true });
    try {
      reader.prepare('SELECT count(*) FROM apps').get();
      disk.fill();
      await first.stop();
      const srv = await startServer(url);
      try {
        assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${app.id}`)).body, app);
        const write = await call(srv.url, 'POST', '/v2/apps', { name: 'while-full', config: { BIG: bigText('c') } });
        assert.deepEqual([write.status, write.body], [503, { message: 'database is full' }]);
      } finally {
        await srv.stop();
      }
    } finally {
      reader.close();
    }
  }));

  test('the shared lock a full disk leaves still keeps another start from migrating, and a start with migrations to run stops', { timeout: 60_000 }, () => withFullableDir(async (disk) => {
    const filename = join(disk.dir, 'fn.db');
    const knex = await openKnex(`sqlite3://${filename}`);
    try {
      // The last migration not recorded: this start would run it.
      const last = (await knex('knex_migrations').max('id as id').first()) as { id: number };
      await knex('knex_migrations').where({ id: last.id }).delete();
      disk.fill();
      await withMigrationLock(knex, async (held) => {
        assert.equal(held.exclusive, false);
        // Another start's exclusive lock on the sidecar waits for this one.
        const other = new Database(sqliteLockFile(filename)!, { timeout: 0 });
        try {
          assert.throws(() => other.exec('BEGIN EXCLUSIVE'), { code: 'SQLITE_BUSY' });
        } finally {
          other.close();
        }
      });
    } finally {
      await knex.destroy();
    }
    await assert.rejects(openKnex(`sqlite3://${filename}`), (err: Error) => {
      assert.match(err.message, /^this start has 1 migration\(s\) to run, but the migration lock .*fn\.db-migrate\.lock cannot be written \(database or disk is full\)$/);
      return true;
    });
  }));
});
