// KILN_TRUST_PROXY: which hops in front of Kiln are proxies whose X-Forwarded-* it believes, in
// the values Express's `trust proxy` setting takes. Pure: a table-driven test covers it.
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** false (no proxy; the default), true (every hop), a hop count, or addresses, subnets and range names. */
export type TrustProxy = boolean | number | string[];

/** Whether the hop at `addr`, `i` hops from the server, is a trusted proxy (Express's 'trust proxy fn'). */
export type TrustFn = (addr: string, i: number) => boolean;

export class TrustProxyError extends Error {}

/** The setting's text as a TrustProxy; throws TrustProxyError naming what is wrong. */
export function parseTrustProxy(raw: string): TrustProxy {
  const v = raw.trim();
  // Only Express's words: `1` is a hop count there, not a boolean.
  if (v.toLowerCase() === 'true') return true;
  if (v.toLowerCase() === 'false') return false;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new TrustProxyError(`hop count ${v} is too large`);
    return n;
  }
  const list = v.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) throw new TrustProxyError(`"${raw}" has an empty entry`);
  try {
    proxyaddr.compile(list);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new TrustProxyError(err.message);
  }
  return list;
}

/**
 * The caller's address, as Express's req.ip gives it with the same trust: the socket's peer,
 * or behind trusted proxies the right-most X-Forwarded-For entry no trusted hop added.
 * Undefined when the socket is already gone.
 */
export function callerAddress(req: IncomingMessage, trust: TrustFn): string | undefined {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return undefined;
  // No X-Forwarded-For: the peer, as proxy-addr would find it, without parsing a chain on every Lambda call.
  return unmapped(req.headers['x-forwarded-for'] === undefined ? peer : proxyaddr(req, trust));
}

/** An IPv4 peer of a server listening on `::` as AWS shows it, `1.2.3.4`, not `::ffff:1.2.3.4`. */
export function unmapped(addr: string): string {
  const v4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(addr);
  return v4 ? v4[1]! : addr;
}

/**
 * X-Forwarded-For as a proxy that appends the caller's address sends it (AWS's function URL front
 * end does): what the caller said before the first trusted hop, then the caller's address. Its
 * last entry is then the one to believe, as on AWS; the rest is whatever the caller wrote.
 */
export function forwardedFor(req: IncomingMessage, trust: TrustFn): string | undefined {
  if (req.socket.remoteAddress === undefined) return undefined;
  const every = proxyaddr.all(req);
  const trusted = proxyaddr.all(req, trust);
  return [...every.slice(trusted.length).reverse(), unmapped(trusted[trusted.length - 1]!)].join(', ');
}
