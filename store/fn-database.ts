// Opening a database an Fn server made (fnproject/fn's SQL datastore), so an Fn operator can
// point FN_DB_URL at it as it is. Before knex runs Kiln's migrations, inspectDatabase() says
// what FN_DB_URL holds: nothing of Kiln's or Fn's (Kiln creates its schema), Kiln's (knex
// carries on), or Fn's at its final schema version. For Fn's, migrationSourceFor() hands knex
// the adoption in place of 0001_initial: it adds only what Kiln needs beside Fn's tables and is
// recorded under 0001's name, in knex's one transaction with its lock, so it runs once and
// every later migration runs as on any Kiln database. Anything else is refused, unchanged.
//
// Facts from fnproject/fn: api/datastore/sql/sql.go (the tables a fresh Fn creates),
// api/datastore/sql/migrations/*.go (up to 26_add_shape_fns.go; 22 dropped fns.format,
// 23 and 24 dropped calls and logs, 25 and 26 added apps.shape and fns.shape) and
// api/datastore/sql/migratex/migrate.go (one schema_migrations row: version, dirty).
import type { Knex } from 'knex';
import { migrations, migrationSource, sourceOf, type Migration } from '../migrations/index.js';

/** Fn's last schema version (26_add_shape_fns.go); the one Kiln adopts. */
export const FN_SCHEMA_VERSION = 26;

/** The columns of Fn's final apps, fns and triggers tables (sql.go). */
export const FN_COLUMNS = {
  apps: ['id', 'name', 'config', 'annotations', 'syslog_url', 'created_at', 'updated_at', 'shape'],
  fns: ['id', 'name', 'app_id', 'image', 'memory', 'timeout', 'idle_timeout', 'config', 'annotations', 'created_at', 'updated_at', 'shape'],
  triggers: ['id', 'name', 'app_id', 'fn_id', 'type', 'source', 'annotations', 'created_at', 'updated_at'],
} as const;

type FnTable = keyof typeof FN_COLUMNS;
const FN_TABLES = Object.keys(FN_COLUMNS) as FnTable[];
/** Tables Kiln creates beside Fn's. */
const KILN_ONLY_TABLES = ['calls', 'call_logs'] as const;

export type DatabaseKind = 'empty' | 'kiln' | 'fn';

/**
 * Why a database was refused: `unrecognised` (tables Kiln would use that are neither Kiln's nor
 * Fn's), `fn-dirty` (an Fn migration failed part-way), `fn-version` (not Fn's final schema),
 * `half-adopted` (Kiln's additions without Kiln's record of them), `fn-data` (Fn rows Kiln's
 * constraints cannot hold).
 */
export type RefusalReason = 'unrecognised' | 'fn-dirty' | 'fn-version' | 'half-adopted' | 'fn-data';

/** FN_DB_URL holds a database Kiln will not take; nothing in it was changed. */
export class ForeignDatabaseError extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(`${message}. Kiln changed nothing in it.`);
    this.name = 'ForeignDatabaseError';
  }
}

/**
 * What a backend needs beyond knex's portable schema builder. A new backend (MySQL) adds an
 * entry here; everything else in the adoption is written once.
 */
interface AdoptionDialect {
  /** Makes a name column compare and sort bytewise, as Kiln's own name columns do (lists page by name). */
  bytewiseName(knex: Knex, table: FnTable, column: string): Promise<void>;
}

const DIALECTS: Record<string, AdoptionDialect> = {
  // SQLite's default collation (BINARY) already is bytewise.
  'better-sqlite3': { bytewiseName: async () => {} },
  // Fn's DDL names no collation, so its columns take the database's, often a locale's; "C" is
  // what Kiln's own tables use. The type is restated as it is; NOT NULL and UNIQUE stay.
  pg: {
    bytewiseName: async (knex, table, column) => {
      const res = (await knex.raw(
        'SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = ?::regclass AND attname = ? AND NOT attisdropped',
        [table, column],
      )) as { rows: { type: string }[] };
      const type = res.rows[0]?.type;
      if (!type) throw new Error(`adopting an Fn database: ${table}.${column} not found`);
      await knex.raw(`ALTER TABLE ?? ALTER COLUMN ?? TYPE ${type} COLLATE "C"`, [table, column]);
    },
  },
};

