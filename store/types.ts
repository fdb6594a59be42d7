// The store's data model and interfaces. The API and the agent depend on these, never on knex.

export type Config = Record<string, string>;
export type Annotations = Record<string, unknown>;

/** Fn's app shapes (the CPU architectures an app's images run on); the first is the default. */
export const APP_SHAPES = ['GENERIC_X86', 'GENERIC_ARM', 'GENERIC_X86_ARM'] as const;
export const DEFAULT_APP_SHAPE = APP_SHAPES[0];

export interface App {
  id: string;
  name: string;
  config: Config;
  annotations: Annotations;
  syslog_url?: string;
  /** Always set: Fn gives an app created without one GENERIC_X86. */
  shape: string;
  created_at: string;
  updated_at: string;
}

export const FN_FORMATS = ['http-stream', 'lambda'] as const;
export type FnFormat = (typeof FN_FORMATS)[number];

/**
 * Formats Fn has had (`default`, `http`, `json`, `cloudevent`), which the fn CLI still sends
 * from old func.yaml files. Fn's current server runs every fn over http-stream whatever this
 * says, so Kiln takes them as what actually runs.
 */
const LEGACY_FN_FORMATS = ['default', 'http', 'json', 'cloudevent'];

/** A format as given, Fn's legacy names mapped to http-stream; other names are left for validation. */
export function kilnFnFormat(raw: string): string {
  return LEGACY_FN_FORMATS.includes(raw) ? 'http-stream' : raw;
}

export interface Fn {
  id: string;
  name: string;
  app_id: string;
  image: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  format: FnFormat;
  config: Config;
  annotations: Annotations;
  created_at: string;
  updated_at: string;
}

export interface Trigger {
  id: string;
  name: string;
  app_id: string;
  fn_id: string;
  type: string;
  source: string;
  annotations: Annotations;
  created_at: string;
  updated_at: string;
}

export const CALL_STATUSES = ['queued', 'running', 'success', 'error', 'timeout', 'cancelled'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export interface CallStat {
  timestamp: string;
  metrics: Record<string, number>;
}

export interface Call {
  id: string;
  app_id: string;
  fn_id: string;
  trigger_id?: string;
  status: CallStatus;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  error?: string;
  stats: CallStat[];
}

/** One page of a list ordered by a key; `after` is the last key of the previous page. */
export interface PageQuery {
  perPage: number;
  after?: string;
}

/** A page of one fn's calls, optionally only those created in a time window. */
export interface CallQuery extends PageQuery {
  fnId: string;
  createdAfter?: string;
  createdBefore?: string;
}

export interface Page<T> {
  items: T[];
  /** Key of the last item when the page is full (there may be more), else undefined. */
  last?: string;
}

/**
 * What an update does to the row as stored: given it, returns the row to write (the same id), or
 * throws to leave it as it was. The store calls it with the row locked, inside the write's
 * transaction, so concurrent updates each see the ones before (no update is lost); it may be
 * called again if the database was busy, so it must be pure.
 */
export type Change<T> = (current: T) => T;

export interface AppStore {
  insertApp(app: App): Promise<void>;
  /** Applies `change` to the app as stored and writes the result, which it returns. */
  updateApp(id: string, change: Change<App>): Promise<App>;
  getApp(id: string): Promise<App>;
  getAppByName(name: string): Promise<App>;
  /** Deletes the app with its fns and triggers. */
  deleteApp(id: string): Promise<void>;
  listApps(q: PageQuery & { name?: string }): Promise<Page<App>>;
}

export interface FnStore {
  insertFn(fn: Fn): Promise<void>;
  /** Applies `change` to the fn as stored and writes the result, which it returns. */
  updateFn(id: string, change: Change<Fn>): Promise<Fn>;
  getFn(id: string): Promise<Fn>;
  /** Deletes the fn and its triggers. */
  deleteFn(id: string): Promise<void>;
  listFns(q: PageQuery & { appId?: string; name?: string }): Promise<Page<Fn>>;
}

export interface TriggerStore {
  insertTrigger(t: Trigger): Promise<void>;
  /** Applies `change` to the trigger as stored and writes the result, which it returns. */
  updateTrigger(id: string, change: Change<Trigger>): Promise<Trigger>;
  getTrigger(id: string): Promise<Trigger>;
  getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger>;
  deleteTrigger(id: string): Promise<void>;
  listTriggers(q: PageQuery & { appId: string; fnId?: string; name?: string }): Promise<Page<Trigger>>;
}

/**
 * insertCalls and insertLog fail with the store's typed errors (store/errors.ts; db-errors.ts's
 * callWriteError), which the call recorder reads by type alone: DatabaseTimeoutError or a
 * DatabaseUnavailableError other than DatabaseConnectionLostError, the database unavailable or full.
 */
export interface CallStore {
  insertCall(call: Call): Promise<void>;
  /**
   * Many finished calls with their logs ('' for none), in one transaction. `again`: the records
   * were written before by a write that failed without an answer (it may have committed), so a
   * call whose id is stored already is skipped rather than refusing the batch.
   */
  insertCalls(records: readonly { call: Call; log: string }[], opts?: { again?: boolean }): Promise<void>;
  updateCall(call: Call): Promise<void>;
  getCall(fnId: string, callId: string): Promise<Call>;
  /** Newest first; `after` is a call id; `createdAfter`/`createdBefore` (RFC 3339, as created_at) bound created_at, both strict. */
  listCalls(q: CallQuery): Promise<Page<Call>>;
  insertLog(fnId: string, callId: string, log: string): Promise<void>;
  getLog(fnId: string, callId: string): Promise<string>;
}

/** What pruning old calls needs (store/call-retention.ts). */
export interface CallPruning {
  /**
   * Deletes up to `limit` of the calls, and up to `limit` of the call logs, whose ids sort before
   * `bound`; returns how many rows went (calls and logs together), so 0 means nothing is left.
   */
  deleteCallsBefore(bound: string, limit: number): Promise<number>;
}

export interface Store extends AppStore, FnStore, TriggerStore, CallStore, CallPruning {
  /**
   * Reads one of Kiln's tables: resolves when the database answers such a read, else rejects;
   * to 'read-only' when it would refuse writes (a hot standby, a read-only server), else 'ok'.
   */
  ping(): Promise<'ok' | 'read-only'>;
  close(): Promise<void>;
}
