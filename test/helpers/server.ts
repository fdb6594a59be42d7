// An in-process Kiln server on a free loopback port, over a real database.
import { start } from '../../api/boot.js';
import { loadConfig } from '../../api/config.js';

export interface TestServer {
  url: string;
  stop(): Promise<void>;
}

export async function startServer(dbUrl: string, env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({ FN_PORT: '0', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'silent', FN_DB_URL: dbUrl, ...env });
  return start(config);
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request; `body` given as a string is sent verbatim. */
export async function call<T = any>(
  base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}
