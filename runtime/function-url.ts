// HTTP triggers for Lambda-format fns: the caller's request becomes the event a Lambda
// function URL sends (payload format 2.0), and the function's result becomes the HTTP
// answer the way function URLs map it (statusCode, headers, cookies, body, isBase64Encoded).
import { isUtf8 } from 'node:buffer';
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from 'node:http';
import { ACCOUNT_ID } from './trace.js';
import { SOURCE_IP_HEADER } from './wire.js';

const WRAPPED = 'fn-http-h-';

export interface GatewayRequest {
  method: string;
  /** The URL the caller used (scheme://host/path?query), as Fn-Http-Request-Url carries it. */
  url: string;
  /** The caller's headers, unwrapped from Fn-Http-H-*, names in lower case. */
  headers: Record<string, string>;
  /** The caller's address, as the server saw it (Kiln-Source-Ip); undefined when not said. */
  sourceIp?: string;
}

/**
 * requestContext.http.sourceIp from Kiln-Source-Ip: an IPv4-mapped IPv6 address (a server
 * listening on ::) as the IPv4 address AWS shows; 127.0.0.1 when the daemon is called directly.
 */
export function sourceIpOf(given: string | undefined): string {
  const v = given?.trim();
  if (!v) return '127.0.0.1';
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(v);
  return mapped ? mapped[1]! : v;
}

/**
 * The gateway request carried by an http-stream call, or undefined for a plain invoke. The
 * caller's headers are read from the raw lines: a header the caller repeated comes as that many
 * Fn-Http-H-* lines, which Node's parser would join with ", ". As a function URL's event (payload
 * 2.0, which has no multiValueHeaders), a repeated header's values are joined with commas, and
 * every Cookie line's cookies go into `cookies` (joined here with "; ", Cookie's own separator).
 */
export function gatewayRequest(req: { headers: IncomingHttpHeaders; rawHeaders: readonly string[] }): GatewayRequest | undefined {
  const h = req.headers;
  if (h['fn-intent'] !== 'httprequest') return undefined;
  // No prototype: a caller's `constructor` or `__proto__` header is a header like any other.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const wrapped = raw[i]!;
    if (wrapped.length <= WRAPPED.length || wrapped.slice(0, WRAPPED.length).toLowerCase() !== WRAPPED) continue;
    const name = wrapped.slice(WRAPPED.length).toLowerCase();
    const had = headers[name];
    headers[name] = had === undefined ? raw[i + 1]! : `${had}${name === 'cookie' ? '; ' : ','}${raw[i + 1]!}`;
  }
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const sourceIp = one(h[SOURCE_IP_HEADER]);
  return { method: one(h['fn-http-method']) ?? 'GET', url: one(h['fn-http-request-url']) ?? '/', headers, ...(sourceIp !== undefined && { sourceIp }) };
}

/**
 * The content types whose body a function URL passes as text; any other (a form post's
 * `application/x-www-form-urlencoded` too), or none, is base64, as function URLs encode them.
 */
const TEXTUAL = /^(text\/|application\/(json|xml|javascript)|[^;]*\+(json|xml))/i;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** requestContext.time as function URLs write it: `10/Apr/2022:13:30:05 +0000`. */
export function requestTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** `/t/<app>/rest` is `/rest` to the function, as if the trigger were its own domain. */
function functionPath(path: string): string {
  const m = /^\/t\/[^/]+(\/.*)?$/.exec(path);
  return m ? (m[1] ?? '/') : path;
}

/**
 * The caller's URL, parsed. The agent builds it from the caller's Host header, which may be no
 * host at all (`Host: [`): the path and query still stand, so the call is not failed for it.
 */
function parseUrl(url: string): URL {
  try {
    return new URL(url, 'http://localhost');
  } catch {
    const target = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(url)?.[1] ?? url;
    try {
      return new URL(target.startsWith('/') && !target.startsWith('//') ? target : `/${target}`, 'http://localhost');
    } catch {
      return new URL('http://localhost/');
    }
  }
}

