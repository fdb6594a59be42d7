// Apps, fns, triggers as Fn stores them, plus the calls and call logs Fn dropped.
// Timestamps are fixed-width RFC 3339 text (ms, UTC): identical on every backend and they sort.
import type { Knex } from 'knex';

export const name = '0001_initial';

export async function up(knex: Knex): Promise<void> {
  // Lists are ordered and paged by name; PostgreSQL's locale collation would order them
  // differently from SQLite, so names compare bytewise everywhere.
  const nameType = knex.client.config.client === 'pg' ? 'varchar(255) collate "C"' : 'varchar(255)';

  await knex.schema.createTable('apps', (t) => {
    t.string('id', 26).primary();
    t.specificType('name', nameType).notNullable().unique();
    t.text('config').notNullable();
    t.text('annotations').notNullable();
    t.text('syslog_url');
    t.string('shape', 255);
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
  });

  await knex.schema.createTable('fns', (t) => {
    t.string('id', 26).primary();
    t.specificType('name', nameType).notNullable();
    t.string('app_id', 26).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.text('image').notNullable();
    t.integer('memory').notNullable();
    t.integer('timeout').notNullable();
    t.integer('idle_timeout').notNullable();
    t.string('format', 32).notNullable();
    t.text('config').notNullable();
    t.text('annotations').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    t.unique(['app_id', 'name']);
  });

  await knex.schema.createTable('triggers', (t) => {
    t.string('id', 26).primary();
    t.specificType('name', nameType).notNullable();
    t.string('app_id', 26).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.string('fn_id', 26).notNullable().references('id').inTable('fns').onDelete('CASCADE');
    t.string('type', 32).notNullable();
    t.text('source').notNullable();
    t.text('annotations').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    // As Fn: names are unique per fn; a (type, source) pair is unique per app.
    t.unique(['app_id', 'fn_id', 'name']);
    t.unique(['app_id', 'type', 'source']);
    // App-wide listing pages by (name, id).
    t.index(['app_id', 'name', 'id']);
    t.index(['fn_id']);
  });

  // No foreign keys: a call outlives its fn (deleting an app leaves its calls readable by id).
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
