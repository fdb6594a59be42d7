// Opening a database an Fn server made (fnproject/fn's SQL datastore), so an Fn operator can
// point FN_DB_URL at it as it is. Before knex runs Kiln's migrations, inspectDatabase() says
// what FN_DB_URL holds: nothing of Kiln's or Fn's (Kiln creates its schema), Kiln's (knex
// carries on; on MySQL, a first start killed part-way too: 0001 finishes its tables), or Fn's
// at its final schema version. For Fn's, migrationSourceFor() hands knex the adoption in place
// of 0001_initial: it adds only what Kiln needs beside Fn's tables and is recorded under 0001's
// name, in knex's one transaction with its lock, so it runs once and every later migration runs
// as on any Kiln database. Anything else is refused, unchanged.
// MySQL commits each DDL statement on its own, so there every check runs before the first
// change: a refusal changes nothing, and only an unforeseen failure (the server going away)
// can leave part of the adoption, which the next start refuses as half-adopted.
//
// Facts from fnproject/fn: api/datastore/sql/sql.go (the tables a fresh Fn creates),
// api/datastore/sql/migrations/*.go (up to 26_add_shape_fns.go; 22 dropped fns.format,
// 23 and 24 dropped calls and logs, 25 and 26 added apps.shape and fns.shape) and
// api/datastore/sql/migratex/migrate.go (one schema_migrations row: version, dirty). Fn's DDL is
// the same text on every database, so on MySQL its tables take the database's default character
// set and collation (case-insensitive and padding, e.g. utf8mb4_general_ci, or MySQL 5.7's latin1).
import type { Knex } from 'knex';
import { migrations, migrationSource, sourceOf, type Migration } from '../migrations/index.js';
import { createCallTables, tableStyle, type TableStyle } from '../migrations/0001_initial.js';

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
/** The indexes the adoption adds to Fn's triggers, named as knex names them on Kiln's own table. */
const TRIGGER_INDEXES = ['triggers_app_id_type_source_unique', 'triggers_app_id_name_id_index', 'triggers_fn_id_index'] as const;

/** Tables Kiln creates beside Fn's. */
const KILN_ONLY_TABLES = ['calls', 'call_logs'] as const;

/** The columns of the tables 0001_initial makes, in the order it makes them. */
export const KILN_COLUMNS = {
  apps: ['id', 'name', 'config', 'annotations', 'syslog_url', 'shape', 'created_at', 'updated_at'],
  fns: ['id', 'name', 'app_id', 'image', 'memory', 'timeout', 'idle_timeout', 'format', 'config', 'annotations', 'created_at', 'updated_at'],
  triggers: ['id', 'name', 'app_id', 'fn_id', 'type', 'source', 'annotations', 'created_at', 'updated_at'],
  calls: ['id', 'app_id', 'fn_id', 'trigger_id', 'status', 'created_at', 'started_at', 'completed_at', 'error', 'stats'],
  call_logs: ['call_id', 'fn_id', 'log'],
} as const;

export type DatabaseKind = 'empty' | 'kiln' | 'fn';

/**
 * Why a database was refused: `unrecognised` (tables Kiln would use that are neither Kiln's nor
 * Fn's), `fn-dirty` (an Fn migration failed part-way), `fn-version` (not Fn's final schema),
 * `half-adopted` (Kiln's additions without Kiln's record of them), `fn-data` (Fn rows Kiln's
 * constraints cannot hold), `fn-schema` (Fn's tables stored so that Kiln's additions cannot be
 * made, e.g. MySQL tables whose engine or row format cannot hold Kiln's indexes).
 */
export type RefusalReason = 'unrecognised' | 'fn-dirty' | 'fn-version' | 'half-adopted' | 'fn-data' | 'fn-schema';

/** FN_DB_URL holds a database Kiln will not take; nothing in it was changed. */
export class ForeignDatabaseError extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(`${message}. Kiln changed nothing in it.`);
    this.name = 'ForeignDatabaseError';
  }
}

/**
 * What a backend needs beyond knex's portable schema builder. A new backend adds an entry here;
 * everything else in the adoption is written once.
 */
