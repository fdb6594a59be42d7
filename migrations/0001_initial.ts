// Apps, fns, triggers as Fn stores them, plus the calls and call logs Fn dropped.
// Timestamps are fixed-width RFC 3339 text (ms, UTC): identical on every backend and they sort.
// Each table is made by createTableOnce: on MySQL a first start killed part-way leaves some of
// them (DDL commits as it runs), and the next start finishes them (store/fn-database.ts lets it).
import type { Knex } from 'knex';
import { createTableOnce } from './create-table-once.js';

export const name = '0001_initial';

/** Longest trigger source MySQL stores (the column is unbounded text on SQLite and PostgreSQL). */
export const MYSQL_SOURCE_LENGTH = 512;

/**
 * MySQL's and MariaDB's binary utf8mb4 collation that does not pad: 'a' and 'A' differ, text
 * orders bytewise (as SQLite's and PostgreSQL's "C"), and 'x ' differs from 'x' (utf8mb4_bin pads).
 */
export async function mysqlBinaryCollation(knex: Knex): Promise<string> {
  const rows = (await knex('information_schema.COLLATIONS')
    .select({ name: 'COLLATION_NAME' })
    .whereIn('COLLATION_NAME', ['utf8mb4_0900_bin', 'utf8mb4_nopad_bin'])) as { name: string }[];
  return rows[0]?.name ?? 'utf8mb4_bin';
}

export const isMysql = (knex: Knex): boolean => ['mysql2', 'mysql'].includes(String(knex.client.config.client));

/**
 * How Kiln's tables are made on this backend. Exported for store/fn-database.ts, whose adoption
 * of an Fn database makes the same calls and call_logs tables as this migration.
 */
export interface TableStyle {
  /** MySQL only: the binary collation every text column of Kiln's takes; undefined elsewhere. */
  collation: string | undefined;
  /** MySQL only: InnoDB (foreign keys, transactions), utf8mb4, the binary collation. */
  table(t: Knex.CreateTableBuilder): void;
  /** Unbounded text: MySQL's TEXT holds only 64 KiB, so LONGTEXT there; TEXT elsewhere. */
  text(t: Knex.CreateTableBuilder, column: string): Knex.ColumnBuilder;
}

export async function tableStyle(knex: Knex): Promise<TableStyle> {
  const collation = isMysql(knex) ? await mysqlBinaryCollation(knex) : undefined;
  return {
    collation,
    table: (t) => {
      if (!collation) return;
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate(collation);
    },
    text: (t, column) => (collation ? t.text(column, 'longtext') : t.text(column)),
  };
}

/** Calls and their logs. No foreign keys: a call outlives its fn (deleting an app leaves its calls readable by id). */
export async function createCallTables(knex: Knex, style: TableStyle): Promise<void> {
  await createTableOnce(knex, 'calls', (t) => {
    style.table(t);
    t.string('id', 26).primary();
    t.string('app_id', 26).notNullable();
    t.string('fn_id', 26).notNullable();
    t.string('trigger_id', 26);
    t.string('status', 16).notNullable();
    t.string('created_at', 24).notNullable();
    t.string('started_at', 24);
    t.string('completed_at', 24);
    style.text(t, 'error');
    style.text(t, 'stats').notNullable();
    t.index(['fn_id', 'id']);
  });

  await createTableOnce(knex, 'call_logs', (t) => {
    style.table(t);
    t.string('call_id', 26).primary();
    t.string('fn_id', 26).notNullable();
    style.text(t, 'log').notNullable();
  });
}

export async function up(knex: Knex): Promise<void> {
  const client = String(knex.client.config.client);
  const mysql = isMysql(knex);
  // Lists are ordered and paged by name; PostgreSQL's locale collation would order them
  // differently from SQLite, so names compare bytewise everywhere. On MySQL every text column
  // takes its table's binary collation (below), ids and trigger sources included.
  const nameType = client === 'pg' ? 'varchar(255) collate "C"' : 'varchar(255)';
  const style = await tableStyle(knex);
  const mysqlTable = style.table;
  const text = style.text;

  await createTableOnce(knex, 'apps', (t) => {
    mysqlTable(t);
    t.string('id', 26).primary();
    t.specificType('name', nameType).notNullable().unique();
    text(t, 'config').notNullable();
    text(t, 'annotations').notNullable();
    text(t, 'syslog_url');
    t.string('shape', 255);
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
  });

  await createTableOnce(knex, 'fns', (t) => {
    mysqlTable(t);
    t.string('id', 26).primary();
    t.specificType('name', nameType).notNullable();
    t.string('app_id', 26).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    text(t, 'image').notNullable();
    t.integer('memory').notNullable();
    t.integer('timeout').notNullable();
    t.integer('idle_timeout').notNullable();
    t.string('format', 32).notNullable();
    text(t, 'config').notNullable();
    text(t, 'annotations').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    t.unique(['app_id', 'name']);
  });

  await createTableOnce(knex, 'triggers', (t) => {
    mysqlTable(t);
    t.string('id', 26).primary();
    t.specificType('name', nameType).notNullable();
    t.string('app_id', 26).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.string('fn_id', 26).notNullable().references('id').inTable('fns').onDelete('CASCADE');
    t.string('type', 32).notNullable();
    // Part of a unique key, which MySQL builds only over bounded columns (3072 bytes in all).
    if (mysql) t.string('source', MYSQL_SOURCE_LENGTH).notNullable();
    else t.text('source').notNullable();
    text(t, 'annotations').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    // As Fn: names are unique per fn; a (type, source) pair is unique per app.
    t.unique(['app_id', 'fn_id', 'name']);
    t.unique(['app_id', 'type', 'source']);
    // App-wide listing pages by (name, id).
    t.index(['app_id', 'name', 'id']);
    t.index(['fn_id']);
  });

  await createCallTables(knex, style);
}
