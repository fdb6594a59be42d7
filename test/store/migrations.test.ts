// Migrations run at start-up on every backend and are idempotent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Knex } from 'knex';
import knexFactory from 'knex';
import { knexConfigFor, openKnex } from '../../store/open.js';
import { migrations, migrationSource, sourceOf } from '../../migrations/index.js';
import * as m0001 from '../../migrations/0001_initial.js';
import { KILN_COLUMNS } from '../../store/fn-database.js';
import { FNS_BY_NAME_INDEX } from '../../migrations/0002_fns_by_name.js';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { PG_LOCK_KEY, sqliteLockFile, withMigrationLock } from '../../store/migration-lock.js';
import { backends, type Backend } from '../helpers/db.js';
import { createFnDatabase } from '../helpers/fn-database.js';
import { call, startServer } from '../helpers/server.js';

/**
 * A database left by a start killed part-way (`leave` makes it so on a fresh one): the next start
 * runs and records every migration, and leaves knex's lock row free.
 */
async function nextStartMigrates(
  backend: Backend, leave: (url: string) => Promise<void>, check: (knex: Knex) => Promise<void> = async () => undefined,
): Promise<void> {
  const db = await backend.create();
  try {
    await leave(db.url);
    const knex = await openKnex(db.url);
    try {
      const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
      assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
      const lock = (await knex('knex_migrations_lock').select('is_locked')) as { is_locked: unknown }[];
      assert.deepEqual(lock.map((r) => Number(r.is_locked)), [0]);
      await check(knex);
    } finally {
      await knex.destroy();
    }
  } finally {
    await db.cleanup();
  }
}

/** 0001's DDL statements on this backend, in the order knex runs them on a fresh database (`url`'s, left with 0001's tables). */
async function firstMigrationStatements(url: string): Promise<{ sql: string; bindings: readonly Knex.Value[] }[]> {
  const knex = knexFactory(knexConfigFor(url));
  const statements: { sql: string; bindings: readonly Knex.Value[] }[] = [];
  knex.on('query', (q: { sql: string; bindings?: Knex.Value[] }) => {
    if (/^\s*(create|alter)\b/i.test(q.sql)) statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
  });
  try {
    await m0001.up(knex);
  } finally {
    await knex.destroy();
  }
  return statements;
}

/** Rows of a raw select as each driver answers them. */
const rawRows = (result: unknown): Record<string, unknown>[] =>
  (Array.isArray(result) ? (Array.isArray(result[0]) ? result[0] : result) : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];

/** Kiln's tables (not knex's) as the backend describes them: columns, indexes, keys and constraints, one line each, sorted. */
async function schemaOf(knex: Knex, backend: Backend['name']): Promise<string[]> {
  const queries: Record<Backend['name'], string[]> = {
    sqlite: ["SELECT type, name, tbl_name AS t, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"],
    postgres: [
      'SELECT table_name AS t, column_name, ordinal_position, data_type, character_maximum_length, is_nullable, column_default, collation_name ' +
        'FROM information_schema.columns WHERE table_schema = current_schema()',
      'SELECT tablename AS t, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()',
      'SELECT r.relname AS t, c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid ' +
        'JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = current_schema()',
    ],
    mysql: [
      'SELECT TABLE_NAME AS t, ENGINE, TABLE_COLLATION, ROW_FORMAT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
      'SELECT TABLE_NAME AS t, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLLATION_NAME, COLUMN_KEY ' +
        'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()',
      'SELECT TABLE_NAME AS t, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()',
      'SELECT TABLE_NAME AS t, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()',
      'SELECT TABLE_NAME AS t, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE, UPDATE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()',
      'SELECT TABLE_NAME AS t, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME ' +
        'FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE()',
    ],
  };
  const lines: string[] = [];
  for (const sql of queries[backend]) {
    for (const row of rawRows(await knex.raw(sql))) if (!String(row.t).startsWith('knex_')) lines.push(JSON.stringify(row));
  }
  return lines.sort();
}

