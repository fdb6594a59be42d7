// The Store over knex: one implementation for SQLite, PostgreSQL and MySQL/MariaDB.
import type { Knex } from 'knex';
import { callWriteError, isForeignKeyViolation, isUniqueViolation, longestIndexed, tooLongValue, unencodableColumn } from './db-errors.js';
import { ConflictError, NotFoundError, UnstorableValueError } from './errors.js';
import { SqliteWrites } from './sqlite-busy.js';
import { retryDeadlocks } from './deadlock-retry.js';
import { SqliteCallWriter, type CallRow } from './sqlite-call-writer.js';
import { idRangeOf } from './call-ids.js';
import { wellFormed } from './well-formed.js';
import {
  DEFAULT_APP_SHAPE, type App, type Call, type CallQuery, type CallStatus, type Change, type Fn, type FnFormat, type Page,
  type PageQuery, type Store, type Trigger,
} from './types.js';

type Row = Record<string, unknown>;

const str = (v: unknown): string => String(v);
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;

// Rows an Fn server wrote (an adopted Fn database, store/fn-database.ts) are read as they are:

/**
 * Config and annotations: Fn writes an empty map as '' and others with a trailing newline; an
 * older Kiln may have stored lone surrogates, read as U+FFFD (well-formed.ts).
 */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
function jsonObject<T extends object>(v: unknown): T {
  const s = v === null || v === undefined ? '' : String(v);
  const parsed = ((s.trim() === '' ? undefined : JSON.parse(s)) ?? {}) as T;
  // JSON.stringify writes a lone surrogate as an escape (a pair as the character): most rows need no walk.
  return LONE_SURROGATE_ESCAPE.test(s) ? wellFormed(parsed) : parsed;
}

const KILN_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;
/** What Fn answers for a timestamp it never stored (apps made before its migration 5). */
const ZERO_TIME = '0001-01-01T00:00:00.000Z';

/**
 * Timestamps as Kiln writes them (RFC 3339, ms, UTC). Fn writes RFC 3339 with ms in the server's
 * zone, so an Fn not running in UTC stored offsets; anything else is left as found.
 */
function timestamp(v: unknown): string {
  if (v === null || v === undefined || v === '') return ZERO_TIME;
  const s = String(v);
  if (KILN_TIME.test(s) || !RFC3339.test(s)) return s;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? s : new Date(ms).toISOString();
}

function toApp(r: Row): App {
  const app: App = {
    id: str(r.id), name: str(r.name), config: jsonObject(r.config), annotations: jsonObject(r.annotations),
    // Apps stored before Kiln set a default shape have none (Fn's migration 25 left ''); Fn
    // would have given them this one.
    shape: optStr(r.shape) || DEFAULT_APP_SHAPE,
    created_at: timestamp(r.created_at), updated_at: timestamp(r.updated_at),
  };
  const syslog = optStr(r.syslog_url);
  if (syslog) app.syslog_url = syslog;
  return app;
}

function fromApp(a: App): Row {
  return {
    id: a.id, name: a.name, config: JSON.stringify(a.config), annotations: JSON.stringify(a.annotations),
    syslog_url: a.syslog_url ?? null, shape: a.shape, created_at: a.created_at, updated_at: a.updated_at,
  };
}

function toFn(r: Row): Fn {
  return {
    id: str(r.id), name: str(r.name), app_id: str(r.app_id), image: str(r.image),
    memory: Number(r.memory), timeout: Number(r.timeout), idle_timeout: Number(r.idle_timeout),
    format: str(r.format) as FnFormat, config: jsonObject(r.config), annotations: jsonObject(r.annotations),
    created_at: timestamp(r.created_at), updated_at: timestamp(r.updated_at),
  };
}

function fromFn(f: Fn): Row {
  return { ...f, config: JSON.stringify(f.config), annotations: JSON.stringify(f.annotations) };
}

