// Browsers send some requests to any origin without asking it first (a form's POST, a
// text/plain fetch), so a web page a user visits could create apps or invoke fns on a Kiln
// that listens on their machine without tokens. A browser says where a request comes from
// (Sec-Fetch-Site, Origin); CLIs and SDKs send neither. Triggers stay open to every site:
// they are functions' public pages and forms.
import type { IncomingHttpHeaders } from 'node:http';

/** Why a request is refused as cross-site, or undefined when it may go on. */
export function crossSiteRefusal(method: string | undefined, path: string, headers: IncomingHttpHeaders): string | undefined {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || path.startsWith('/t/')) return undefined;
  // 'same-site' is not enough: another port of the same host is the same site.
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site: ${site}`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `Origin: ${origin}`; // "null" (a sandboxed or file: page) and anything unparsable
  }
  return host === headers.host ? undefined : `Origin: ${origin}`;
}
