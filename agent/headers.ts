// Header mapping between a caller and a container under Fn's http-stream and gateway contracts.
// Pure functions: one table-driven test covers them.
import { AGENT_CALL_HEADERS, DAEMON_ANSWER_HEADERS, QUALIFIER_HEADER, SOURCE_IP_HEADER } from '../runtime/wire.js';

export type Headers = Record<string, string | string[]>;

/**
 * A caller's request headers, names in lower case: Node's IncomingHttpHeaders, or, when a name
 * came more than once, each of its values apart, in order (an array), as Go's http.Header keeps
 * them and Fn passes them on (see api/caller-headers.ts).
 */
export type CallerHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Per-connection headers that must not be forwarded (RFC 9110 §7.6.1), plus ones we set. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
  // Kiln's Lambda daemon marks a streamed answer, sends a call's platform log lines and where
  // its output begins in the container's log, and says its sandbox stays busy after the answer,
  // and gives a stream's deadline, with these; they never leave Kiln.
  ...DAEMON_ANSWER_HEADERS,
  // The caller's address and the version it named, which the agent gives a Lambda daemon: only
  // Kiln's own copies reach it.
  ...AGENT_CALL_HEADERS,
]);

/**
 * Headers only Kiln may set on the caller's answer: a function's own (or, through a trigger, its
 * wrapped Fn-Http-H-*) are dropped. Fn-Call-Id: a caller would follow another call's id.
 * Service-Worker-Allowed: it would let a function's script (its trigger's path) register a
 * service worker over the whole origin, /ui/ included, and read the token the web view sends.
 */
const PLATFORM_OWNED = new Set(['fn-call-id', 'service-worker-allowed']);

/** The header names a Connection header lists are hop-by-hop too. */
function connectionListed(h: CallerHeaders): Set<string> {
  const names = new Set<string>();
  for (const [name, v] of Object.entries(h)) {
    if (name.toLowerCase() !== 'connection' || v === undefined) continue;
    for (const n of (Array.isArray(v) ? v.join(',') : v).split(',')) {
      if (n.trim()) names.add(n.trim().toLowerCase());
    }
  }
  return names;
}

export interface CallContext {
  callId: string;
  /** RFC 3339 time by which the call must finish. */
  deadline: string;
  /** Set for HTTP triggers: the gateway protocol wraps the caller's request. */
  gateway?: { method: string; url: string };
  /** The caller's address, for a Lambda daemon's function URL event (Fn gives http-stream fns none). */
  sourceIp?: string;
  /** The version a Lambda APIs' caller named, for a Lambda daemon's invokedFunctionArn. */
  qualifier?: string;
  /**
   * The container runs Kiln's Lambda daemon: through a trigger it also gets the caller's Host,
   * which a function URL event carries (and frameworks build URLs from). Fn gives an http-stream
   * fn none: Go keeps Host apart from the request's headers.
   */
  lambda?: boolean;
}

const canonical = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
// Named once, not on every Lambda call (a regex replace with a callback each time).
const SOURCE_IP_LINE = canonical(SOURCE_IP_HEADER);
const QUALIFIER_LINE = canonical(QUALIFIER_HEADER);

/**
 * The headers of the POST /call sent to the container. A header the caller repeated goes as
 * that many lines, each value as it came (Fn's Header.Add of every value, wrapped or not).
 */