function toTrigger(r: Row): Trigger {
  return {
    id: str(r.id), name: str(r.name), app_id: str(r.app_id), fn_id: str(r.fn_id), type: str(r.type),
    source: str(r.source), annotations: jsonObject(r.annotations),
    created_at: timestamp(r.created_at), updated_at: timestamp(r.updated_at),
  };
}

function fromTrigger(t: Trigger): Row {
  return { ...t, annotations: JSON.stringify(t.annotations) };
}

function toCall(r: Row): Call {
  const call: Call = {
    id: str(r.id), app_id: str(r.app_id), fn_id: str(r.fn_id), status: str(r.status) as CallStatus,
    created_at: str(r.created_at), stats: json(r.stats),
  };
  for (const k of ['trigger_id', 'started_at', 'completed_at', 'error'] as const) {
    const v = optStr(r[k]);
    if (v !== undefined) call[k] = v;
  }
  return call;
}

/**
 * A function's own output (its log, an error it reported) as every backend stores it: NUL
 * and a lone UTF-16 surrogate become U+FFFD. PostgreSQL's text cannot hold NUL, and one such
 * call would roll back the whole batch of calls written with it; a lone surrogate is no
 * character, which better-sqlite3 wrote as its CESU-8 bytes (read back as three U+FFFD) and
 * pg and mysql2 as one U+FFFD.
 */
const storableText = (s: string): string =>
  (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s).toWellFormed();

function fromCall(c: Call): CallRow {
  return {
    id: c.id, app_id: c.app_id, fn_id: c.fn_id, trigger_id: c.trigger_id ?? null, status: c.status,
    created_at: c.created_at, started_at: c.started_at ?? null, completed_at: c.completed_at ?? null,
    error: c.error === undefined ? null : storableText(c.error), stats: JSON.stringify(c.stats),
  };
}

/**
 * Rows in groups of at most `maxRows` and, past the first row, about `maxBytes` of text: MySQL
 * takes a statement of at most max_allowed_packet (16 MiB by default on MariaDB), and call logs
 * run to FN_MAX_LOG_SIZE_BYTES each.
 */
