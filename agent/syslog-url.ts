// An app's syslog_url: which ones Kiln takes, and what the engine's syslog driver is given for
// one. Pure: the API checks a URL when it is written, the agent again before a container is made
// (a row stored by Fn, or by an older Kiln, was never checked by these rules).
//
// Only network destinations, as Fn's own list (tcp, udp, tls). The engine runs on the host, as
// root: a unix or unixgram URL would have it connect to any socket there for any API caller.

/** What may be written, Fn's schemes first; tcp+tls is the engine's name for tls, which Kiln documented before. */
export const SYSLOG_SCHEMES: readonly string[] = ['tcp', 'udp', 'tls', 'tcp+tls'];

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * What is wrong with a syslog URL, as the text after `"<url>"` in the 400 (the scheme's message is
 * Fn's); undefined when nothing is. Each other check is one the engine's driver would fail every
 * call on.
 */
export function syslogUrlProblem(url: string): string | undefined {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (!scheme || !SYSLOG_SCHEMES.includes(scheme)) return ` invalid scheme, only [${SYSLOG_SCHEMES.join(', ')}] are supported`;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) return ': the engine takes scheme://host[:port]';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ': it is not one URL'; // e.g. several, comma-separated (the engine takes one)
  }
  if (u.search !== '' || u.hash !== '') return ': it has a query or fragment';
  if (u.hostname === '') return ': it names no host';
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