function dialectOf(knex: Knex): AdoptionDialect {
  const client = String(knex.client.config.client);
  const dialect = DIALECTS[client];
  if (!dialect) throw new Error(`adopting an Fn database is not implemented for the "${client}" client`);
  return dialect;
}

const list = (names: readonly string[]): string => names.join(', ');

/** Fn's bookkeeping row, or a refusal saying why it is not one. */
async function fnVersion(knex: Knex, present: readonly string[]): Promise<{ version: number; dirty: boolean }> {
  let rows: { version: unknown; dirty: unknown }[];
  try {
    rows = (await knex('schema_migrations').select('version', 'dirty')) as { version: unknown; dirty: unknown }[];
  } catch {
    throw new ForeignDatabaseError('unrecognised',
      `FN_DB_URL holds tables ${list(present)} and a schema_migrations table without Fn's columns (version, dirty)`);
  }
  const row = rows[0];
  if (rows.length !== 1 || !row) {
    throw new ForeignDatabaseError('unrecognised',
      `FN_DB_URL holds tables ${list(present)}, but its schema_migrations has ${rows.length} rows where Fn keeps exactly one`);
  }
  // PostgreSQL answers a boolean, SQLite (and MySQL) 0 or 1; bigint versions may come as strings.
  return { version: Number(row.version), dirty: row.dirty === true || Number(row.dirty) === 1 };
}

/**
 * What FN_DB_URL holds. Reads only; throws ForeignDatabaseError for anything Kiln will not open.
 * A database with unrelated tables (none named as Kiln's) counts as empty, as it always has.
 */
export async function inspectDatabase(knex: Knex): Promise<DatabaseKind> {
  // Knex makes its tables before it runs a migration, so a Kiln start that failed on this
  // database (as on an Fn database before Kiln could adopt one) leaves them empty.
  if (await knex.schema.hasTable('knex_migrations')) {
    const done = (await knex('knex_migrations').count({ n: '*' }).first()) as { n: number | string } | undefined;
    if (Number(done?.n ?? 0) > 0) return 'kiln';
  }
  const has = async (t: string) => ((await knex.schema.hasTable(t)) ? [t] : []);
  const present = (await Promise.all([...FN_TABLES, ...KILN_ONLY_TABLES].map(has))).flat();
  if (present.length === 0) return 'empty';
  if (!(await knex.schema.hasTable('schema_migrations'))) {
    throw new ForeignDatabaseError('unrecognised',
      `FN_DB_URL holds tables ${list(present)} but neither Kiln's record of its migrations (knex_migrations) ` +
      `nor Fn's (schema_migrations): Kiln opens only an empty database, its own, or an Fn server's`);
  }

  const { version, dirty } = await fnVersion(knex, present);
  if (dirty) {
    throw new ForeignDatabaseError('fn-dirty',
      `FN_DB_URL is an Fn database whose schema_migrations marks version ${version} dirty (an Fn migration ` +
      `failed part-way); repair it with Fn first`);
  }
  if (version !== FN_SCHEMA_VERSION) {
    throw new ForeignDatabaseError('fn-version',
      version < FN_SCHEMA_VERSION
        ? `FN_DB_URL is an Fn database at schema version ${version}; Kiln adopts Fn's final schema, version ` +
          `${FN_SCHEMA_VERSION}: start a current Fn server on it once so that Fn finishes its own migrations`
        : `FN_DB_URL is an Fn database at schema version ${version}, newer than the version ${FN_SCHEMA_VERSION} Kiln knows`);
  }

  const missing: string[] = [];
  for (const table of FN_TABLES) {
    if (!present.includes(table)) {
      missing.push(table);
      continue;
    }
    const cols = Object.keys(await knex(table).columnInfo());
    for (const c of FN_COLUMNS[table]) if (!cols.includes(c)) missing.push(`${table}.${c}`);
  }
  if (missing.length > 0) {
    throw new ForeignDatabaseError('unrecognised',
      `FN_DB_URL has Fn's schema_migrations at version ${version} but lacks Fn's ${list(missing)}`);
  }

  // Fn's final schema has none of these; the adoption adds them in one transaction, so finding
  // them without Kiln's record means an adoption that stopped part-way (or a backend whose DDL
  // commits on its own) or tables of the same names made by something else.
  const kilnParts = [
    ...((await knex.schema.hasColumn('fns', 'format')) ? ['fns.format'] : []),
    ...present.filter((t) => (KILN_ONLY_TABLES as readonly string[]).includes(t)),
  ];
  if (kilnParts.length > 0) {
    throw new ForeignDatabaseError('half-adopted',
      `FN_DB_URL is an Fn database that already has ${list(kilnParts)}, which Fn's schema lacks, but no record ` +
      `of Kiln's migrations: a Kiln adoption stopped part-way or something else added them; restore the ` +
      `database from a backup or remove them`);
  }

  // Kiln keeps Fn's rule that a (type, source) pair is unique per app with an index; Fn checks
  // it on insert only, so an update through Fn can have left a pair twice.
  const dups = (await knex('triggers')
    .select('app_id', 'type', 'source')
    .groupBy('app_id', 'type', 'source')
    .havingRaw('count(*) > ?', [1])
    .limit(5)) as { app_id: string; type: string; source: string }[];
  if (dups.length > 0) {
    throw new ForeignDatabaseError('fn-data',
      `FN_DB_URL is an Fn database with more than one trigger on the same app, type and source ` +
      `(${dups.map((d) => `app ${d.app_id} ${d.type} ${d.source}`).join('; ')}); delete the extra ones with Fn first`);
  }
  return 'fn';
}

