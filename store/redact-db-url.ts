// FN_DB_URL as Kiln shows it (the listening line, start-up errors): never with a password. It
// works on the text, not on a parse, so that a URL too broken to parse, or a Go DSN whose
// password holds '/', ':' or '@' (Fn's MySQL form), is masked as surely as a good one.

/** Schemes whose URLs carry credentials in the forms Kiln reads (store/open.ts). */
const SERVER_SCHEMES = new Set(['postgres', 'postgresql', 'mysql']);

/** Query parameters that carry a secret (libpq's and pg's `password`, and the like). */
const SECRET_PARAM = /pass|secret|token|key/i;
/** Such a parameter's value, anywhere in the text, up to the next '&'. */
const SECRET_QUERY_VALUE = /([?&][^=&?]*(?:pass|secret|token|key)[^=&?]*=)[^&]*/gi;

/**
 * `url` with its password shown as `***`: SQLite paths as given; PostgreSQL and MySQL URLs and
 * Go DSNs with everything between the first ':' of the user info and its last '@' masked, and
 * secret query parameters too; another scheme as `scheme://***`; text with no scheme as given
 * only when it has no '@' or '?', else `***`.
 */
export function redactDbUrl(url: string): string {
  const sep = url.indexOf('://');
  if (sep < 0) return /[@?]/.test(url) ? '***' : url;
  const scheme = url.slice(0, sep);
  if (scheme === 'sqlite3' || scheme === 'sqlite') return url;
  if (!SERVER_SCHEMES.has(scheme)) return `${scheme}://***`;
  // Secret query values first, whole (up to the next '&'): one may hold an '@' (pg takes it raw),
  // which must not be taken for the end of the user info below.
  const rest = url.slice(sep + 3).replace(SECRET_QUERY_VALUE, '$1***');
  // The last '@' left: the Go driver takes the last before the database.
  const at = rest.lastIndexOf('@');
  let shown = '';
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    const colon = userInfo.indexOf(':');
    shown = `${colon < 0 ? userInfo : `${userInfo.slice(0, colon)}:***`}@`;
  }
  return `${scheme}://${shown}${maskQuery(rest.slice(at + 1))}`;
}

/** The part after the user info, with the values of secret query parameters masked. */
function maskQuery(s: string): string {
  const q = s.indexOf('?');
  if (q < 0) return s;
  const params = s.slice(q + 1).split('&').map((p) => {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    return eq >= 0 && SECRET_PARAM.test(safeDecode(key)) ? `${key}=***` : p;
  });
  return `${s.slice(0, q)}?${params.join('&')}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
