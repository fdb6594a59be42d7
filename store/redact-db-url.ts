// FN_DB_URL as Kiln shows it (the listening line, start-up errors): never with a password. It
// works on the text, not on a parse, so that a URL too broken to parse, or a Go DSN whose
// password holds '/', ':' or '@' (Fn's MySQL form), is masked as surely as a good one.

/** Schemes whose URLs carry credentials in the forms Kiln reads (store/open.ts). */
const SERVER_SCHEMES = new Set(['postgres', 'postgresql', 'mysql']);

/** Query parameters that carry a secret (libpq's and pg's `password`, and the like), by decoded name. */
const SECRET_PARAM = /pass|secret|token|key/i;
/** A query parameter: its name and value (up to the next '&'), wherever a '?' or '&' begins one. */
const PARAM = /[?&]([^=&?]*)=([^&]*)/g;

/**
 * `url` with its password shown as `***`: SQLite paths as given; PostgreSQL and MySQL URLs and
 * Go DSNs with their user info's password and secret query values masked; another scheme as
 * `scheme://***`; text with no scheme as given only when it has no '@' or '?', else `***`.
 *
 * An '@' may end the user info or sit in a password (Go DSNs take it raw, and pg a raw one in a
 * query value), and a '?' may begin the query or sit in a Go DSN's password: the text is read
 * both ways, and whatever either reading calls a secret is masked.
 */
export function redactDbUrl(url: string): string {
  const sep = url.indexOf('://');
  if (sep < 0) return /[@?]/.test(url) ? '***' : url;
  const scheme = url.slice(0, sep);
  if (scheme === 'sqlite3' || scheme === 'sqlite') return url;
  if (!SERVER_SCHEMES.has(scheme)) return `${scheme}://***`;
  const rest = url.slice(sep + 3);
  const hidden = new Array<boolean>(rest.length).fill(false);
  const hide = (from: number, to: number) => {
    for (let i = from; i < to; i++) hidden[i] = true;
  };
  // Secret query values, wherever they are.
  for (const m of rest.matchAll(PARAM)) {
    if (SECRET_PARAM.test(safeDecode(m[1]!))) hide(m.index + m[0].length - m[2]!.length, m.index + m[0].length);
  }
  // The user info's password: up to the last '@', and up to the last '@' outside those values.
  let visibleAt = rest.length - 1;
  while (visibleAt >= 0 && (rest[visibleAt] !== '@' || hidden[visibleAt])) visibleAt--;
  for (const at of [rest.lastIndexOf('@'), visibleAt]) {
    if (at < 0) continue;
    const colon = rest.indexOf(':');
    if (colon >= 0 && colon < at) hide(colon + 1, at);
  }
  let out = '';
  for (let i = 0; i < rest.length; i++) {
    if (!hidden[i]) out += rest[i];
    else if (i === 0 || !hidden[i - 1]) out += '***';
  }
  return `${scheme}://${out}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