export function functionUrlEvent(g: GatewayRequest, body: Buffer, requestId: string, now: number, functionName: string): Record<string, unknown> {
  const u = parseUrl(g.url);
  const rawPath = functionPath(u.pathname);
  const query: Record<string, string> = {};
  for (const [k, v] of u.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const cookies = g.headers.cookie ? g.headers.cookie.split(';').map((c) => c.trim()).filter(Boolean) : undefined;
  const headers = { ...g.headers };
  delete headers.cookie;
  // Bytes that are no UTF-8 go as base64 whatever their type says: as text they would be lost.
  const type = headers['content-type'];
  const textual = type !== undefined && TEXTUAL.test(type) && isUtf8(body);
  const domainPrefix = functionName.toLowerCase();
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: u.search.slice(1),
    ...(cookies && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: domainPrefix,
      domainName: headers.host ?? `${domainPrefix}.lambda-url.localhost`,
      domainPrefix,
      http: {
        method: g.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        // The connection's, never a header the caller wrote (X-Forwarded-For is theirs to fill).
        sourceIp: sourceIpOf(g.sourceIp),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now,
    },
    isBase64Encoded: body.length > 0 && !textual,
  };
  if (body.length > 0) event.body = textual ? body.toString('utf8') : body.toString('base64');
  return event;
}

export interface HttpAnswer {
  status: number;
  /** Header name to value(s); Set-Cookie may repeat. */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * A result's statusCode as a number (NaN for what is none): only numbers and strings are
 * converted, since Number() of a deeply nested array overflows the stack.
 */
export const statusNumber = (v: unknown): number => (typeof v === 'number' || typeof v === 'string' ? Number(v) : NaN);

/** Text for a header value; undefined for one that cannot be made text (String() throws, or overflows on deep nesting). */
const text = (v: unknown): string | undefined => {
  try {
    return utf8Bytes(v);
  } catch {
    return undefined;
  }
};

const writable = (name: string, value: string | undefined): value is string => {
  if (value === undefined) return false;
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
};
/** A value as its UTF-8 bytes, one latin1 character each: node:http then writes those bytes, as the service's Go server would. */
const utf8Bytes = (v: unknown): string => Buffer.from(String(v), 'utf8').toString('latin1');

/**
 * The headers (and cookies, as set-cookie) of a function URL answer or a stream prelude, as
 * node:http can write them: lower-case names, values as UTF-8 bytes. A name that is not an
 * HTTP token or a value with control characters is dropped: writing it would throw.
 */
export function answerHeaders(headers: unknown, cookies: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (typeof headers === 'object' && headers !== null) {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      const name = k.toLowerCase();
      const value = text(v);
      if (writable(name, value)) out[name] = value;
    }
  }
  if (Array.isArray(cookies)) {
    const list = cookies.map(text).filter((c): c is string => writable('set-cookie', c));
    if (list.length > 0) out['set-cookie'] = list;
  }
  return out;
}

/**
 * The answer for a function's result: an object with `statusCode` describes the response;
 * anything else is the JSON body of a 200 (function URLs' rule).
 */
export function functionUrlAnswer(payload: Buffer): HttpAnswer {
  let result: unknown;
  try {
    result = JSON.parse(payload.toString('utf8'));
  } catch {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
  }
  if (typeof result !== 'object' || result === null || Array.isArray(result) || !('statusCode' in result)) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
  }
  const r = result as { statusCode: unknown; headers?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  const status = statusNumber(r.statusCode);
  const headers = answerHeaders(r.headers, r.cookies);
  let bodyText: string;
  try {
    bodyText = typeof r.body === 'string' ? r.body : r.body === undefined || r.body === null ? '' : JSON.stringify(r.body);
  } catch {
    // A body JSON.stringify cannot write (nested too deep for the stack): an invalid result.
    return { status: 502, headers: {}, body: Buffer.alloc(0) };
  }
  const body = r.isBase64Encoded === true ? Buffer.from(bodyText, 'base64') : Buffer.from(bodyText);
  return { status: Number.isInteger(status) && status >= 100 && status <= 599 ? status : 502, headers, body };
}
