// The web view's client of Kiln's HTTP API (the only thing web/ may use, as cli/ does).
// Plain fetch, no DOM, so it runs in Node as well as in the page. A failure is an ApiError
// carrying the server's own `message`.
import type { App, Call, Fn, Page, Trigger } from '../api/contract/wire-types.js';

export type { App, Call, Fn, Page, Trigger } from '../api/contract/wire-types.js';

/** What an invoke answered, whatever its status. */
export interface InvokeReply {
  status: number;
  statusText: string;
  /** Header names in lower case, sorted. */
  headers: [string, string][];
  body: string;
  ms: number;
}

export const FN_ENDPOINT_ANNOTATION = 'fnproject.io/fn/invokeEndpoint';
export const TRIGGER_ENDPOINT_ANNOTATION = 'fnproject.io/trigger/httpEndpoint';

export class ApiError extends Error {
  /** 0 when the server was not reached. */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The `message` of Fn's error body, when the body is one. */
export function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const m = (body as { message?: unknown }).message;
  return typeof m === 'string' && m !== '' ? m : undefined;
}

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

const seg = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class Api {
  /** `base` is the server's URL, '' for the page's own origin. */
  constructor(
    private readonly base = '',
    // An arrow, so the page's fetch is called with the window as `this`.
    private readonly fetchFn: FetchFn = (input, init) => fetch(input, init),
    /** The bearer token to send, read at each request; none for a server without tokens. */
    private readonly token: () => string | undefined = () => undefined,
  ) {}

  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    const token = this.token();
    const headers = token ? { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } : init.headers;
    try {
      return await this.fetchFn(this.base + path, { ...init, ...(headers && { headers }) });
    } catch (err) {
      throw new ApiError(0, `The server could not be reached: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async get<T>(path: string): Promise<T> {
    const res = await this.send(path, { headers: { accept: 'application/json' } });
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) throw new ApiError(res.status, errorMessage(body) ?? (res.statusText || 'the server said no more'));
    if (body === undefined) throw new ApiError(res.status, `GET ${path} answered something that is not JSON`);
    return body as T;
  }

  /** Every page of a list, up to `max` items; `more` says whether it stopped short. */
  private async all<T>(path: string, params: Record<string, string>, max: number): Promise<{ items: T[]; more: boolean }> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.get<Page<T>>(path + query({ ...params, per_page: 100, cursor }));
      items.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) return { items, more: false };
      if (items.length >= max) return { items, more: true };
    }
  }

  version(): Promise<{ version: string }> {
    return this.get('/version');
  }

  listApps(cursor?: string, perPage?: number): Promise<Page<App>> {
    return this.get(`/v2/apps${query({ per_page: perPage, cursor })}`);
  }

  getApp(id: string): Promise<App> {
    return this.get(`/v2/apps/${seg(id)}`);
  }

  allFns(appId: string, max = 1000): Promise<{ items: Fn[]; more: boolean }> {
    return this.all('/v2/fns', { app_id: appId }, max);
  }

  allTriggers(appId: string, max = 1000): Promise<{ items: Trigger[]; more: boolean }> {
    return this.all('/v2/triggers', { app_id: appId }, max);
  }

  getFn(id: string): Promise<Fn> {
    return this.get(`/v2/fns/${seg(id)}`);
  }

  listCalls(fnId: string, cursor?: string, perPage?: number): Promise<Page<Call>> {
    return this.get(`/v2/fns/${seg(fnId)}/calls${query({ per_page: perPage, cursor })}`);
  }

  getCall(fnId: string, callId: string): Promise<Call> {
    return this.get(`/v2/fns/${seg(fnId)}/calls/${seg(callId)}`);
  }

  async getLog(fnId: string, callId: string): Promise<string> {
    const body = await this.get<{ log?: unknown }>(`/v2/fns/${seg(fnId)}/calls/${seg(callId)}/log`);
    return typeof body.log === 'string' ? body.log : '';
  }

  /**
   * POSTs `body` to the fn's invoke path on this server. The same origin rather than the
   * invokeEndpoint annotation, which FN_PUBLIC_LB_URL may point at another host the page
   * could not call.
   */
  async invoke(fnId: string, body: string, contentType: string): Promise<InvokeReply> {
    const started = Date.now();
    const res = await this.send(`/invoke/${seg(fnId)}`, {
      method: 'POST',
      headers: contentType ? { 'content-type': contentType } : {},
      body,
    });
    const text = await res.text();
    const headers: [string, string][] = [];
    res.headers.forEach((value, name) => headers.push([name.toLowerCase(), value]));
    headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { status: res.status, statusText: res.statusText, headers, body: text, ms: Date.now() - started };
  }
}