/** Kiln's calls and call logs; the same tables as 0001_initial makes (a test holds them equal). */
async function createCallTables(knex: Knex): Promise<void> {
  await knex.schema.createTable('calls', (t) => {
    t.string('id', 26).primary();
    t.string('app_id', 26).notNullable();
    t.string('fn_id', 26).notNullable();
    t.string('trigger_id', 26);
    t.string('status', 16).notNullable();
    t.string('created_at', 24).notNullable();
    t.string('started_at', 24);
    t.string('completed_at', 24);
    t.text('error');
    t.text('stats').notNullable();
    t.index(['fn_id', 'id']);
  });
  await knex.schema.createTable('call_logs', (t) => {
    t.string('call_id', 26).primary();
    t.string('fn_id', 26).notNullable();
    t.text('log').notNullable();
  });
}

/**
 * Fn's final schema brought to what 0001_initial leaves, by additions only, so an Fn server can
 * still use the database: Fn names its columns in every statement, and ignores the rest.
 */
async function adoptFnSchema(knex: Knex): Promise<void> {
  // First, so that any adoption that stopped part-way is recognisable by it.
  // The default is what every Fn fn runs as (Fn's current server runs all over http-stream),
  // and it lets Fn's own inserts, which do not name the column, go on working.
  await knex.schema.alterTable('fns', (t) => {
    t.string('format', 32).notNullable().defaultTo('http-stream');
  });
  const dialect = dialectOf(knex);
  for (const table of FN_TABLES) await dialect.bytewiseName(knex, table, 'name');
  // Fn's DDL has the (app_id, fn_id, name) uniques and none of these; the names are knex's
  // defaults, as on Kiln's own triggers table, so later migrations can name them on both.
  await knex.schema.alterTable('triggers', (t) => {
    t.unique(['app_id', 'type', 'source']);
    t.index(['app_id', 'name', 'id']);
    t.index(['fn_id']);
  });
  // Fn's calls and logs tables were dropped by its migrations 23 and 24; a database where
  // tables of those names remain is refused above, never merged.
  await createCallTables(knex);
}

/** The adoption, recorded as 0001_initial: the schema it leaves is the one 0001 makes, plus Fn's extra columns. */
const adoption: Migration = { name: migrations[0]!.name, up: adoptFnSchema };
const adoptingSource = sourceOf([adoption, ...migrations.slice(1)]);

/**
 * The migrations to run on the database behind `knex`: Kiln's, with the first one replaced by
 * the adoption when it is an Fn database. Throws ForeignDatabaseError for one Kiln will not open.
 */
export async function migrationSourceFor(knex: Knex): Promise<Knex.MigrationSource<Migration>> {
  return (await inspectDatabase(knex)) === 'fn' ? adoptingSource : migrationSource;
}