interface AdoptionDialect {
  /**
   * What would stop the adoption part-way on this backend, found before anything changes (MySQL's
   * DDL commits statement by statement, so a failure there would leave the first steps in place).
   */
  preflight(knex: Knex, style: TableStyle): Promise<string[]>;
  /** `column` compared as Kiln's unique index on it will compare it: byte for byte. */
  exact(knex: Knex, column: string, style: TableStyle): Knex.Raw;
  /** Makes the columns of `table` Kiln compares and orders by compare bytewise, as Kiln's own do (lists page by name). */
  bytewise(knex: Knex, table: FnTable, style: TableStyle): Promise<void>;
}

/** Fn's columns Kiln looks rows up or orders lists by; all varchar(256) in Fn's DDL. */
const KEY_COLUMNS: Record<FnTable, readonly string[]> = {
  apps: ['id', 'name'],
  fns: ['id', 'name', 'app_id'],
  triggers: ['id', 'name', 'app_id', 'fn_id', 'type', 'source'],
};

/** A column of Fn's as MySQL's information_schema describes it. */
interface MysqlColumn {
  table: string;
  column: string;
  dataType: string;
  columnType: string;
  maxChars: number | null;
  nullable: string;
  default: string | null;
}

async function mysqlKeyColumns(knex: Knex, table: FnTable): Promise<MysqlColumn[]> {
  return (await knex('information_schema.COLUMNS')
    .select({
      table: 'TABLE_NAME', column: 'COLUMN_NAME', dataType: 'DATA_TYPE', columnType: 'COLUMN_TYPE',
      maxChars: 'CHARACTER_MAXIMUM_LENGTH', nullable: 'IS_NULLABLE', default: 'COLUMN_DEFAULT',
    })
    .where({ TABLE_SCHEMA: knex.raw('DATABASE()'), TABLE_NAME: table })
    .whereIn('COLUMN_NAME', KEY_COLUMNS[table])) as MysqlColumn[];
}

/** Kiln's longest index spans three key columns; InnoDB keys hold 3072 bytes: 3 × 256 characters × 4 bytes (utf8mb4). */
const MYSQL_KEY_CHARS = 256;

