// What a log line may say of a request: credentials sent in a query string or in a header of a
// name of their own (X-Auth-Token) are masked, as the fixed credential headers are (logger.ts).

/** Names that say a secret: a query parameter or header named so is masked. */
const SECRET_NAME = /auth|token|secret|key|cookie|passw|session|signature|credential/i;

export const REDACTED = '[redacted]';

/** The URL with the value of each query parameter whose (decoded) name looks secret masked. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // Not percent-encoding: read as written.
    }
    return eq >= 0 && SECRET_NAME.test(name) ? `${rawName}=${REDACTED}` : pair;
  });
  return `${url.slice(0, q)}?${query.join('&')}`;
}

/** The headers (or a parsed query) with the values of those whose names look secret masked. */
export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_NAME.test(k) ? REDACTED : v]));
}
