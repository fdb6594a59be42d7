// An Fn server's database as Fn leaves it, for the adoption tests. The schema is Fn's final one
// (fnproject/fn api/datastore/sql/sql.go: the tables a fresh Fn creates, which its migrations up
// to 26_add_shape_fns.go also end at) plus its bookkeeping row (migratex/migrate.go: one
// schema_migrations row, version 26, dirty false). The rows are written as Fn writes them:
// - ids from Fn's id package (48-bit ms time, machine id 0, the counter in byte 8: mostly zeros);
// - config and annotations as its Value() methods (models/config.go, annotations.go) store them:
//   JSON with json.Encoder's trailing newline, and '' for an empty map;
// - timestamps as common.DateTime (common/time.go): RFC 3339 with ms in the server's zone;
// - apps.shape '' where its migration 25 gave existing apps none, and a fn's shape copied from
//   its app (sql.go InsertFn); an app made before migration 5 has no timestamps at all.
// Fn's DDL is the same text on every database, so on MySQL its tables take the database's
// default character set and collation: the test server's utf8mb4_general_ci (case-insensitive,
// padding), or latin1_swedish_ci, MySQL 5.7's default, when asked for.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import { knexConfigFor } from '../../store/open.js';

/** A knex on the database that runs no migrations: Fn's side of it. */
export function rawKnex(url: string): Knex {
  return knexFactory(knexConfigFor(url));
}

export const FN_IDS = {
  zeta: '01D53HGHKH0000200000000000',
  alpha: '01D53HGHKJ0000400000000000',
  fn: '01D53HGHKK0000600000000000',
  trigger: '01D53HGHKM0000800000000000',
} as const;

export interface FnSchemaOptions {
  /** schema_migrations.version (Fn's final is 26; at 25 fns has no shape yet). */
  version?: number;
  dirty?: boolean;
  /** MySQL only: make the tables in MySQL 5.7's default latin1 (latin1_swedish_ci). */
  latin1?: boolean;
}

/** Fn's final tables, as sql.go creates them on a fresh database. */
export async function createFnSchema(knex: Knex, opts: FnSchemaOptions = {}): Promise<void> {
  const version = opts.version ?? 26;
  const mysql = knex.client.config.client === 'mysql2';
  if (opts.latin1) {
    if (!mysql) throw new Error('latin1 is a MySQL database default');
    await knex.raw('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci');
  }
  await knex.raw(`CREATE TABLE apps (
    id varchar(256) NOT NULL PRIMARY KEY,
    name varchar(256) NOT NULL UNIQUE,
    config text NOT NULL,
    annotations text NOT NULL,
    syslog_url text,
    created_at varchar(256),
    updated_at varchar(256),
    shape text)`);
  await knex.raw(`CREATE TABLE triggers (
    id varchar(256) NOT NULL PRIMARY KEY,
    name varchar(256) NOT NULL,
    app_id varchar(256) NOT NULL,
    fn_id varchar(256) NOT NULL,
    created_at varchar(256) NOT NULL,
    updated_at varchar(256) NOT NULL,
    type varchar(256) NOT NULL,
    source varchar(256) NOT NULL,
    annotations text NOT NULL,
    CONSTRAINT name_app_id_fn_id_unique UNIQUE (app_id, fn_id, name))`);
  await knex.raw(`CREATE TABLE fns (
    id varchar(256) NOT NULL PRIMARY KEY,
    name varchar(256) NOT NULL,
    app_id varchar(256) NOT NULL,
    image varchar(256) NOT NULL,
    memory int NOT NULL,
    timeout int NOT NULL,
    idle_timeout int NOT NULL,
    config text NOT NULL,
    annotations text NOT NULL,
    created_at varchar(256) NOT NULL,
    updated_at varchar(256) NOT NULL,
    ${version >= 26 ? 'shape text,' : ''}
    CONSTRAINT name_app_id_unique UNIQUE (app_id, name))`);
  await knex.raw('CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)');
  await knex.raw(`INSERT INTO schema_migrations (version, dirty) VALUES (?, ${opts.dirty ? 'true' : 'false'})`, [version]);

  // Fn's DDL names no collation, so on PostgreSQL its columns take the database's, often a
  // locale's; the test cluster's is C.UTF-8, so an ICU locale stands in for one here.
  if (knex.client.config.client === 'pg') {
    const icu = (await knex.raw(`SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'`)) as { rows: unknown[] };
    if (icu.rows.length > 0) {
      for (const t of ['apps', 'fns', 'triggers']) {
        await knex.raw(`ALTER TABLE ?? ALTER COLUMN name TYPE varchar(256) COLLATE "und-x-icu"`, [t]);
      }
    }
  }
}

/**
 * Two apps (Zeta: config, annotations, a syslog URL, no shape, timestamps from an Fn in UTC+1;
 * the URL is UDP to the loopback, since Kiln, as Fn, sends the fn's output there, and a TCP one
 * that nothing answers would fail its containers; alpha: empty config and annotations, GENERIC_ARM, made before Fn stored timestamps), one fn
 * of Zeta on `image`, and one HTTP trigger on it.
 */