/**
 * The indexes the backend's planner may use for the store's lookup of fns by name alone
 * (listFns with a name and no app: the Lambda Invoke API's), read from its query plan.
 */
async function byNameIndexes(knex: Knex, backend: Backend['name']): Promise<string> {
  const lookup = knex('fns').select('*').where({ name: 'hello' }).orderBy([{ column: 'name' }, { column: 'id' }]).limit(2).toSQL();
  if (backend === 'sqlite') {
    const rows = (await knex.raw(`EXPLAIN QUERY PLAN ${lookup.sql}`, lookup.bindings)) as { detail: string }[];
    return rows.map((r) => r.detail).join('\n');
  }
  if (backend === 'postgres') {
    // A table this small is read whole whatever its indexes; forbid that, to see which index serves.
    return knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      const res = (await trx.raw(`EXPLAIN ${lookup.sql}`, lookup.bindings)) as { rows: Record<string, string>[] };
      return res.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  }
  const [rows] = (await knex.raw(`EXPLAIN ${lookup.sql}`, lookup.bindings)) as [{ possible_keys: string | null; key: string | null }[]];
  return rows.map((r) => `${r.possible_keys ?? ''} ${r.key ?? ''}`).join('\n');
}

/** Holds the database's migration lock as another node's start would, until released. */
async function holdMigrationLock(backend: Backend['name'], url: string): Promise<() => Promise<void>> {
  if (backend === 'sqlite') {
    const filename = (knexConfigFor(url).connection as { filename: string }).filename;
    const lock = new Database(sqliteLockFile(filename)!);
    lock.exec('BEGIN EXCLUSIVE');
    return async () => {
      lock.close();
    };
  }
  if (backend === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`SELECT pg_advisory_lock(${PG_LOCK_KEY})`);
    return () => client.end();
  }
  const conn = await mysql.createConnection(url);
  const [rows] = (await conn.query("SELECT GET_LOCK(CONCAT('kiln_migrate:', DATABASE()), 0) AS ok")) as [{ ok: number }[], unknown];
  assert.equal(Number(rows[0]?.ok), 1);
  return () => conn.end();
}

/** A log that keeps its warnings. */
function warnings(): { warns: { obj: object; msg: string }[]; warn(obj: object, msg: string): void; error(): void; debug(): void } {
  const warns: { obj: object; msg: string }[] = [];
  return { warns, warn: (obj, msg) => warns.push({ obj, msg }), error: () => undefined, debug: () => undefined };
}

