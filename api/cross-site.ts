// Browsers send some requests to any origin without asking it first (a form's POST, a
// text/plain fetch), so a web page a user visits could create apps or invoke fns on a Kiln
// that listens on their machine without tokens. A browser says where a request comes from
// (Sec-Fetch-Site, Origin); CLIs and SDKs send neither. Triggers stay open to every site:
// they are functions' public pages and forms.
import type { IncomingHttpHeaders } from 'node:http';

/** A request refused as cross-site; api/errors.ts answers it with 403. `why`: the header that told. */
export class CrossSiteError extends Error {
  constructor(readonly why: string) {
    super(`Cross-site request refused (${why}): Kiln's API and invokes take requests from its own origin and from non-browser clients; HTTP triggers (/t/...) take them from anywhere`);
    this.name = 'CrossSiteError';
  }
}

/** The refusal of a request as cross-site, or undefined when it may go on. */
export function crossSiteRefusal(
  method: string | undefined, path: string, headers: IncomingHttpHeaders, publicUrl?: string,
): CrossSiteError | undefined {
  const why = crossSiteReason(method, path, headers, publicUrl);
  return why === undefined ? undefined : new CrossSiteError(why);
}

/** Why a request is cross-site, or undefined when it may go on. */
function crossSiteReason(
  method: string | undefined, path: string, headers: IncomingHttpHeaders, publicUrl?: string,
): string | undefined {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || path.startsWith('/t/')) return undefined;
  // 'same-site' is not enough: another port of the same host is the same site.
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site: ${site}`;
  // Browsers send Sec-Fetch-Site only to secure origins (https, localhost): on plain HTTP to a
  // host name, Origin against the host asked for decides.
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return `Origin: ${origin}`; // "null" (a sandboxed or file: page) and anything unparsable
  }
  // A reverse proxy may rewrite Host and say the original in X-Forwarded-Host or Forwarded (a
  // page elsewhere cannot add those headers without the preflight Kiln never answers).
  const asked = [headers.host, first(headers['x-forwarded-host']), forwardedHost(headers.forwarded)];
  if (asked.some((h) => h !== undefined && sameHost(from, h))) return undefined;
  // The address Kiln is published at (FN_PUBLIC_LB_URL), for proxies that say nothing of it.
  return publicUrl !== undefined && originOf(publicUrl) === from.origin ? undefined : `Origin: ${origin}`;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();

/** The host of the first element of an RFC 7239 Forwarded header. */
function forwardedHost(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /(?:^|;)\s*host="?([^";,]+)"?/i.exec(v.split(',')[0] ?? '');
  return m?.[1];
}

/** Whether `host` (a Host header: name[:port]) is the origin's, the scheme's default port implied. */
function sameHost(origin: URL, host: string): boolean {
  let asked: URL;
  try {
    asked = new URL(`${origin.protocol}//${host}`);
  } catch {
    return false;
  }
  return asked.host === origin.host;
}
