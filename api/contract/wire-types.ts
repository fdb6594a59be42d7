// The shapes Kiln's HTTP API answers with, as its clients read them (cli/ and web/, which may
// use nothing of the server but its HTTP API and api/contract/). Types only: nothing of this exists at run time.
// The server's own model types are store/types.ts; test/types/wire-types.ts states how each of
// these relates to its store type, and `npm run typecheck` fails when they drift apart.

export interface App {
  id: string;
  name: string;
  config: Record<string, string>;
  annotations: Record<string, unknown>;
  syslog_url?: string;
  shape: string;
  created_at: string;
  updated_at: string;
}

export interface Fn {
  id: string;
  name: string;
  app_id: string;
  image: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  format: string;
  config: Record<string, string>;
  annotations: Record<string, unknown>;
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
  annotations: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface CallStat {
  timestamp: string;
  metrics: Record<string, number>;
}

export interface Call {
  id: string;
  app_id: string;
  fn_id: string;
  trigger_id?: string;
  status: string;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  error?: string;
  stats: CallStat[];
}

/** A list's page: `next_cursor` only when the page is full. */
export interface Page<T> {
  items: T[];
  next_cursor?: string;
}
