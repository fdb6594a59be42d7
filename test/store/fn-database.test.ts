// Opening an Fn server's database, on every backend: adopted once by additions only, so Fn's
// rows stay as they were and Fn's statements still work; anything else refused, unchanged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Knex } from 'knex';
import { openKnex } from '../../store/open.js';
import { SqlStore } from '../../store/sql-store.js';
import { FN_COLUMNS, ForeignDatabaseError, KILN_COLUMNS, type RefusalReason } from '../../store/fn-database.js';
import { migrations } from '../../migrations/index.js';
import { NotFoundError, UnstorableValueError } from '../../store/errors.js';
import { backends, mysqlDb, type Backend, type TestDb } from '../helpers/db.js';
import { createFnDatabase, createFnSchema, FN_IDS, rawKnex, snapshot, sqliteFileState, useRollbackJournal } from '../helpers/fn-database.js';

/** knex's migrations table as knex makes it, with no migration recorded: what a start that failed early leaves. */
async function createKnexMigrations(knex: Knex): Promise<void> {
  await knex.schema.createTable('knex_migrations', (t) => {
    t.increments();
    t.string('name');
    t.integer('batch');
    t.timestamp('migration_time');
  });
}

type Row = Record<string, unknown>;

/** Fn's columns of every row of its three tables, as Fn's selectors read them. */
async function fnRows(knex: Knex): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const [table, cols] of Object.entries(FN_COLUMNS)) out[table] = (await knex(table).select(...cols).orderBy('id')) as Row[];
  return out;
}

async function withDb(backend: Backend, body: (db: TestDb) => Promise<void>): Promise<void> {
  const db = await backend.create();
  try {
    await body(db);
  } finally {
    await db.cleanup();
  }
}

/** `body` on a knex of its own: Fn's side (no migrations) unless `open` is openKnex. */
async function withKnex<T>(
  url: string, body: (knex: Knex) => Promise<T>, open: (url: string) => Knex | Promise<Knex> = rawKnex,
): Promise<T> {
  const knex = await open(url);
  try {
    return await body(knex);
  } finally {
    await knex.destroy();
  }
}

