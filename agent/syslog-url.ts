// An app's syslog_url: which ones Kiln takes, and what the engine's syslog driver is given for
// one. Pure: the API checks a URL when it is written, the agent again before a container is made
// (a row stored by Fn, or by an older Kiln, was never checked by these rules).
//
// Network destinations, as Fn's older list (tcp, udp, tls). Fn's current one also takes unix and
// unixgram, but the engine runs on the host, as root: such a URL would have it connect to any
// socket there for any API caller (and its error says whether a path exists). So a unix socket
// is taken only when the operator lists its path in KILN_SYSLOG_SOCKETS (/dev/log, say).

/** What may be written, Fn's schemes first; tcp+tls is the engine's name for tls, which Kiln documented before. */
export const SYSLOG_SCHEMES: readonly string[] = ['tcp', 'udp', 'tls', 'tcp+tls'];

/** Taken only for the socket paths KILN_SYSLOG_SOCKETS lists. */
const UNIX_SCHEMES: readonly string[] = ['unix', 'unixgram'];

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * What is wrong with a syslog URL, as the text after `"<url>"` in the 400 (the scheme's message is
 * Fn's); undefined when nothing is. Each other check is one the engine's driver would fail every
 * call on.
 */
export function syslogUrlProblem(url: string, sockets: readonly string[] = []): string | undefined {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  const schemes = sockets.length > 0 ? [...SYSLOG_SCHEMES, ...UNIX_SCHEMES] : SYSLOG_SCHEMES;
  if (!scheme || !schemes.includes(scheme)) {
    const unix = scheme !== undefined && UNIX_SCHEMES.includes(scheme) ? ' (unix and unixgram only for the sockets this server lists in KILN_SYSLOG_SOCKETS)' : '';
    return ` invalid scheme, only [${schemes.join(', ')}] are supported${unix}`;
  }
  const unix = UNIX_SCHEMES.includes(scheme);
  // What the WHATWG parser below strips or takes (tabs, newlines, %XX in a host), Go's url.Parse,
  // which the engine uses, refuses.
  if (/[\x00-\x20\x7f]/.test(url)) return ': it has spaces or control characters';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return unix ? ': a unix socket URL is scheme:///path/to/socket' : ': the engine takes scheme://host[:port]';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ': it is not one URL'; // e.g. several, comma-separated (the engine takes one)
  }
  if (u.search !== '' || u.hash !== '') return ': it has a query or fragment';
  if (unix) {
    if (u.hostname !== '' || u.pathname === '') return ': a unix socket URL is scheme:///path/to/socket';
    // Compared as the engine will read it: the path as written, not percent-decoded or resolved.
    const path = url.slice(url.indexOf('://') + 3);
    return sockets.includes(path) ? undefined : `: the socket ${path} is not one of those KILN_SYSLOG_SOCKETS lists (${sockets.join(', ')})`;
  }
  if (u.hostname === '') return ': it names no host';
  if (u.hostname.includes('%')) return ': its host has a %-escape';
  return u.pathname === '' || u.pathname === '/' ? undefined : ': a network syslog URL has no path';
}

/**
 * The engine's syslog-address for an accepted URL: trimmed, the scheme in lower case (the engine
 * reads it case-sensitively; Fn takes any case), and Fn's `tls` as the engine's `tcp+tls`.
 */
export function engineSyslogAddress(url: string): string {
  return url.trim().replace(SCHEME, (_, scheme: string) => {
    const lower = scheme.toLowerCase();
    return `${lower === 'tls' ? 'tcp+tls' : lower}:`;
  });
}