for (const backend of backends) {
  describe(`migrations on ${backend.name}`, () => {
    test('a database a newer Kiln migrated opens with a warning naming what it does not know, runs its own pending ones, and serves', async () => {
      const db = await backend.create();
      try {
        // As a newer node would leave it while this node had run only 0001: 0001, then the newer node's own.
        const first = knexFactory(knexConfigFor(db.url));
        try {
          await first.migrate.latest({ migrationSource: sourceOf(migrations.slice(0, 1)) });
          await first('knex_migrations').insert({ name: '0099_from_a_newer_kiln', batch: 2, migration_time: new Date() });
        } finally {
          await first.destroy();
        }
        const log = warnings();
        const knex = await openKnex(db.url, { log });
        try {
          const newer = "this database was migrated by a newer Kiln: 0099_from_a_newer_kiln; Kiln's migrations only add, so this node runs on it";
          // (A SQLite file made by a raw knex, as here, is also said to be readable by others: not this test's point.)
          const warned = log.warns.filter((w) => !/may be read by other accounts/.test(w.msg));
          assert.deepEqual(warned, [{ obj: { migrations: ['0099_from_a_newer_kiln'] }, msg: newer }]);
          const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
          assert.deepEqual(done.map((r) => r.name), ['0001_initial', '0099_from_a_newer_kiln', ...migrations.slice(1).map((m) => m.name)]);
          assert.match(await byNameIndexes(knex, backend.name), new RegExp(FNS_BY_NAME_INDEX));
        } finally {
          await knex.destroy();
        }
        const srv = await startServer(db.url);
        try {
          const made = await call(srv.url, 'POST', '/v2/apps', { name: 'after-upgrade' });
          assert.equal(made.status, 200, JSON.stringify(made.body));
          assert.equal((await call(srv.url, 'GET', `/v2/apps/${made.body.id}`)).body.name, 'after-upgrade');
        } finally {
          await srv.stop();
        }
      } finally {
        await db.cleanup();
      }
    });

    test('a start killed during a migration (knex\'s lock row left set) does not lock later starts out', () =>
      nextStartMigrates(backend, async (url) => {
        // As a start killed during 0002 leaves MySQL (its DDL commits knex's lock row): 0001 done, the lock set.
        const first = knexFactory(knexConfigFor(url));
        try {
          await first.migrate.latest({ migrationSource: sourceOf(migrations.slice(0, 1)) });
          await first('knex_migrations_lock').update({ is_locked: 1 });
        } finally {
          await first.destroy();
        }
      }));

    test('a start killed after a migration\'s DDL, before knex recorded it (MySQL finishes the ALTER), does not lock later starts out', () =>
      nextStartMigrates(backend, async (url) => {
        const first = await openKnex(url);
        try {
          // 0002's index is there, its row not: as MySQL leaves a start killed during 0002.
          await first('knex_migrations').where({ name: migrations[1]!.name }).del();
          await first('knex_migrations_lock').update({ is_locked: 1 });
        } finally {
          await first.destroy();
        }
      }));

    test('a first start killed after any statement of 0001 (MySQL commits each), knex\'s lock row left set, is finished by the next start, as a clean start\'s schema', async () => {
      // The statements, and the schema a clean start leaves.
      const scratch = await backend.create();
      let statements: Awaited<ReturnType<typeof firstMigrationStatements>>;
      let clean: string[];
      try {
        statements = await firstMigrationStatements(scratch.url);
      } finally {
        await scratch.cleanup();
      }
      const fresh = await backend.create();
      try {
        const knex = await openKnex(fresh.url);
        try {
          clean = await schemaOf(knex, backend.name);
          // What inspectDatabase takes for 0001's tables is what 0001 makes.
          for (const [table, columns] of Object.entries(KILN_COLUMNS)) {
            assert.deepEqual(Object.keys(await knex(table).columnInfo()).sort(), [...columns].sort(), table);
          }
        } finally {
          await knex.destroy();
        }
      } finally {
        await fresh.cleanup();
      }
      // MySQL: CREATE TABLE, then an ALTER TABLE for each key and index; one of each kind at least.
      if (backend.name === 'mysql') assert.ok(statements.length >= 15, statements.map((s) => s.sql).join('\n'));
      for (let n = 1; n <= statements.length; n++) {
        await nextStartMigrates(backend, async (url) => {
          const first = knexFactory(knexConfigFor(url));
          try {
            // knex makes its tables, and sets its lock, before 0001 runs.
            await first.migrate.list({ migrationSource });
            await first('knex_migrations_lock').update({ is_locked: 1 });
            for (const s of statements.slice(0, n)) await first.raw(s.sql, s.bindings);
          } finally {
            await first.destroy();
          }
        }, async (knex) => {
          assert.deepEqual(await schemaOf(knex, backend.name), clean, `killed after statement ${n}: ${statements[n - 1]!.sql}`);
        });
      }
    });

    test('a start waiting for another start\'s migration lock says what it waits for, and waits no longer than its bound', async () => {
      const db = await backend.create();
      try {
        await (await openKnex(db.url)).destroy();
        let release = await holdMigrationLock(backend.name, db.url);
        try {
          // The bound, shortened: the lock is not had, nothing runs, and the error names the lock.
          const knex = knexFactory(knexConfigFor(db.url));
          try {
            const waits: unknown[][] = [];
            let ran = false;
            const t0 = Date.now();
            await assert.rejects(
              withMigrationLock(knex, async () => { ran = true; }, { waitSeconds: 1, noticeMs: 200, onWait: (...a) => waits.push(a) }),
              /^Error: another Kiln start has been migrating this database for over 1 s \(it holds the (PostgreSQL advisory lock|MySQL named lock|exclusive lock on).*\); try again$/,
            );
            assert.ok(Date.now() - t0 < 5000, `gave up after ${Date.now() - t0} ms`);
            assert.equal(ran, false);
            assert.equal(waits.length, 1);
            assert.equal(waits[0]![1], 1);
            // MySQL's lock is named after the database, which the message names as the server shows it.
            if (backend.name === 'mysql') assert.equal(waits[0]![0], `MySQL named lock kiln_migrate:${new URL(db.url).pathname.slice(1)} (IS_USED_LOCK shows its holder's connection)`);
            if (backend.name === 'postgres') {
              // The bound was the lock wait's only: the pool's connections keep the server's lock_timeout.
              const res = (await knex.raw('SHOW lock_timeout')) as { rows: { lock_timeout: string }[] };
              assert.equal(res.rows[0]!.lock_timeout, '0');
            }
          } finally {
            await knex.destroy();
          }
          // The start itself: a warning once it has waited a few seconds, and it goes on when the lock is let go.
          const log = warnings();
          const opening = openKnex(db.url, { log });
          await new Promise((r) => setTimeout(r, 3500));
          await release();
          release = async () => undefined;
          await (await opening).destroy();
          assert.equal(log.warns.length, 1, JSON.stringify(log.warns));
          assert.match(log.warns[0]!.msg, /^waiting for another Kiln start to finish migrating this database \(it holds the .+\); giving up after 120 s$/);
          assert.equal((log.warns[0]!.obj as { wait_seconds: number }).wait_seconds, 120);
        } finally {
          await release();
        }
      } finally {
        await db.cleanup();
      }
    });

    test('create every table, record each migration once, and run again as a no-op', async () => {
      const db = await backend.create();
      try {
        for (let round = 0; round < 3; round++) {
          const knex = await openKnex(db.url);
          try {
            for (const table of ['apps', 'fns', 'triggers', 'calls', 'call_logs']) {
              assert.ok(await knex.schema.hasTable(table), `${table} exists`);
            }
            const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
            assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
          } finally {
            await knex.destroy();
          }
        }
      } finally {
        await db.cleanup();
      }
    });

    for (const kind of ['an empty', 'an Fn'] as const) {
      test(`on ${kind} database, a fn looked up by name alone (no app) is found through an index`, async () => {
        const db = await backend.create();
        try {
          if (kind === 'an Fn') await createFnDatabase(db.url);
          const knex = await openKnex(db.url);
          try {
            assert.match(await byNameIndexes(knex, backend.name), new RegExp(FNS_BY_NAME_INDEX));
          } finally {
            await knex.destroy();
          }
        } finally {
          await db.cleanup();
        }
      });
    }

    // Several nodes share a PostgreSQL or MySQL database and may start together; on SQLite,
    // two processes may open one file (three knex instances in one process race the same way).
    for (const kind of ['an empty', 'an Fn'] as const) {
      test(`nodes starting together on ${kind} database: every start succeeds, the schema is made once`, async () => {
        for (let round = 0; round < 4; round++) {
          const db = await backend.create();
          try {
            if (kind === 'an Fn') await createFnDatabase(db.url);
            const starts = await Promise.allSettled([openKnex(db.url), openKnex(db.url), openKnex(db.url)]);
            const opened = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
            try {
              assert.deepEqual(starts.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok')), ['ok', 'ok', 'ok'], `round ${round}`);
              const knex = opened[0]!;
              const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
              assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
              assert.equal(((await knex('knex_migrations_lock').select('*')) as unknown[]).length, 1);
            } finally {
              await Promise.all(opened.map((k) => k.destroy()));
            }
          } finally {
            await db.cleanup();
          }
        }
      });
    }
  });
}
