// GET /health: 200 while the database answers a read of Kiln's tables, 503 when it does not
// (GET / and /version answer whatever the database does), public like them, and naming nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { postgresDb, sqliteDb, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

describe('GET /health on SQLite, with tokens on', () => {
  let db: TestDb;
  let srv: TestServer;
  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: 'health-test-token-0123456789' });
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  test('answers 200 without a token while the database reads, 503 once it cannot', async () => {
    const ok = await call(srv.url, 'GET', '/health');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { database: 'ok' });
    // Kiln's tables gone from under it (a restore gone wrong): every API read would fail.
    const file = db.url.replace('sqlite3://', '');
    const other = new Database(file);
    other.pragma('foreign_keys = OFF');
    other.exec('ALTER TABLE apps RENAME TO apps_aside');
    try {
      const down = await call(srv.url, 'GET', '/health');
      assert.equal(down.status, 503);
      assert.deepEqual(down.body, { message: 'database unavailable' });
      assert.equal(down.headers.get('retry-after'), '15');
      assert.equal((await call(srv.url, 'GET', '/')).status, 200, 'GET / says nothing of the database');
    } finally {
      other.exec('ALTER TABLE apps_aside RENAME TO apps');
      other.close();
    }
    assert.equal((await call(srv.url, 'GET', '/health')).status, 200, 'well again');
  });
});

describe('GET /health on PostgreSQL', () => {
  let db: TestDb;
  let srv: TestServer;
  before(async () => {
    db = await postgresDb();
    srv = await startServer(db.url, { KILN_DB_TIMEOUT_MSECS: '1000' });
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  test('a database that holds Kiln\'s tables locked is not healthy: 503 within KILN_DB_TIMEOUT_MSECS', async () => {
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE apps IN ACCESS EXCLUSIVE MODE');
      const began = Date.now();
      const down = await call(srv.url, 'GET', '/health');
      assert.equal(down.status, 503, JSON.stringify(down.body));
      assert.ok(Date.now() - began < 5000, `bounded (${Date.now() - began} ms)`);
      await locker.query('ROLLBACK');
      assert.equal((await call(srv.url, 'GET', '/health')).status, 200);
    } finally {
      await locker.end();
    }
  });
});
