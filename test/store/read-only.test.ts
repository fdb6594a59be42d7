// A node starting on a database it may not write (a hot standby, a read-only server) when there
// is nothing to migrate: the start writes nothing, reads and the API's reads work, and GET /health
// says 503 `database is read-only` so an orchestrator routes elsewhere.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { mysqlDb, postgresDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

/** Fails a start still waiting after `ms`, rather than the test hanging (the old start waited on the lock). */
async function startWithin(url: string, ms: number): Promise<TestServer> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      startServer(url),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the start took over ${ms} ms`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a read-only database with nothing to migrate', () => {
  test('PostgreSQL (default_transaction_read_only): the node starts, reads, and /health says 503 database is read-only', { timeout: 60_000 }, async () => {
    const db = await postgresDb();
    try {
      const first = await startServer(db.url);
      const a = (await call(first.url, 'POST', '/v2/apps', { name: 'before-read-only' })).body;
      await first.stop();
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        await admin.query(`ALTER DATABASE ${new URL(db.url).pathname.slice(1)} SET default_transaction_read_only = on`);
      } finally {
        await admin.end();
      }
      const srv = await startWithin(db.url, 20_000);
      try {
        assert.deepEqual((await call(srv.url, 'GET', `/v2/apps/${a.id}`)).body, a);
        const health = await call(srv.url, 'GET', '/health');
        assert.deepEqual([health.status, health.body, health.headers.get('retry-after')], [503, { message: 'database is read-only' }, '15']);
        // A write cannot be done until it is writable again: a 503 to try again, not a 500.
        const write = await call(srv.url, 'POST', '/v2/apps', { name: 'while-read-only' });
        assert.deepEqual([write.status, write.body, write.headers.get('retry-after')], [503, { message: 'database unavailable' }, '15']);
      } finally {
        await srv.stop();
      }
    } finally {
      await db.cleanup();
    }
  });

  // The shared MariaDB may not be made read-only (SET GLOBAL read_only is the whole server's): a
  // session holding knex's lock table for reading stands for it, as any write to it then waits.
  test('MariaDB: the start writes nothing (knex\'s lock table held for reading by another session)', { timeout: 60_000 }, async () => {
    const db = await mysqlDb();
    try {
      const first = await startServer(db.url);
      await first.stop();
      const locker = await mysql.createConnection(db.url);
      let srv: TestServer | undefined;
      try {
        await locker.query('LOCK TABLES knex_migrations_lock READ, knex_migrations READ');
        srv = await startWithin(db.url, 20_000);
        assert.equal((await call(srv.url, 'GET', '/health')).status, 200, 'writable: the lock stops only writes');
      } finally {
        await locker.end();
        await srv?.stop();
      }
    } finally {
      await db.cleanup();
    }
  });
});