export function toContainerHeaders(incoming: CallerHeaders, ctx: CallContext, bodyLength: number): Headers {
  const skip = connectionListed(incoming);
  const out: Headers = {};
  const passHost = ctx.gateway !== undefined && ctx.lambda === true;
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || skip.has(name) || (HOP_BY_HOP.has(name) && !(passHost && name === 'host'))) continue;
    if (ctx.gateway) {
      // The caller's headers travel wrapped. Content-Type also goes as itself: Fn's current
      // server sends it unwrapped only, older ones wrapped only; both keep either's code working.
      out[`Fn-Http-H-${canonical(name)}`] = value;
      if (name === 'content-type') out['Content-Type'] = value;
    } else if (name !== 'fn-call-id' && name !== 'fn-deadline') {
      // The call's own id and deadline are set below: a caller's would travel beside them
      // (Node joins the two) and the function would see `evil, 01J...`. Fn's Header.Set replaces too.
      out[name] = value;
    }
  }
  if (ctx.gateway) {
    out['Fn-Http-Method'] = ctx.gateway.method;
    out['Fn-Http-Request-Url'] = ctx.gateway.url;
    out['Fn-Intent'] = 'httprequest';
  }
  if (ctx.sourceIp !== undefined) out[SOURCE_IP_LINE] = ctx.sourceIp;
  if (ctx.qualifier !== undefined) out[QUALIFIER_LINE] = ctx.qualifier;
  out['Fn-Call-Id'] = ctx.callId;
  out['Fn-Deadline'] = ctx.deadline;
  out['Content-Length'] = String(bodyLength);
  return out;
}

export interface CallerResponse {
  status: number;
  headers: Headers;
  /**
   * Through a trigger, the length the function gave as Fn-Http-H-Content-Length (digits only).
   * Only an answer to HEAD goes out with it: a body's own length is what it is.
   */
  declaredLength?: number;
}

/**
 * The caller's status and headers from the container's 200 answer. Through a trigger,
 * Fn-Http-Status sets the status and Fn-Http-H-* are unwrapped; Content-Type passes.
 */
export function toCallerResponse(containerHeaders: Headers, gateway: boolean): CallerResponse {
  const skip = connectionListed(containerHeaders);
  const headers: Headers = {};
  let status = 200;
  let declaredLength: number | undefined;
  for (const [rawName, value] of Object.entries(containerHeaders)) {
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || skip.has(name) || PLATFORM_OWNED.has(name)) continue;
    if (!gateway) {
      headers[name] = value;
      continue;
    }
    if (name === 'fn-http-status') {
      const raw = String(Array.isArray(value) ? value[0] : value).trim();
      const n = /^\d{3}$/.test(raw) ? Number(raw) : NaN;
      // As Fn's gateway, the function's status is the caller's, 5xx included (a 503 with its
      // Retry-After). 1xx would go out as an interim response, not as the answer.
      if (n >= 200 && n <= 599) status = n;
    } else if (name.startsWith('fn-http-h-') && name.length > 'fn-http-h-'.length) {
      // Unwrapped names obey the same hop-by-hop rule: the function cannot set framing headers.
      const inner = name.slice('fn-http-h-'.length);
      if (!HOP_BY_HOP.has(inner) && !skip.has(inner) && !PLATFORM_OWNED.has(inner)) headers[inner] = value;
      else if (inner === 'content-length') {
        const raw = String(Array.isArray(value) ? value[0] : value).trim();
        if (/^\d{1,15}$/.test(raw)) declaredLength = Number(raw);
      }
    } else if (name === 'content-type' && headers['content-type'] === undefined) {
      headers[name] = value;
    }
  }
  return { status, headers, ...(declaredLength !== undefined && { declaredLength }) };
}

/**
 * A header's value as text: node:http and undici read a header's bytes as Latin-1 (one character
 * a byte), and a function's error type is UTF-8. Only where the text is stored or put in a body:
 * a header passed on keeps the bytes it came with.
 */
export const headerText = (v: string): string => Buffer.from(v, 'latin1').toString('utf8');

/** Fn's deadline header: RFC 3339 with milliseconds. */
export const deadlineFrom = (startMs: number, timeoutMs: number): string => new Date(startMs + timeoutMs).toISOString();

/**
 * The head Node's HTTP server takes by default (16 KiB): Fn's Node FDK's, the least a function's
 * server may take. A broken connection after a larger head is taken for its refusal.
 */
export const FDK_HEAD_BYTES = 16 * 1024;

/** A head's size as written, `name: value\r\n` a value (latin1: a byte a character). */
export function headBytes(headers: Headers): number {
  let n = 0;
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) n += name.length + v.length + 4;
  }
  return n;
}