/** openKnex refuses the database for `reason`, with a message matching `message`, and changes nothing. */
async function assertRefused(url: string, reason: RefusalReason, message: RegExp): Promise<void> {
  const before = await snapshot(url);
  // On SQLite, the file itself too: bytes, journal mode (WAL is stored in it), the files beside it.
  useRollbackJournal(url);
  const fileBefore = sqliteFileState(url);
  if (fileBefore) assert.equal(fileBefore.journalMode, 'delete');
  await assert.rejects(openKnex(url), (err: unknown) => {
    assert.ok(err instanceof ForeignDatabaseError, `a ForeignDatabaseError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    assert.match(err.message, /Kiln changed nothing in it\.$/);
    return true;
  });
  assert.deepEqual(sqliteFileState(url), fileBefore, 'the refused SQLite file is unchanged, with nothing beside it but the lock sidecar');
  assert.deepEqual(await snapshot(url), before, 'the refused database is unchanged');
}

for (const backend of backends) {
  describe(`an Fn database on ${backend.name}`, () => {
    test('is adopted once: Kiln tables added, recorded as 0001, Fn rows and bookkeeping untouched', async () => {
      await withDb(backend, async (db) => {
        await createFnDatabase(db.url);
        useRollbackJournal(db.url); // as Fn's SQLite driver leaves its file
        const before = await withKnex(db.url, fnRows);
        for (let round = 0; round < 3; round++) {
          await withKnex(db.url, async (knex) => {
            const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
            assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name), 'recorded once, never run again');
            for (const t of ['calls', 'call_logs']) assert.ok(await knex.schema.hasTable(t), `${t} exists`);
            assert.deepEqual(await fnRows(knex), before, "Fn's columns of Fn's rows are as Fn wrote them");
            const formats = (await knex('fns').select('format')) as { format: string }[];
            assert.deepEqual(formats, [{ format: 'http-stream' }]);
            const book = (await knex('schema_migrations').select('version', 'dirty')) as { version: unknown; dirty: unknown }[];
            assert.equal(book.length, 1);
            assert.equal(Number(book[0]!.version), 26);
            assert.equal(Number(book[0]!.dirty), 0);
          }, openKnex);
        }
        // An accepted SQLite file is switched to WAL, as Kiln's own are.
        assert.equal(sqliteFileState(db.url)?.journalMode ?? 'wal', 'wal');
      });
    });

    test('calls and call_logs are made as on a fresh Kiln database', async () => {
      await withDb(backend, async (fresh) => {
        await withDb(backend, async (fn) => {
          await createFnDatabase(fn.url);
          const columns = (url: string) => withKnex(url, async (knex) => ({
            calls: await knex('calls').columnInfo(),
            call_logs: await knex('call_logs').columnInfo(),
          }), openKnex);
          assert.deepEqual(await columns(fn.url), await columns(fresh.url));
        });
      });
    });

    test('Fn can still write and read it, and Kiln reads what Fn writes', async () => {
      await withDb(backend, async (db) => {
        await createFnDatabase(db.url);
        const store = new SqlStore(await openKnex(db.url));
        try {
          const now = '2024-05-06T07:08:09.010Z';
          // Kiln writes: an app and a fn of its own, a fn in Fn's Zeta (no shape stored: '').
          await store.insertApp({ id: '01HX0000000000000000000001', name: 'kiln-app', config: {}, annotations: {}, shape: 'GENERIC_ARM', created_at: now, updated_at: now });
          const fnOf = (id: string, app_id: string, name: string) => ({
            id, name, app_id, image: 'img', memory: 64, timeout: 10, idle_timeout: 10, format: 'lambda' as const,
            config: {}, annotations: {}, created_at: now, updated_at: now,
          });
          await store.insertFn(fnOf('01HX0000000000000000000002', '01HX0000000000000000000001', 'k'));
          await store.insertFn(fnOf('01HX0000000000000000000003', FN_IDS.zeta, 'k2'));
          await store.insertTrigger({ id: '01HX0000000000000000000004', name: 't', app_id: FN_IDS.zeta, fn_id: FN_IDS.fn, type: 'http', source: '/k', annotations: {}, created_at: now, updated_at: now });
          await store.updateApp(FN_IDS.zeta, (a) => ({ ...a, config: { A: '9' } }));

          await withKnex(db.url, async (knex) => {
            // Fn's own inserts name Fn's columns only (sql.go InsertApp, InsertFn, InsertTrigger).
            await knex.raw(`INSERT INTO apps (id, name, config, annotations, syslog_url, created_at, updated_at, shape)
              VALUES ('01D53HGHKN0000A00000000000', 'fnnew', '', '', NULL, '2019-03-05T00:00:00.000Z', '2019-03-05T00:00:00.000Z', 'GENERIC_X86')`);
            await knex.raw(`INSERT INTO fns (id, name, app_id, image, memory, timeout, idle_timeout, config, annotations, created_at, updated_at, shape)
              VALUES ('01D53HGHKP0000C00000000000', 'f', '01D53HGHKN0000A00000000000', 'img', 128, 30, 30, '', '', '2019-03-05T00:00:00.000Z', '2019-03-05T00:00:00.000Z', 'GENERIC_X86')`);
            await knex.raw(`INSERT INTO triggers (id, name, app_id, fn_id, created_at, updated_at, type, source, annotations)
              VALUES ('01D53HGHKQ0000E00000000000', 'f', '01D53HGHKN0000A00000000000', '01D53HGHKP0000C00000000000', '2019-03-05T00:00:00.000Z', '2019-03-05T00:00:00.000Z', 'http', '/f', '')`);
            // Fn's selectors scan these columns into non-pointer Go values, which cannot take NULL
            // (created_at, syslog_url of apps can: common.DateTime and *string).
            const notNull: Record<string, string[]> = {
              apps: ['id', 'name', 'config', 'annotations', 'shape'],
              fns: [...FN_COLUMNS.fns],
              triggers: [...FN_COLUMNS.triggers],
            };
            for (const [table, rows] of Object.entries(await fnRows(knex))) {
              for (const r of rows) for (const c of notNull[table]!) assert.notEqual(r[c], null, `${table} ${String(r.id)} ${c}`);
              for (const r of rows) for (const c of ['config', 'annotations'].filter((k) => k in r)) {
                if (r[c] !== '') assert.equal(typeof JSON.parse(String(r[c])), 'object', `${table}.${c} is JSON`);
              }
            }
            const shapes = (await knex('fns').select('id', 'shape').orderBy('id')) as { id: string; shape: string }[];
            assert.deepEqual(shapes.filter((s) => s.id.startsWith('01HX')), [
              { id: '01HX0000000000000000000002', shape: 'GENERIC_ARM' },
              { id: '01HX0000000000000000000003', shape: '' }, // Zeta's, as Fn's InsertFn copies it
            ]);
          });

          const f = await store.getFn('01D53HGHKP0000C00000000000');
          assert.equal(f.format, 'http-stream', "Fn's insert got the column's default");
          assert.deepEqual(f.config, {});
          assert.equal((await store.getTriggerBySource('01D53HGHKN0000A00000000000', 'http', '/f')).fn_id, f.id);
          // Kiln's constraint on (app_id, type, source), which Fn checks itself on insert.
          await assert.rejects(
            store.insertTrigger({ id: '01HX0000000000000000000005', name: 'dup', app_id: FN_IDS.zeta, fn_id: FN_IDS.fn, type: 'http', source: '/hello', annotations: {}, created_at: now, updated_at: now }),
            /same type and source/,
          );
        } finally {
          await store.close();
        }
      });
    });

    test('rows equal only case-insensitively or up to trailing spaces are distinct to Kiln, not duplicates', async () => {
      // What MySQL's default collations (Fn's there) call one value: Fn matched '/HELLO' to
      // '/hello'. Kiln matches and orders bytewise on every backend, so neither is refused.
      await withDb(backend, async (db) => {
        await createFnDatabase(db.url);
        const variants = [
          { id: '01D53HGHKN0000A00000000000', name: 'upper', source: '/HELLO' },
          { id: '01D53HGHKP0000C00000000000', name: 'spaced', source: '/hello ' },
        ];
        await withKnex(db.url, (knex) => knex('triggers').insert(variants.map((v) => ({
          ...v, app_id: FN_IDS.zeta, fn_id: FN_IDS.fn, type: 'http', annotations: '',
          created_at: '2019-03-05T00:00:00.000Z', updated_at: '2019-03-05T00:00:00.000Z',
        }))));
        const store = new SqlStore(await openKnex(db.url));
        try {
          assert.equal((await store.getTriggerBySource(FN_IDS.zeta, 'http', '/hello')).id, FN_IDS.trigger);
          for (const v of variants) assert.equal((await store.getTriggerBySource(FN_IDS.zeta, 'http', v.source)).id, v.id, v.source);
          // An app name Fn's unique index held equal to "Zeta" on MySQL, and lookups by case variants.
          const now = '2024-05-06T07:08:09.010Z';
          await store.insertApp({ id: '01HX0000000000000000000001', name: 'zeta', config: {}, annotations: {}, shape: 'GENERIC_X86', created_at: now, updated_at: now });
          const names = (await store.listApps({ perPage: 10 })).items.map((a) => a.name);
          assert.deepEqual(names, ['Zeta', 'alpha', 'zeta'], 'listed bytewise');
          assert.equal((await store.getAppByName('zeta')).id, '01HX0000000000000000000001');
          await assert.rejects(store.getAppByName('ZETA'), NotFoundError);
          await assert.rejects(store.getApp(FN_IDS.zeta.toLowerCase()), NotFoundError);
        } finally {
          await store.close();
        }
      });
    });

    test('a failed earlier Kiln start (knex tables, no migration recorded) does not stop the adoption', async () => {
      await withDb(backend, async (db) => {
        await createFnDatabase(db.url);
        await withKnex(db.url, async (knex) => {
          await createKnexMigrations(knex);
        });
        await withKnex(db.url, async (knex) => {
          assert.ok(await knex.schema.hasColumn('fns', 'format'));
        }, openKnex);
      });
    });

    describe('refused, unchanged', () => {
      test('unrelated tables named as Kiln’s, with no bookkeeping', async () => {
        await withDb(backend, async (db) => {
          await withKnex(db.url, async (knex) => {
            await knex.raw('CREATE TABLE apps (id integer PRIMARY KEY, title text)');
            await knex.raw(`INSERT INTO apps (id, title) VALUES (1, 'mine')`);
          });
          await assertRefused(db.url, 'unrecognised', /holds tables apps but neither .*knex_migrations.*schema_migrations/);
        });
      });

      // knex's tables with none recorded and no Fn bookkeeping is also what a first start killed
      // during 0001 leaves on MySQL, which is finished (test/store/migrations.test.ts); not these.
      for (const [what, make] of [
        ['unrelated tables named as Kiln’s', (k: Knex) => k.raw('CREATE TABLE apps (id integer PRIMARY KEY, title text)')],
        ['Kiln’s tables out of 0001’s order', async (k: Knex) => {
          await k.schema.createTable('apps', (t) => { for (const c of KILN_COLUMNS.apps) t.string(c); });
          await k.schema.createTable('triggers', (t) => { for (const c of KILN_COLUMNS.triggers) t.string(c); });
        }],
        ['Kiln’s first table with rows in it', async (k: Knex) => {
          await k.schema.createTable('apps', (t) => { for (const c of KILN_COLUMNS.apps) t.string(c); });
          await k('apps').insert({ id: 'a', name: 'mine' });
        }],
      ] as const) {
        test(`${what}, beside knex's tables with no migration recorded`, async () => {
          await withDb(backend, async (db) => {
            await withKnex(db.url, async (knex) => {
              await createKnexMigrations(knex);
              await make(knex);
            });
            await assertRefused(db.url, 'unrecognised', /holds tables apps(, triggers)? but neither .*knex_migrations.*schema_migrations/);
          });
        });
      }

      test('another tool’s schema_migrations beside unrelated tables', async () => {
        await withDb(backend, async (db) => {
          await withKnex(db.url, async (knex) => {
            await createFnSchema(knex);
            await knex.schema.dropTable('fns');
            await knex.raw('CREATE TABLE fns (id integer PRIMARY KEY, body text)');
          });
          await assertRefused(db.url, 'unrecognised', /lacks Fn's fns\.name, fns\.app_id/);
        });
      });

      test('Fn’s dirty flag set', async () => {
        await withDb(backend, async (db) => {
          await createFnDatabase(db.url, undefined, { dirty: true });
          await assertRefused(db.url, 'fn-dirty', /marks version 26 dirty/);
        });
      });

      test('an Fn schema older than Fn’s final one', async () => {
        await withDb(backend, async (db) => {
          await withKnex(db.url, async (knex) => {
            await createFnSchema(knex, { version: 25 });
            await knex('apps').insert({ id: FN_IDS.zeta, name: 'Zeta', config: '', annotations: '', shape: '' });
          });
          await assertRefused(db.url, 'fn-version', /schema version 25; .*version 26: start a current Fn server/);
        });
      });

      test('an adoption that stopped part-way', async () => {
        await withDb(backend, async (db) => {
          await createFnDatabase(db.url);
          // What a backend whose DDL commits statement by statement could leave: the first step.
          await withKnex(db.url, (knex) => knex.schema.alterTable('fns', (t) => {
            t.string('format', 32).notNullable().defaultTo('http-stream');
          }));
          await assertRefused(db.url, 'half-adopted', /already has fns\.format/);
        });
      });

      test('Fn rows that break Kiln’s trigger constraint', async () => {
        await withDb(backend, async (db) => {
          await createFnDatabase(db.url);
          await withKnex(db.url, (knex) => knex('triggers').insert({
            id: '01D53HGHKN0000A00000000000', name: 'again', app_id: FN_IDS.zeta, fn_id: FN_IDS.fn, type: 'http',
            source: '/hello', annotations: '', created_at: '2019-03-05T00:00:00.000Z', updated_at: '2019-03-05T00:00:00.000Z',
          }));
          await assertRefused(db.url, 'fn-data', new RegExp(`app ${FN_IDS.zeta} http /hello`));
        });
      });
    });

    test('an empty database and a Kiln database open as before', async () => {
      await withDb(backend, async (db) => {
        for (let round = 0; round < 2; round++) {
          await withKnex(db.url, async (knex) => {
            assert.ok(!(await knex.schema.hasTable('schema_migrations')));
            assert.ok(!(await knex.schema.hasColumn('fns', 'shape')));
            const done = (await knex('knex_migrations').select('name')) as { name: string }[];
            assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
          }, openKnex);
        }
      });
    });
  });
}

