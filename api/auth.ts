// Optional bearer-token authentication (KILN_AUTH_TOKENS). Fn's server has none of its own
// (extensions add it), while its CLI, like Kiln's, sends `Authorization: Bearer <token>` from
// the current context: so a token is what both CLIs already speak (RFC 6750).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** RFC 6750's b64token: what may follow `Bearer `. */
export const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Shorter tokens are refused at start-up: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * A request without a valid token: no token (`missing`) or a wrong one (`invalid`). It answers 401
 * with RFC 6750's `WWW-Authenticate` challenge (api/errors.ts), bare for a missing token and with
 * `error="invalid_token"` for a wrong one.
 */
export class UnauthorizedError extends Error {
  constructor(readonly reason: 'missing' | 'invalid') {
    super(reason === 'missing' ? 'Authentication required: send "Authorization: Bearer <token>"' : 'Invalid authentication token');
    this.name = 'UnauthorizedError';
  }

  get challenge(): string {
    return this.reason === 'missing' ? 'Bearer realm="kiln"' : 'Bearer realm="kiln", error="invalid_token"';
  }
}

export interface AuthOptions {
  /**
   * Whether `/invoke/...` needs a token too (KILN_AUTH_INVOKE, default true). The fn CLI
   * (fn_go's default provider) sends its token to the REST API only, never with `fn invoke`,
   * so an Fn user's invokes work only with this off.
   */
  invoke: boolean;
}

/**
 * What anyone may call without a token: `GET /`, `GET /version` and `GET /health` (health checks), HTTP
 * triggers (a function's own public face: it checks its callers itself, as behind a Lambda
 * function URL without IAM auth), the web view's static files (whose API calls carry the
 * token), and invokes when they are not guarded. Exact, case-sensitive prefixes: anything
 * else, unknown paths included, needs a token.
 */
export function isPublicPath(method: string | undefined, path: string, opts: AuthOptions = { invoke: true }): boolean {
  if (path.startsWith('/t/')) return true;
  // Only /invoke: there a fn id is the key; the Lambda Invoke API also takes a fn's name, which
  // can be guessed (and the fn CLI, which the setting is for, never calls it).
  if (!opts.invoke && path.startsWith('/invoke/')) return true;
  if (method !== 'GET' && method !== 'HEAD') return false;
  return path === '/' || path === '/version' || path === '/health' || path === '/ui' || path.startsWith('/ui/');
}

/**
 * The origin form (`/path?query`) of a request target in absolute form (`http://host/path?q`);
 * `*` (OPTIONS) and anything unparsable are left as they are (no public path matches them).
 */
export function originForm(target: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  try {
    const u = new URL(target);
    return `${u.pathname}${u.search}`;
  } catch {
    return target;
  }
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive); else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1];
}

export interface TokenOptions extends AuthOptions {
  /**
   * KILN_METRICS_TOKENS: tokens good for reading `GET /metrics` and nothing else, so a
   * Prometheus scraper need not hold one that can run any image on the host.
   */
  metricsTokens?: readonly string[];
}

/** The one request a metrics token is good for. */
const isMetricsRead = (method: string | undefined, path: string): boolean => path === '/metrics' && (method === 'GET' || method === 'HEAD');

/**
 * A check of the request's token against the configured ones, or undefined when none are set
 * (no authentication, as Fn). Tokens are compared as SHA-256 digests with timingSafeEqual,
 * against every token the request could use, so the time taken says nothing about any of them.
 */
export function tokenCheck(
  tokens: readonly string[], opts: TokenOptions = { invoke: true },
): ((method: string | undefined, path: string, headers: IncomingHttpHeaders) => UnauthorizedError | undefined) | undefined {
  if (tokens.length === 0) return undefined;
  const known = tokens.map(digest);
  const forMetrics = [...known, ...(opts.metricsTokens ?? []).map(digest)];
  return (method, path, headers) => {
    if (isPublicPath(method, path, opts)) return undefined;
    const given = bearerToken(headers.authorization);
    if (given === undefined) {
      return new UnauthorizedError('missing');
    }
    const d = digest(given);
    let ok = false;
    for (const k of isMetricsRead(method, path) ? forMetrics : known) ok = timingSafeEqual(k, d) || ok;
    return ok ? undefined : new UnauthorizedError('invalid');
  };
}
