// A typed client of Kiln's HTTP API (Fn's v2 REST API plus invoke, triggers and calls),
// on fetch. Failures become CliErrors that say what failed and what to do.
import type { App, Call, Fn, Page, Trigger } from '../api/contract/wire-types.js';
import { CliError } from './errors.js';

export type { App, Call, Fn, Trigger } from '../api/contract/wire-types.js';

/** A request's extras: body, headers, whether the token goes, and what the request is (for errors). */
export interface RawInit {
  body?: Buffer | string;
  headers?: Record<string, string>;
  withToken?: boolean;
  /** The request in words ("listing apps"); default METHOD PATH. */
  what?: string;
  /** A function's answer (invoke, trigger): the server's response size limit applies to it. */
  call?: boolean;
}

/** Methods that change something: one whose answer was cut short may have been applied. */
const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'];

export interface RawReply {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * What to do about an API answer of that status (and, for a 409, the server's message; for a
 * 503, its Retry-After).
 */
export function apiHint(status: number, url: string, message = '', retryAfter?: string | null): string | undefined {
  if (status === 401) {
    return `The server at ${url} wants a valid token: \`kiln context update --token TOKEN\` (or set FN_TOKEN).`;
  }
  // Not a token matter: Kiln's 403 is a server without tokens refusing the name it was asked by.
  if (status === 403) {
    return `The server at ${url} refused the request as its message says. A Kiln without tokens answers only to localhost, IP addresses and the names in its KILN_ALLOWED_HOSTS: use one of those in the API URL (\`kiln context update --api-url URL\`), or have the name added.`;
  }
  // A 409 is a taken name, a taken trigger source, or a name that cannot change: as the server says.
  if (status === 409 && /same type and source/i.test(message)) {
    return "The trigger's source is taken: another trigger of the app has it (`kiln list triggers APP` shows which); give another --source, or move that one first.";
  }
  if (status === 409 && /immutable/i.test(message)) return 'That name cannot be changed; create a new one under the new name instead.';
  if (status === 409) return 'The name is taken: pick another, or change the existing one with `kiln update ...`.';
  if (status === 400 || status === 413) return 'Check the values given (`kiln help COMMAND` lists the options and their ranges).';
  // A 503 is passing (a database outage, a full queue): the server says when to come back.
  if (status === 503) {
    const seconds = /^\d+$/.test(retryAfter ?? '') ? ` in ${retryAfter} s, as the server asks` : ' shortly';
    return `The server at ${url} cannot do this for now, as its message says: try again${seconds}. If it goes on, its log says why.`;
  }
  if (status >= 500) return `The server at ${url} failed; its log says why.`;
  return undefined;
}

/** An answer of the API other than 2xx; `message` is the server's. */
export class ApiError extends CliError {
  constructor(readonly status: number, readonly apiMessage: string, readonly what: string, hint?: string) {
    super(`${what}: ${apiMessage} (HTTP ${status})`, hint);
    this.name = 'ApiError';
  }
}

/** Which part of a list: at most `n` items (all when unset), starting at `cursor` (a page's `next_cursor`). */
export interface ListPage {
  n?: number;
  cursor?: string;
}

export interface ClientOptions {
  url: string;
  token?: string;
}

/** Why fetch failed, from its cause chain (ECONNREFUSED, ENOTFOUND, "bad port", ...). */
function networkReason(err: unknown): string {
  let e: unknown = err;
  let deepest = (err as Error).message;
  for (let i = 0; i < 5 && e; i++) {
    const x = e as { code?: string; message?: string; cause?: unknown };
    if (x.code) return `${x.code}${x.message ? ` (${x.message})` : ''}`;
    if (x.message) deepest = x.message;
    e = x.cause;
  }
  return deepest;
}

export class KilnClient {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
  }

