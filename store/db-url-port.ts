// FN_DB_URL's port, checked at start-up for every scheme: PostgreSQL URLs reached pg unchecked,
// and one past 65535 failed the start as a bare "Invalid URL".
import { splitDsn } from './mysql-dsn.js';

/**
 * The `host[:port]` of a server URL, as its driver reads it: pg (WHATWG's URL) ends the authority
 * at the first `/`, `?` or `#`; Kiln's MySQL parser, as Go's driver, takes the database after the
 * last `/` and the user before the last `@` ahead of it.
 */
function address(scheme: string, url: string): string {
  const rest = url.slice(scheme.length + 3);
  if (scheme === 'mysql') return splitDsn(rest).address;
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/**
 * Why FN_DB_URL's port cannot be one (not a number from 1 to 65535), or undefined when it is
 * fine or absent. SQLite has no port; a MySQL DSN's `tcp(host:port)` is its parser's to check.
 */
export function dbUrlPortIssue(url: string): string | undefined {
  const scheme = url.slice(0, Math.max(0, url.indexOf('://')));
  if (!['postgres', 'postgresql', 'mysql'].includes(scheme)) return undefined;
  const hostAndPort = address(scheme, url);
  // A Go DSN's tcp(host:port) or unix(path) is the MySQL parser's to check.
  if (hostAndPort.includes('(')) return undefined;
  // [v6]:port, or host:port; a colon inside brackets is the address's.
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostAndPort);
  const port = m?.[2];
  if (port === undefined || port === '') return undefined;
  const n = /^\d+$/.test(port) ? Number(port) : NaN;
  if (n >= 1 && n <= 65535) return undefined;
  // What was read as the port is not repeated: it is often a piece of a password that holds a
  // character ending the host part (`/`, `?`, `#`), which pg's reading cuts there.
  return 'its port must be a number from 1 to 65535 (a password holding /, ?, # or @ must be ' +
    'percent-encoded: %2F, %3F, %23, %40)';
}