function* chunks<T>(rows: readonly T[], maxRows: number, maxBytes: number, bytes: (row: T) => number): Generator<T[]> {
  let chunk: T[] = [];
  let size = 0;
  for (const row of rows) {
    const n = bytes(row);
    if (chunk.length > 0 && (chunk.length >= maxRows || size + n > maxBytes)) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += n;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Text per batched statement (past its first row). Escaping can double it, so a statement stays
 * under 2 MiB, or twice one call's log when that is larger: MySQL 5.7's 4 MiB max_allowed_packet holds it.
 */
const STATEMENT_BYTES = 1024 * 1024;
const textBytes = (...values: (string | null)[]): number =>
  values.reduce((sum, v) => sum + (v === null ? 0 : Buffer.byteLength(v)), 0);

type StoredEntity = 'app' | 'fn' | 'trigger';
const ENTITY_NAMES: Record<StoredEntity, string> = { app: 'App', fn: 'Fn', trigger: 'Trigger' };

/** Keys separate name and id with NUL, which no valid name contains. */
const KEY_SEP = '\u0000';

/**
 * Keyset pagination ordered by (name, id). Where names are unique within the filter the key is
 * the name alone (as Fn's cursors are); otherwise it is name NUL id so equal names page correctly.
 */
async function pageByName<T extends { name: string; id: string }>(
  q: Knex.QueryBuilder, page: PageQuery, namesUnique: boolean, map: (r: Row) => T,
): Promise<Page<T>> {
  if (page.after !== undefined) {
    const sep = page.after.indexOf(KEY_SEP);
    if (sep < 0) q.where('name', '>', page.after);
    else {
      const name = page.after.slice(0, sep);
      const id = page.after.slice(sep + 1);
      q.where((w) => w.where('name', '>', name).orWhere((e) => e.where('name', name).andWhere('id', '>', id)));
    }
  }
  const rows = (await q.orderBy([{ column: 'name' }, { column: 'id' }]).limit(page.perPage)) as Row[];
  const items = rows.map(map);
  const lastItem = items.length === page.perPage ? items[items.length - 1] : undefined;
  const page_: Page<T> = { items };
  if (lastItem) page_.last = namesUnique ? lastItem.name : lastItem.name + KEY_SEP + lastItem.id;
  return page_;
}

const MYSQL_CLIENTS: ReadonlySet<string> = new Set(['mysql2', 'mysql']);

/**
 * Whether the server would refuse this session's writes, per knex client, as `ro`: PostgreSQL's
 * transaction_read_only (on for a hot standby and under default_transaction_read_only); MySQL's
 * and MariaDB's global read_only (which a user with SUPER or READ ONLY ADMIN may write past) or
 * innodb_read_only. SQLite: a file Kiln could not write would not have opened.
 */
const READ_ONLY_SQL: Record<string, string> = {
  pg: "SELECT current_setting('transaction_read_only') = 'on' AS ro",
  mysql2: 'SELECT @@global.read_only OR @@global.innodb_read_only AS ro',
};

export class SqlStore implements Store {
  /** SQLite only: writes retried, off the event loop, while another process holds the lock. */
  private readonly sqliteWrites: SqliteWrites | undefined;
  private readonly sqliteCalls: SqliteCallWriter | undefined;
  /** Whether fns has Fn's shape column (an adopted Fn database); asked once. */
  private fnShape: Promise<boolean> | undefined;

  constructor(private readonly db: Knex) {
    this.sqliteWrites = SqliteCallWriter.supports(db) ? new SqliteWrites() : undefined;
    this.sqliteCalls = this.sqliteWrites && new SqliteCallWriter(db, this.sqliteWrites);
  }

  /**
   * `op`, one write statement or one transaction, run as a whole: on SQLite retried while the
   * database is locked (store/sqlite-busy.ts). PostgreSQL and MySQL wait on their own locks, and
   * a run the server rolled back to break a deadlock runs again (store/deadlock-retry.ts).
   */
  private write<T>(op: () => PromiseLike<T>): Promise<T> {
    return this.sqliteWrites ? this.sqliteWrites.run(op) : retryDeadlocks(op);
  }

  async ping(): Promise<'ok' | 'read-only'> {
    // A table, not `select 1`: a database that answers but holds Kiln's tables locked is not ready either.
    await this.db('apps').select('id').limit(1);
    const sql = READ_ONLY_SQL[String(this.db.client.config.client)];
    if (sql === undefined) return 'ok';
    const result = (await this.db.raw(sql)) as { rows?: { ro?: unknown }[] } | [{ ro?: unknown }[]];
    const row = Array.isArray(result) ? result[0][0] : result.rows?.[0];
    return row?.ro === true || Number(row?.ro) === 1 ? 'read-only' : 'ok';
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  private hasFnShape(): Promise<boolean> {
    this.fnShape ??= this.db.schema.hasColumn('fns', 'shape').catch((err: unknown) => {
      this.fnShape = undefined; // asked again next time
      throw err;
    });
    return this.fnShape;
  }

  /**
   * An UnstorableValueError for `err` when it is a value its column cannot hold, else undefined.
   * The API bounds few lengths, and databases bound some columns: an adopted Fn database's
   * varchar(256) (PostgreSQL, MySQL) and latin1 columns (MySQL), Kiln's own triggers.source on
   * MySQL, MySQL's 64 KiB TEXT, PostgreSQL's b-tree row limit on a unique index (triggers.source).
   */
  private async unstorable(entity: StoredEntity, table: string, row: Row, err: unknown): Promise<UnstorableValueError | undefined> {
    const name = ENTITY_NAMES[entity];
    const unencodable = unencodableColumn(err);
    if (unencodable !== undefined) {
      return new UnstorableValueError(entity, `${name} ${unencodable ?? 'value'} has characters this database's column cannot store`);
    }
    const found = tooLongValue(err);
    if (!found) return undefined;
    const column = found.column ?? (found.index !== undefined ? longestIndexed(row, found.index) : await this.overlongColumn(table, row, found.maxLength));
    return new UnstorableValueError(entity, column === undefined
      ? `${name} has a value too long for this database`
      : `${name} ${column} is too long for this database`);
  }

  /** Which of the values written is longer than its column holds (PostgreSQL names no column). */
  private async overlongColumn(table: string, row: Row, maxLength: number | undefined): Promise<string | undefined> {
    let info: Record<string, Knex.ColumnInfo>;
    try {
      info = (await this.db(table).columnInfo()) as Record<string, Knex.ColumnInfo>;
    } catch {
      return undefined; // the answer is still a 400; it just names no column
    }
    for (const [column, value] of Object.entries(row)) {
      const max = Number(info[column]?.maxLength);
      if (typeof value !== 'string' || !(max > 0) || (maxLength !== undefined && max !== maxLength)) continue;
      // Both count characters (code points), not UTF-16 units or bytes.
      if ([...value].length > max) return column;
    }
    return undefined;
  }

  /**
   * The NotFoundError for a write whose parent row went between the API's check and the write
   * (a delete racing it: a foreign-key violation), named as Fn's datastore names it, the app
   * first, then the fn; undefined for any other error, or if both are there after all.
   */
  private async missingParent(err: unknown, appId: string, fnId?: string): Promise<NotFoundError | undefined> {
    if (!isForeignKeyViolation(err)) return undefined;
    if (!(await this.db('apps').first('id').where({ id: appId }))) return new NotFoundError('app', 'App not found');
    if (fnId !== undefined && !(await this.db('fns').first('id').where({ id: fnId }))) return new NotFoundError('fn', 'Fn not found');
    return undefined;
  }

  /**
   * Reads row `id`, applies `change` and writes the result, in one transaction holding the row
   * from the read to the commit, so a concurrent update waits and then sees this one. PostgreSQL
   * and MySQL lock the row (SELECT ... FOR UPDATE). SQLite has no row locks and knex begins
   * deferred: a write that changes nothing, first, takes the database's write lock as BEGIN
   * IMMEDIATE would, so no other connection or process writes between the read and the commit
   * (a busy database reruns the whole transaction, change included: sqlite-busy.ts).
   * A failed write of the row goes to `writeError` once the transaction is over (it may query);
   * a missing row and `change`'s own errors are thrown as they are. `lockFirst` takes, on
   * PostgreSQL and MySQL, the locks a concurrent delete takes before the row's (deadlocks otherwise).
   */
  private async updateRow<T>(
    table: 'apps' | 'fns' | 'triggers', id: string, missing: NotFoundError,
    codec: { read: (r: Row) => T; write: (t: T) => Row }, change: Change<T>,
    writeError: (next: T, row: Row, err: unknown) => Promise<never>,
    lockFirst?: (tx: Knex.Transaction) => Promise<void>,
  ): Promise<T> {
    let writing: { next: T; row: Row } | undefined;
    try {
      return await this.write(() => this.db.transaction(async (tx) => {
        writing = undefined;
        if (this.sqliteWrites) await tx(table).where({ id }).update({ updated_at: tx.ref('updated_at') });
        else await lockFirst?.(tx);
        const current = (await tx(table).where({ id }).first().forUpdate()) as Row | undefined;
        if (!current) throw missing;
        const next = change(codec.read(current));
        const { id: _id, ...row } = codec.write(next);
        writing = { next, row };
        await tx(table).where({ id }).update(row);
        writing = undefined;
        return next;
      }));
    } catch (err) {
      if (writing === undefined) throw err;
      return writeError(writing.next, writing.row, err);
    }
  }

  private async one(table: string, where: Row, entity: 'app' | 'fn' | 'trigger', message: string): Promise<Row> {
    const row = (await this.db(table).where(where).first()) as Row | undefined;
    if (!row) throw new NotFoundError(entity, message);
    return row;
  }

  // Apps

  async insertApp(app: App): Promise<void> {
    const row = fromApp(app);
    try {
      await this.write(() => this.db('apps').insert(row));
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('app', 'App already exists');
      throw (await this.unstorable('app', 'apps', row, err)) ?? err;
    }
  }

  updateApp(id: string, change: Change<App>): Promise<App> {
    return this.updateRow('apps', id, new NotFoundError('app', 'App not found'), { read: toApp, write: fromApp }, change,
      async (_app, row, err) => {
        throw (await this.unstorable('app', 'apps', row, err)) ?? err;
      });
  }

  async getApp(id: string): Promise<App> {
    return toApp(await this.one('apps', { id }, 'app', 'App not found'));
  }

  async getAppByName(name: string): Promise<App> {
    return toApp(await this.one('apps', { name }, 'app', 'App not found'));
  }

  async deleteApp(id: string): Promise<void> {
    // Explicit deletes rather than relying on ON DELETE CASCADE, which SQLite only honours
    // with foreign_keys on and which a database created elsewhere may lack.
    await this.write(() => this.db.transaction(async (tx) => {
      const n = await tx('apps').where({ id }).delete();
      if (n === 0) throw new NotFoundError('app', 'App not found');
      await tx('triggers').where({ app_id: id }).delete();
      await tx('fns').where({ app_id: id }).delete();
    }));
  }

  async listApps(q: PageQuery & { name?: string }): Promise<Page<App>> {
    const qb = this.db('apps').select('*');
    if (q.name !== undefined) qb.where({ name: q.name });
    return pageByName(qb, q, true, toApp);
  }

  // Fns

  async insertFn(fn: Fn): Promise<void> {
    const row = fromFn(fn);
    // Fn reads a fn's shape into a string, so it could not read one Kiln left NULL; Kiln copies
    // the app's, as Fn's InsertFn does. Kiln's own fns table has no such column.
    if (await this.hasFnShape()) {
      const app = (await this.db('apps').first('shape').where({ id: fn.app_id })) as Row | undefined;
      // Fn's tables have no foreign keys: this is the only check past the API's.
      if (!app) throw new NotFoundError('app', 'App not found');
      row.shape = optStr(app.shape) ?? '';
    }
    try {
      await this.write(() => this.db('fns').insert(row));
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('fn', 'Fn with specified name already exists');
      throw (await this.missingParent(err, fn.app_id)) ?? (await this.unstorable('fn', 'fns', row, err)) ?? err;
    }
  }

  updateFn(id: string, change: Change<Fn>): Promise<Fn> {
    return this.updateRow('fns', id, new NotFoundError('fn', 'Fn not found'), { read: toFn, write: fromFn }, change,
      async (fn, row, err) => {
        if (isUniqueViolation(err)) throw new ConflictError('fn', 'Fn with specified name already exists');
        throw (await this.missingParent(err, fn.app_id)) ?? (await this.unstorable('fn', 'fns', row, err)) ?? err;
      });
  }

  async getFn(id: string): Promise<Fn> {
    return toFn(await this.one('fns', { id }, 'fn', 'Fn not found'));
  }

  async deleteFn(id: string): Promise<void> {
    await this.write(() => this.db.transaction(async (tx) => {
      const n = await tx('fns').where({ id }).delete();
      if (n === 0) throw new NotFoundError('fn', 'Fn not found');
      await tx('triggers').where({ fn_id: id }).delete();
    }));
  }

  async listFns(q: PageQuery & { appId?: string; name?: string }): Promise<Page<Fn>> {
    const qb = this.db('fns').select('*');
    if (q.appId !== undefined) qb.where({ app_id: q.appId });
    if (q.name !== undefined) qb.where({ name: q.name });
    return pageByName(qb, q, q.appId !== undefined, toFn);
  }

  // Triggers

  /** A trigger's failed write as a typed error: a duplicate, its app or fn gone, a value too long. */
  private async triggerWriteError(t: Trigger, row: Row, err: unknown): Promise<never> {
    if (!isUniqueViolation(err)) {
      throw (await this.missingParent(err, t.app_id, t.fn_id)) ?? (await this.unstorable('trigger', 'triggers', row, err)) ?? err;
    }
    const sameSource = await this.db('triggers')
      .where({ app_id: t.app_id, type: t.type, source: t.source })
      .whereNot({ id: t.id })
      .first();
    throw new ConflictError(
      'trigger',
      sameSource ? 'Trigger with the same type and source exists on this app' : 'Trigger already exists',
    );
  }

  async insertTrigger(t: Trigger): Promise<void> {
    const row = fromTrigger(t);
    try {
      await this.write(() => this.db('triggers').insert(row));
    } catch (err) {
      await this.triggerWriteError(t, row, err);
    }
  }

  updateTrigger(id: string, change: Change<Trigger>): Promise<Trigger> {
    return this.updateRow('triggers', id, new NotFoundError('trigger', 'Trigger not found'),
      { read: toTrigger, write: fromTrigger }, change, (t, row, err) => this.triggerWriteError(t, row, err),
      // Deleting a fn locks it, then (ON DELETE CASCADE, or deleteFn's own delete) its triggers;
      // moving a trigger off it locked them the other way round, a deadlock on MySQL. The trigger's
      // fn as last committed is locked first here, shared: the move waits for the delete, or the delete for it.
      async (tx) => {
        const current = (await tx('triggers').where({ id }).first('fn_id')) as Row | undefined;
        if (current) await tx('fns').where({ id: str(current.fn_id) }).forShare().first('id');
      });
  }

  async getTrigger(id: string): Promise<Trigger> {
    return toTrigger(await this.one('triggers', { id }, 'trigger', 'Trigger not found'));
  }

  async getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger> {
    return toTrigger(await this.one('triggers', { app_id: appId, type, source }, 'trigger', 'Trigger not found'));
  }

  async deleteTrigger(id: string): Promise<void> {
    const n = await this.write(() => this.db('triggers').where({ id }).delete());
    if (n === 0) throw new NotFoundError('trigger', 'Trigger not found');
  }

  async listTriggers(q: PageQuery & { appId: string; fnId?: string; name?: string }): Promise<Page<Trigger>> {
    const qb = this.db('triggers').select('*').where({ app_id: q.appId });
    if (q.fnId !== undefined) qb.where({ fn_id: q.fnId });
    if (q.name !== undefined) qb.where({ name: q.name });
    return pageByName(qb, q, q.fnId !== undefined, toTrigger);
  }

  // Calls

  async insertCall(call: Call): Promise<void> {
    await this.write(() => this.db('calls').insert(fromCall(call)));
  }

  async insertCalls(records: readonly { call: Call; log: string }[], opts: { again?: boolean } = {}): Promise<void> {
    // The call recorder decides by the error's type whether to hold the calls (callWriteError).
    try {
      await this.writeCalls(records, opts);
    } catch (err) {
      throw callWriteError(err);
    }
  }

  private async writeCalls(records: readonly { call: Call; log: string }[], opts: { again?: boolean }): Promise<void> {
    if (records.length === 0) return;
    const logs = records.filter((r) => r.log !== '').map((r) => ({ call_id: r.call.id, fn_id: r.call.fn_id, log: storableText(r.log) }));
    if (this.sqliteCalls && !opts.again) return this.sqliteCalls.write(records.map((r) => fromCall(r.call)), logs);
    const calls = records.map((r) => fromCall(r.call));
    // Written again: a call stored by the first try is kept as it is. MySQL's INSERT IGNORE would
    // also turn a value its column cannot hold into a warning and a cut value, so there a no-op update.
    const insert = (tx: Knex.Transaction, chunk: CallRow[]) => {
      const q = tx('calls').insert(chunk);
      if (!opts.again) return q;
      return MYSQL_CLIENTS.has(String(this.db.client.config.client)) ? q.onConflict('id').merge(['id']) : q.onConflict('id').ignore();
    };
    await this.write(() => this.db.transaction(async (tx) => {
      // Chunks keep each statement under bound-variable limits and MySQL's packet size.
      for (const chunk of chunks(calls, 100, STATEMENT_BYTES, (c) => textBytes(c.stats, c.error))) {
        await insert(tx, chunk);
      }
      for (const chunk of chunks(logs, 300, STATEMENT_BYTES, (l) => textBytes(l.log))) {
        await tx('call_logs').insert(chunk).onConflict('call_id').merge();
      }
    }));
  }

  async updateCall(call: Call): Promise<void> {
    const { id, ...rest } = fromCall(call);
    const n = await this.write(() => this.db('calls').where({ id }).update(rest));
    if (n === 0) throw new NotFoundError('call', 'Call not found');
  }

  async getCall(fnId: string, callId: string): Promise<Call> {
    const row = (await this.db('calls').where({ id: callId, fn_id: fnId }).first()) as Row | undefined;
    if (!row) throw new NotFoundError('call', 'Call not found');
    return toCall(row);
  }

  async listCalls(q: CallQuery): Promise<Page<Call>> {
    const qb = this.db('calls').select('*').where({ fn_id: q.fnId });
    if (q.after !== undefined) qb.where('id', '<', q.after);
    // created_at is fixed-width RFC 3339 text on every backend, so text order is time order. The
    // id range around it is what the (fn_id, id) index can seek by (store/call-ids.ts).
    if (q.createdAfter !== undefined) qb.where('created_at', '>', q.createdAfter);
    if (q.createdBefore !== undefined) qb.where('created_at', '<', q.createdBefore);
    const { idFrom, idBefore } = idRangeOf(q.createdAfter, q.createdBefore);
    if (idFrom !== undefined) qb.where('id', '>=', idFrom);
    if (idBefore !== undefined) qb.where('id', '<', idBefore);
    const rows = (await qb.orderBy('id', 'desc').limit(q.perPage)) as Row[];
    const items = rows.map(toCall);
    const page: Page<Call> = { items };
    if (items.length === q.perPage) page.last = items[items.length - 1]?.id;
    return page;
  }

  async insertLog(fnId: string, callId: string, log: string): Promise<void> {
    try {
      await this.write(() => this.db('call_logs').insert({ call_id: callId, fn_id: fnId, log: storableText(log) }).onConflict('call_id').merge());
    } catch (err) {
      throw callWriteError(err);
    }
  }

  async deleteCallsBefore(bound: string, limit: number): Promise<number> {
    // Ids first, then a delete by them: PostgreSQL has no DELETE ... LIMIT, and MySQL no LIMIT
    // in an IN subquery. Logs go by their own key, so a log stored after its call went goes too.
    return this.write(() => this.db.transaction(async (tx) => {
      const logIds = (await tx('call_logs').where('call_id', '<', bound).orderBy('call_id').limit(limit).pluck('call_id')) as string[];
      const callIds = (await tx('calls').where('id', '<', bound).orderBy('id').limit(limit).pluck('id')) as string[];
      const logs = logIds.length > 0 ? await tx('call_logs').whereIn('call_id', logIds).delete() : 0;
      const calls = callIds.length > 0 ? await tx('calls').whereIn('id', callIds).delete() : 0;
      return logs + calls;
    }));
  }

  async getLog(fnId: string, callId: string): Promise<string> {
    const row = (await this.db('call_logs').where({ call_id: callId, fn_id: fnId }).first()) as Row | undefined;
    if (row) return str(row.log);
    // A call that wrote nothing has an empty log; an unknown call is still a 404.
    await this.getCall(fnId, callId);
    return '';
  }
}