export async function insertFnRows(knex: Knex, image: string): Promise<void> {
  await knex('apps').insert([
    {
      id: FN_IDS.zeta, name: 'Zeta', config: '{"A":"1","B":"2"}\n', annotations: '{"x.io/k":"v","x.io/n":7}\n',
      syslog_url: 'udp://127.0.0.1:514', created_at: '2019-03-04T06:06:07.089+01:00', updated_at: '2019-03-04T06:16:07.089+01:00',
      shape: '',
    },
    { id: FN_IDS.alpha, name: 'alpha', config: '', annotations: '', syslog_url: null, created_at: null, updated_at: null, shape: 'GENERIC_ARM' },
  ]);
  await knex('fns').insert({
    id: FN_IDS.fn, name: 'hello', app_id: FN_IDS.zeta, image, memory: 128, timeout: 30, idle_timeout: 30,
    config: '{"FN_VAR":"f"}\n', annotations: '', created_at: '2019-03-04T05:06:08.000Z', updated_at: '2019-03-04T05:06:08.000Z',
    shape: '',
  });
  await knex('triggers').insert({
    id: FN_IDS.trigger, name: 'hello', app_id: FN_IDS.zeta, fn_id: FN_IDS.fn, type: 'http', source: '/hello',
    annotations: '', created_at: '2019-03-04T05:06:09.000Z', updated_at: '2019-03-04T05:06:09.000Z',
  });
}

/** An Fn database at FN_DB_URL `url`: Fn's schema and the rows above. */
export async function createFnDatabase(url: string, image = 'fnproject/hello:0.0.1', opts: FnSchemaOptions = {}): Promise<void> {
  const knex = rawKnex(url);
  try {
    await createFnSchema(knex, opts);
    await insertFnRows(knex, image);
  } finally {
    await knex.destroy();
  }
}

/** Everything a refusal must leave as it was: tables, columns, indexes and rows. */
export async function snapshot(url: string): Promise<unknown> {
  const knex = rawKnex(url);
  try {
    let schema: unknown;
    let tables: string[];
    if (knex.client.config.client === 'pg') {
      const cols = (await knex.raw(`SELECT table_name, column_name, data_type, collation_name, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, column_name`)) as { rows: { table_name: string }[] };
      const idx = (await knex.raw(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`)) as { rows: unknown[] };
      schema = { cols: cols.rows, idx: idx.rows };
      tables = [...new Set(cols.rows.map((r) => r.table_name))];
    } else if (knex.client.config.client === 'mysql2') {
      const inDb = { TABLE_SCHEMA: knex.raw('DATABASE()') };
      const tableRows = (await knex('information_schema.TABLES').select('TABLE_NAME', 'ENGINE', 'ROW_FORMAT', 'TABLE_COLLATION')
        .where(inDb).orderBy('TABLE_NAME')) as { TABLE_NAME: string }[];
      const cols = await knex('information_schema.COLUMNS')
        .select('TABLE_NAME', 'COLUMN_NAME', 'ORDINAL_POSITION', 'COLUMN_TYPE', 'COLLATION_NAME', 'IS_NULLABLE', 'COLUMN_DEFAULT')
        .where(inDb).orderBy(['TABLE_NAME', 'COLUMN_NAME']);
      const idx = await knex('information_schema.STATISTICS')
        .select('TABLE_NAME', 'INDEX_NAME', 'SEQ_IN_INDEX', 'COLUMN_NAME', 'NON_UNIQUE', 'SUB_PART')
        .where(inDb).orderBy(['TABLE_NAME', 'INDEX_NAME', 'SEQ_IN_INDEX']);
      schema = { tables: tableRows, cols, idx };
      tables = tableRows.map((r) => r.TABLE_NAME);
    } else {
      const rows = (await knex.raw(`SELECT type, name, sql FROM sqlite_master ORDER BY name`)) as { type: string; name: string }[];
      schema = rows;
      tables = rows.filter((r) => r.type === 'table').map((r) => r.name);
    }
    const data: Record<string, unknown> = {};
    for (const t of tables) data[t] = await knex(t).select('*').orderByRaw('1');
    return { schema, data };
  } finally {
    await knex.destroy();
  }
}

/**
 * An SQLite file as a refusal must leave it, beyond its rows: its bytes, its journal mode, and the
 * files beside it (a WAL; not Kiln's empty `-migrate.lock` sidecar, which stays: another start may
 * be waiting on it). undefined for the other backends.
 */
export function sqliteFileState(url: string): { md5: string; journalMode: unknown; files: string[] } | undefined {
  const filename = knexConfigFor(url).connection as { filename?: string };
  if (!filename.filename) return undefined;
  const file = filename.filename;
  const md5 = createHash('md5').update(readFileSync(file)).digest('hex');
  const files = readdirSync(dirname(file)).filter((f) => f.startsWith(basename(file)) && !f.endsWith('-migrate.lock')).sort();
  const db = new Database(file, { readonly: true });
  try {
    return { md5, journalMode: db.pragma('journal_mode', { simple: true }), files };
  } finally {
    db.close();
  }
}

/** Puts an SQLite file in rollback-journal mode, as Fn's driver and the sqlite3 shell make one. */
export function useRollbackJournal(url: string): void {
  const { filename } = knexConfigFor(url).connection as { filename?: string };
  if (!filename) return;
  const db = new Database(filename);
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}