  /**
   * Any request; answers whatever status came back (only a network failure throws). The
   * context's token goes with it unless `withToken` is false (a trigger: the function's own
   * door, which must never see Kiln's token).
   */
  async raw(
    method: string, path: string, init: RawInit = {},
  ): Promise<RawReply> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token && init.withToken !== false) headers.authorization ??= `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers,
        ...(init.body !== undefined && method !== 'GET' && method !== 'HEAD' && { body: typeof init.body === 'string' ? init.body : new Uint8Array(init.body) }),
        redirect: 'manual',
      });
    } catch (err) {
      throw new CliError(
        `Kiln server not reachable at ${this.url}: ${networkReason(err)}`,
        'Start one with `kiln start`, or point the CLI at yours: `kiln context create NAME --api-url URL` then `kiln context use NAME` (or set FN_API_URL).',
      );
    }
    return { status: res.status, headers: res.headers, body: await this.readBody(res, method, init.what ?? `${method} ${path}`, init.call === true) };
  }

  /**
   * The answer's body, whole; one that ends early is a CliError naming the request and saying
   * how much came. What came is not printed: it is not the answer, and a script would take it
   * for one. Only a call's answer is cut at the server's response size limit (a REST answer
   * cut short is a dropped connection), and a write's may have been applied all the same.
   */
  private async readBody(res: Response, method: string, what: string, call: boolean): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    let got = 0;
    try {
      for await (const chunk of res.body ?? []) {
        parts.push(chunk);
        got += chunk.byteLength;
      }
    } catch (err) {
      const callId = res.headers.get('fn-call-id');
      const why = call
        ? `${callId ? `Call ${callId}. ` : ''}A likely reason is the server's response size limit (FN_MAX_RESPONSE_SIZE): an answer that outgrows it while streaming is cut there.`
        : WRITES.includes(method)
          ? `The connection dropped mid-answer, after the server had taken the ${method}: it may have been applied. Check (\`kiln list ...\`, \`kiln inspect ...\`) before trying again.`
          : 'The connection dropped mid-answer (the server, or a proxy before it, stopped); try again.';
      throw new CliError(`${what}: the answer (HTTP ${res.status}) was cut short after ${got} bytes: ${networkReason(err)}`, `${why} Nothing was printed of it.`);
    }
    return Buffer.concat(parts);
  }

  private async json<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    const r = await this.raw(method, path, {
      what,
      headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = r.body.toString('utf8');
    if (r.status < 200 || r.status > 299) {
      const message = errorMessage(text);
      throw new ApiError(r.status, message, what, apiHint(r.status, this.url, message, r.headers.get('retry-after')));
    }
    if (r.status === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `${what}: the server at ${this.url} answered something that is not JSON`,
        'Is the URL a Kiln or Fn server? See `kiln context show`.',
      );
    }
  }

  /** The items of a paged list: all of them, or at most `page.n` from `page.cursor` on (fn's `-n` and `--cursor`). */
  private async all<T>(path: string, what: string, page: ListPage = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor = page.cursor;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const size = Math.min(100, page.n === undefined ? 100 : page.n - items.length);
      if (size <= 0) break;
      const got = await this.json<Page<T>>('GET', `${path}${sep}per_page=${size}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, what);
      items.push(...got.items);
      cursor = got.next_cursor;
    } while (cursor);
    return page.n === undefined ? items : items.slice(0, page.n);
  }

  version(): Promise<{ version: string }> {
    return this.json('GET', '/version', 'reading the server version');
  }

  listApps(name?: string, page?: ListPage): Promise<App[]> {
    return this.all(`/v2/apps${name ? `?name=${encodeURIComponent(name)}` : ''}`, 'listing apps', page);
  }
  createApp(body: Partial<App>): Promise<App> {
    return this.json('POST', '/v2/apps', `creating app "${body.name}"`, body);
  }
  updateApp(id: string, body: Partial<App>): Promise<App> {
    return this.json('PUT', `/v2/apps/${id}`, 'updating the app', body);
  }
  deleteApp(id: string): Promise<void> {
    return this.json('DELETE', `/v2/apps/${id}`, 'deleting the app');
  }

  listFns(appId: string, name?: string, page?: ListPage): Promise<Fn[]> {
    return this.all(`/v2/fns?app_id=${appId}${name ? `&name=${encodeURIComponent(name)}` : ''}`, 'listing functions', page);
  }
  createFn(body: Partial<Fn>): Promise<Fn> {
    return this.json('POST', '/v2/fns', `creating function "${body.name}"`, body);
  }
  updateFn(id: string, body: Partial<Fn>): Promise<Fn> {
    return this.json('PUT', `/v2/fns/${id}`, 'updating the function', body);
  }
  deleteFn(id: string): Promise<void> {
    return this.json('DELETE', `/v2/fns/${id}`, 'deleting the function');
  }

  listTriggers(appId: string, filter: { fnId?: string; name?: string } = {}, page?: ListPage): Promise<Trigger[]> {
    let q = `app_id=${appId}`;
    if (filter.fnId) q += `&fn_id=${filter.fnId}`;
    if (filter.name) q += `&name=${encodeURIComponent(filter.name)}`;
    return this.all(`/v2/triggers?${q}`, 'listing triggers', page);
  }
  createTrigger(body: Partial<Trigger>): Promise<Trigger> {
    return this.json('POST', '/v2/triggers', `creating trigger "${body.name}"`, body);
  }
  updateTrigger(id: string, body: Partial<Trigger>): Promise<Trigger> {
    return this.json('PUT', `/v2/triggers/${id}`, 'updating the trigger', body);
  }
  deleteTrigger(id: string): Promise<void> {
    return this.json('DELETE', `/v2/triggers/${id}`, 'deleting the trigger');
  }

  /** A page of the fn's calls, newest first. */
  listCalls(fnId: string, perPage: number): Promise<Page<Call>> {
    return this.json('GET', `/v2/fns/${fnId}/calls?per_page=${perPage}`, 'listing calls');
  }
  getCall(fnId: string, callId: string): Promise<Call> {
    return this.json('GET', `/v2/fns/${fnId}/calls/${encodeURIComponent(callId)}`, `reading call ${callId}`);
  }
  async getLog(fnId: string, callId: string): Promise<string> {
    const r = await this.json<{ log: string }>('GET', `/v2/fns/${fnId}/calls/${encodeURIComponent(callId)}/log`, `reading the log of call ${callId}`);
    return r.log;
  }

  invoke(fnId: string, body: Buffer, headers: Record<string, string>): Promise<RawReply> {
    return this.raw('POST', `/invoke/${fnId}`, { body, headers, call: true });
  }

  /**
   * A client for a full URL (`invoke --endpoint`) and the path to ask there. The token goes
   * only to this client's own origin: an endpoint elsewhere must not see it (`tokenWithheld`
   * says when there was one to send).
   */
  at(url: string): { client: KilnClient; path: string; tokenWithheld: boolean } {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new CliError(`invalid endpoint "${url}"`, 'Give a full URL, e.g. the fn\'s fnproject.io/fn/invokeEndpoint annotation (`kiln inspect fn APP FN annotations`).');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`invalid endpoint "${url}": use http:// or https://`);
    const same = u.origin === new URL(this.url).origin;
    return {
      client: new KilnClient({ url: u.origin, ...(same && this.token && { token: this.token }) }),
      path: `${u.pathname}${u.search}`,
      tokenWithheld: !same && !!this.token,
    };
  }
}

/** The `message` of Fn's error body (with the FDK's `detail` when given), or the text itself. */
export function errorMessage(text: string): string {
  try {
    const v = JSON.parse(text) as { message?: unknown; detail?: unknown };
    if (typeof v.message === 'string') return typeof v.detail === 'string' && v.detail ? `${v.message} (${v.detail})` : v.message;
  } catch {
    // not JSON: the text is the message
  }
  return text.trim() || 'no message';
}