/** The collation of each of Fn's columns, as information_schema.COLUMNS has it. */
async function mysqlCollations(knex: Knex): Promise<Record<string, string | null>> {
  const rows = (await knex('information_schema.COLUMNS')
    .select({ table: 'TABLE_NAME', column: 'COLUMN_NAME', collation: 'COLLATION_NAME' })
    .where({ TABLE_SCHEMA: knex.raw('DATABASE()') })
    .whereIn('TABLE_NAME', Object.keys(FN_COLUMNS))) as { table: string; column: string; collation: string | null }[];
  return Object.fromEntries(rows.map((r) => [`${r.table}.${r.column}`, r.collation]));
}

describe('an Fn database on MySQL only', () => {
  const KEYS = ['apps.id', 'apps.name', 'fns.id', 'fns.name', 'fns.app_id', 'triggers.id', 'triggers.name',
    'triggers.app_id', 'triggers.fn_id', 'triggers.type', 'triggers.source'];

  for (const latin1 of [false, true]) {
    const what = latin1 ? 'latin1 (MySQL 5.7’s default)' : 'the server’s default, utf8mb4_general_ci';
    test(`in ${what}: key columns take Kiln’s binary collation, the rest keep theirs, and Fn’s lookups become exact`, async () => {
      const db = await mysqlDb();
      try {
        await createFnDatabase(db.url, undefined, { latin1 });
        const before = await withKnex(db.url, mysqlCollations);
        const fnDefault = latin1 ? 'latin1_swedish_ci' : 'utf8mb4_general_ci';
        for (const c of KEYS) assert.equal(before[c], fnDefault, `Fn's ${c}`);
        const rowsBefore = await withKnex(db.url, fnRows);
        await withKnex(db.url, async (knex) => {
          const binary = (await knex('information_schema.TABLES').first({ c: 'TABLE_COLLATION' })
            .where({ TABLE_SCHEMA: knex.raw('DATABASE()'), TABLE_NAME: 'calls' })) as { c: string };
          assert.match(binary.c, /^utf8mb4_(nopad|0900)_bin$/);
          const after = await mysqlCollations(knex);
          for (const [c, collation] of Object.entries(after)) {
            const expected = KEYS.includes(c) || c === 'fns.format' ? binary.c : before[c];
            assert.equal(collation, expected, c);
          }
          assert.deepEqual(await fnRows(knex), rowsBefore, "Fn's rows read back as they were");
        }, openKnex);
        await withKnex(db.url, async (knex) => {
          // Fn's own statements (sql.go GetAppID, GetTriggerBySource) now match exactly, as on PostgreSQL and SQLite.
          const [byName] = (await knex.raw('SELECT id FROM apps WHERE name = ?', ['zeta'])) as [unknown[]];
          assert.deepEqual(byName, []);
          const [bySource] = (await knex.raw('SELECT id FROM triggers WHERE app_id = ? AND type = ? AND source = ?', [FN_IDS.zeta, 'http', '/HELLO'])) as [unknown[]];
          assert.deepEqual(bySource, []);
          const [exact] = (await knex.raw('SELECT id FROM apps WHERE name = ?', ['Zeta'])) as [{ id: string }[]];
          assert.deepEqual(exact.map((r) => r.id), [FN_IDS.zeta]);
        });
      } finally {
        await db.cleanup();
      }
    });
  }

  test('an adoption killed part-way is refused, and adopted once the README’s recovery steps are done', async () => {
    const db = await mysqlDb();
    try {
      await createFnDatabase(db.url);
      // What a start killed during the adoption leaves on MySQL, whose DDL commits as it goes:
      // knex's tables with its lock row set, and the adoption's first steps.
      await withKnex(db.url, async (knex) => {
        await createKnexMigrations(knex);
        await knex.schema.createTable('knex_migrations_lock', (t) => {
          t.increments('index').primary();
          t.integer('is_locked');
        });
        await knex('knex_migrations_lock').insert({ is_locked: 1 });
        await knex.schema.alterTable('fns', (t) => {
          t.string('format', 32).notNullable().defaultTo('http-stream');
        });
        await knex.schema.alterTable('triggers', (t) => {
          t.unique(['app_id', 'type', 'source'], { indexName: 'triggers_app_id_type_source_unique' });
        });
        await knex.schema.createTable('calls', (t) => {
          t.string('id', 26).primary();
        });
      });
      await assertRefused(db.url, 'half-adopted', /already has fns\.format, calls/);
      await withKnex(db.url, async (knex) => {
        // The README's steps, "Pointing Kiln at an Fn database".
        await knex.raw('ALTER TABLE fns DROP COLUMN format');
        await knex.raw('DROP TABLE IF EXISTS calls, call_logs');
        await knex.raw('ALTER TABLE triggers DROP INDEX triggers_app_id_type_source_unique');
      });
      await withKnex(db.url, async (knex) => {
        const done = (await knex('knex_migrations').select('name').orderBy('id')) as { name: string }[];
        assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name));
        assert.ok(await knex.schema.hasColumn('fns', 'format'));
        assert.ok(await knex.schema.hasTable('call_logs'));
      }, openKnex);
    } finally {
      await db.cleanup();
    }
  });

  test('in latin1: a value with characters latin1 cannot hold is an UnstorableValueError naming the column, and nothing is written', async () => {
    const db = await mysqlDb();
    try {
      await createFnDatabase(db.url, undefined, { latin1: true });
      const store = new SqlStore(await openKnex(db.url));
      try {
        const fn = await store.getFn(FN_IDS.fn);
        await assert.rejects(store.updateFn(fn.id, (f) => ({ ...f, image: 'img:\u{1F642}' })), (err: unknown) => {
          assert.ok(err instanceof UnstorableValueError, String(err));
          assert.equal(err.message, "Fn image has characters this database's column cannot store");
          return true;
        });
        assert.deepEqual(await store.getFn(FN_IDS.fn), fn);
        // What latin1 holds (é) is stored as before.
        await store.updateFn(fn.id, (f) => ({ ...f, image: 'café:1' }));
        assert.equal((await store.getFn(FN_IDS.fn)).image, 'café:1');
      } finally {
        await store.close();
      }
    } finally {
      await db.cleanup();
    }
  });

  test('refused, unchanged: a table whose row format cannot hold Kiln’s keys (a database made on MySQL 5.6)', async () => {
    const db = await mysqlDb();
    try {
      // latin1 keys fit COMPACT's 767 bytes a column; Kiln's utf8mb4 ones (1024) do not.
      await createFnDatabase(db.url, undefined, { latin1: true });
      await withKnex(db.url, (knex) => knex.raw('ALTER TABLE apps ROW_FORMAT=COMPACT'));
      await assertRefused(db.url, 'fn-schema', /apps has row format Compact, .*ROW_FORMAT=DYNAMIC/);
    } finally {
      await db.cleanup();
    }
  });
});