const DIALECTS: Record<string, AdoptionDialect> = {
  // SQLite's default collation (BINARY) already is bytewise, and its DDL is transactional.
  'better-sqlite3': {
    preflight: async () => [],
    exact: (knex, column) => knex.raw('??', [column]),
    bytewise: async () => {},
  },
  // Fn's DDL names no collation, so its columns take the database's, often a locale's; "C" is
  // what Kiln's own tables use. PostgreSQL's collations are deterministic (equal only when the
  // bytes are), so ids and sources already match exactly; names are what lists order by. The
  // type is restated as it is; NOT NULL and UNIQUE stay. DDL is transactional.
  pg: {
    preflight: async () => [],
    exact: (knex, column) => knex.raw('??', [column]),
    bytewise: async (knex, table) => {
      const res = (await knex.raw(
        'SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = ?::regclass AND attname = ? AND NOT attisdropped',
        [table, 'name'],
      )) as { rows: { type: string }[] };
      const type = res.rows[0]?.type;
      if (!type) throw new Error(`adopting an Fn database: ${table}.name not found`);
      await knex.raw(`ALTER TABLE ?? ALTER COLUMN ?? TYPE ${type} COLLATE "C"`, [table, 'name']);
    },
  },
  // Fn's columns take the database's default collation, case-insensitive and padding ('a' = 'A',
  // 'x' = 'x '), which ids, names, types and sources would be matched and ordered by. Kiln's own
  // MySQL tables are utf8mb4 in a binary no-pad collation; Fn's key columns get the same, with
  // their types and nullability restated as they are. Every DDL statement commits on its own.
  mysql2: {
    preflight: async (knex) => {
      const problems: string[] = [];
      const tables = (await knex('information_schema.TABLES')
        .select({ name: 'TABLE_NAME', engine: 'ENGINE', rowFormat: 'ROW_FORMAT' })
        .where({ TABLE_SCHEMA: knex.raw('DATABASE()') })
        .whereIn('TABLE_NAME', FN_TABLES)) as { name: string; engine: string | null; rowFormat: string | null }[];
      for (const t of tables) {
        // Kiln's deletes are transactions; MyISAM's keys also stop at 1000 bytes.
        if (String(t.engine).toLowerCase() !== 'innodb') problems.push(`${t.name} is stored by ${t.engine ?? 'no engine'}, not InnoDB`);
        // Kiln's keys take 1024 bytes a column (varchar(256) in utf8mb4); COMPACT and REDUNDANT
        // rows stop at 767 (e.g. a database made on MySQL 5.6).
        else if (!['dynamic', 'compressed'].includes(String(t.rowFormat).toLowerCase())) {
          problems.push(`${t.name} has row format ${t.rowFormat ?? 'unknown'}, whose index keys cannot hold Kiln's (ALTER TABLE ${t.name} ROW_FORMAT=DYNAMIC makes them fit)`);
        }
      }
      for (const table of FN_TABLES) {
        for (const c of await mysqlKeyColumns(knex, table)) {
          const fits = c.dataType.toLowerCase() === 'varchar' && Number(c.maxChars) <= MYSQL_KEY_CHARS;
          // MariaDB reports a nullable column without a default as 'NULL'; restating the type would drop a default.
          const noDefault = c.default === null || c.default === 'NULL';
          if (!fits || !noDefault) problems.push(`${table}.${c.column} is ${c.columnType}${noDefault ? '' : ` DEFAULT ${c.default}`}, not Fn's varchar(256)`);
        }
      }
      // Fn's schema has none; a column a foreign key uses cannot change its character set.
      const fks = (await knex('information_schema.KEY_COLUMN_USAGE')
        .distinct({ name: 'CONSTRAINT_NAME', table: 'TABLE_NAME' })
        .where({ TABLE_SCHEMA: knex.raw('DATABASE()') })
        .whereNotNull('REFERENCED_TABLE_NAME')
        .andWhere((w) => w.whereIn('TABLE_NAME', FN_TABLES).orWhereIn('REFERENCED_TABLE_NAME', FN_TABLES))) as { name: string; table: string }[];
      for (const fk of fks) problems.push(`foreign key ${fk.name} on ${fk.table}, which Fn's schema does not have`);
      return problems;
    },
    // As the binary collation Kiln's unique index will compare it in (a latin1 column converts losslessly).
    exact: (knex, column, style) => knex.raw(`CONVERT(?? USING utf8mb4) COLLATE ${style.collation ?? 'utf8mb4_bin'}`, [column]),
    bytewise: async (knex, table, style) => {
      const columns = await mysqlKeyColumns(knex, table);
      if (columns.length !== KEY_COLUMNS[table].length) throw new Error(`adopting an Fn database: ${table} lacks a key column`);
      const modify = columns.map((c) =>
        `MODIFY ?? ${c.columnType} CHARACTER SET utf8mb4 COLLATE ${style.collation ?? 'utf8mb4_bin'} ${c.nullable === 'YES' ? 'NULL' : 'NOT NULL'}`);
      // One statement per table: MySQL rebuilds it once, and indexes on the columns stay.
      await knex.raw(`ALTER TABLE ?? ${modify.join(', ')}`, [table, ...columns.map((c) => c.column)]);
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
 * Whether `present` (the tables of Kiln's found) is what a first start killed during 0001_initial
 * leaves on MySQL, whose DDL commits statement by statement: knex's tables (the caller checked:
 * made before any migration runs, with none recorded) and no Fn bookkeeping; the first of
 * 0001's tables in its order and no other, each with exactly 0001's columns (CREATE TABLE is
 * one statement) and no rows (no node ever served). 0001 then finishes them (create-table-once.ts).
 */
async function interruptedFirstStart(knex: Knex, present: readonly string[]): Promise<boolean> {
  const order = Object.keys(KILN_COLUMNS) as (keyof typeof KILN_COLUMNS)[];
  const made = order.slice(0, present.length);
  if (present.length > order.length || !made.every((t) => present.includes(t))) return false;
  for (const table of made) {
    const columns = Object.keys(await knex(table).columnInfo()).sort();
    if (columns.join() !== [...KILN_COLUMNS[table]].sort().join()) return false;
    if (await knex(table).first(knex.raw('1 AS one'))) return false;
  }
  return true;
}

/**
 * What FN_DB_URL holds. Reads only; throws ForeignDatabaseError for anything Kiln will not open.
 * A database with unrelated tables (none named as Kiln's) counts as empty, as it always has.
 */
export async function inspectDatabase(knex: Knex): Promise<DatabaseKind> {
  // Knex makes its tables before it runs a migration, so a Kiln start that failed on this
  // database (as on an Fn database before Kiln could adopt one) leaves them empty.
  const knexStarted = await knex.schema.hasTable('knex_migrations');
  if (knexStarted) {
    const done = (await knex('knex_migrations').count({ n: '*' }).first()) as { n: number | string } | undefined;
    if (Number(done?.n ?? 0) > 0) return 'kiln';
  }
  const has = async (t: string) => ((await knex.schema.hasTable(t)) ? [t] : []);
  const present = (await Promise.all([...FN_TABLES, ...KILN_ONLY_TABLES].map(has))).flat();
  if (present.length === 0) return 'empty';
  const fnStarted = await knex.schema.hasTable('schema_migrations');
  if (knexStarted && !fnStarted && (await interruptedFirstStart(knex, present))) return 'kiln';
  if (!fnStarted) {
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

  // Fn's final schema has none of these; the adoption adds them in one transaction (on MySQL,
  // fns.format first), so finding them without Kiln's record means an adoption that stopped
  // part-way on MySQL, whose DDL commits on its own, or tables of the same names made by something else.
  const kilnParts = [
    ...((await knex.schema.hasColumn('fns', 'format')) ? ['fns.format'] : []),
    ...present.filter((t) => (KILN_ONLY_TABLES as readonly string[]).includes(t)),
  ];
  if (kilnParts.length > 0) {
    throw new ForeignDatabaseError('half-adopted',
      `FN_DB_URL is an Fn database that already has ${list(kilnParts)}, which Fn's schema lacks, but no record ` +
      `of Kiln's migrations: a Kiln adoption stopped part-way or something else added them; restore the ` +
      `database from a backup or remove them (and Kiln's indexes on triggers, ${list(TRIGGER_INDEXES)}, where present)`);
  }

  const dialect = dialectOf(knex);
  const style = await tableStyle(knex);
  const problems = await dialect.preflight(knex, style);
  if (problems.length > 0) {
    throw new ForeignDatabaseError('fn-schema',
      `FN_DB_URL is an Fn database whose tables Kiln cannot add its indexes to: ${problems.join('; ')}`);
  }

  // Kiln keeps Fn's rule that a (type, source) pair is unique per app with an index; Fn checks
  // it on insert only, so an update through Fn can have left a pair twice. Pairs are compared as
  // the index will compare them: on MySQL, '/a' and '/A' are one pair to Fn but two to Kiln.
  const pair = [dialect.exact(knex, 'app_id', style), dialect.exact(knex, 'type', style), dialect.exact(knex, 'source', style)];
  const dups = (await knex('triggers')
    .select(knex.raw('? AS app_id, ? AS type, ? AS source', pair))
    .groupByRaw('?, ?, ?', pair)
    .havingRaw('count(*) > ?', [1])
    .limit(5)) as { app_id: string; type: string; source: string }[];
  if (dups.length > 0) {
    throw new ForeignDatabaseError('fn-data',
      `FN_DB_URL is an Fn database with more than one trigger on the same app, type and source ` +
      `(${dups.map((d) => `app ${d.app_id} ${d.type} ${d.source}`).join('; ')}); delete the extra ones with Fn first`);
  }
  return 'fn';
}

/**
 * Fn's final schema brought to what 0001_initial leaves, by additions only, so an Fn server can
 * still use the database: Fn names its columns in every statement, and ignores the rest.
 */
async function adoptFnSchema(knex: Knex): Promise<void> {
  const dialect = dialectOf(knex);
  const style = await tableStyle(knex);
  // First, so that any adoption that stopped part-way is recognisable by it.
  // The default is what every Fn fn runs as (Fn's current server runs all over http-stream),
  // and it lets Fn's own inserts, which do not name the column, go on working.
  await knex.schema.alterTable('fns', (t) => {
    const format = t.string('format', 32).notNullable().defaultTo('http-stream');
    if (style.collation) format.collate(style.collation);
  });
  for (const table of FN_TABLES) await dialect.bytewise(knex, table, style);
  // Fn's DDL has the (app_id, fn_id, name) uniques and none of these; the names are knex's
  // defaults, as on Kiln's own triggers table, so later migrations can name them on both.
  await knex.schema.alterTable('triggers', (t) => {
    t.unique(['app_id', 'type', 'source'], { indexName: TRIGGER_INDEXES[0] });
    t.index(['app_id', 'name', 'id'], TRIGGER_INDEXES[1]);
    t.index(['fn_id'], TRIGGER_INDEXES[2]);
  });
  // Fn's calls and logs tables were dropped by its migrations 23 and 24; a database where
  // tables of those names remain is refused above, never merged.
  await createCallTables(knex, style);
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
