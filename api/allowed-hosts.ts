// DNS rebinding: a web page at http://evil.example:8080 whose name its owner re-points at
// 127.0.0.1 is, to the browser, the same origin as a Kiln listening there, so neither the
// cross-site check nor the same-origin policy stops it from reading and changing everything.
// Its requests still say the name they were made to (Host), which Kiln does not answer to.
// Only a server without tokens needs this: a rebound page has no token.
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { isPublicPath, type AuthOptions } from './auth.js';

/** A request refused for its Host; api/errors.ts answers it with 403 (AccessDeniedException on the Lambda APIs). */
export class HostNotAllowedError extends Error {
  constructor(readonly host: string) {
    super(
      `Host ${JSON.stringify(host.length > 255 ? `${host.slice(0, 255)}...` : host)} is not allowed: without tokens, Kiln answers only requests ` +
      `made to localhost, an IP address, this machine's name or FN_PUBLIC_LB_URL's host, so a web page under another name ` +
      `cannot reach it (DNS rebinding). To use this name, add it to KILN_ALLOWED_HOSTS (or set KILN_AUTH_TOKENS)`,
    );
    this.name = 'HostNotAllowedError';
  }
}

/** The names a server without tokens answers to, besides localhost and IP addresses. */
export interface HostRules {
  /** `*` in KILN_ALLOWED_HOSTS: any Host. */
  any: boolean;
  names: ReadonlySet<string>;
  /** `.example.com` entries, without the dot: the domain and every name under it. */
  domains: readonly string[];
}

/** LDH labels, with `_` (Docker and compose names have it); lower case, no trailing dot. */
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

/** A name as Host headers are compared: lower case, without the trailing dot of a fully-qualified one. */
const normalName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * A KILN_ALLOWED_HOSTS entry as it is matched (`*`, `name` or `.domain`, lower case, an
 * international name in its ASCII form, as browsers send it), or undefined when it is none of
 * them (a port, a scheme, an empty label).
 */
export function allowedHostEntry(entry: string): string | undefined {
  const e = entry.trim();
  if (e === '*') return e;
  const dot = e.startsWith('.') ? '.' : '';
  let name = normalName(e.slice(dot.length));
  // Only non-ASCII names need converting (domainToASCII would also rewrite `1.2.3` as an IPv4).
  if (/[^\x00-\x7f]/.test(name)) name = domainToASCII(name);
  return HOST_NAME.test(name) ? dot + name : undefined;
}

/**
 * The rules of a server: KILN_ALLOWED_HOSTS' entries (as allowedHostEntry gives them), the
 * machine's host name and its first label (what a LAN's DNS and mDNS call it), and the host of
 * FN_PUBLIC_LB_URL.
 */
export function hostRules(entries: readonly string[], machine: string, publicUrl?: string): HostRules {
  const names = new Set<string>();
  const domains: string[] = [];
  for (const e of entries) {
    if (e.startsWith('.')) domains.push(e.slice(1));
    else names.add(e);
  }
  const own = normalName(machine);
  if (own !== '') names.add(own).add(own.split('.')[0]!);
  if (publicUrl !== undefined) {
    try {
      names.add(normalName(new URL(publicUrl).hostname));
    } catch {
      // config.ts takes only URLs: nothing to add
    }
  }
  return { any: names.has('*'), names, domains };
}

/** Whether a Host header (name or address, with or without a port) names one the rules allow. */
export function isAllowedHost(header: string | undefined, rules: HostRules): boolean {
  // HTTP/1.0 clients send none; a page's request always has one.
  if (header === undefined || header === '' || rules.any) return true;
  let host: string;
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    // Brackets hold an IPv6 address only: no name a page's DNS could re-point.
    return end > 0 && isIPv6(header.slice(1, end)) && /^(?::\d*)?$/.test(header.slice(end + 1));
  }
  const colon = header.lastIndexOf(':');
  if (colon >= 0) {
    if (!/^\d*$/.test(header.slice(colon + 1))) return false;
    host = header.slice(0, colon);
  } else {
    host = header;
  }
  const name = normalName(host);
  if (isIPv4(name)) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true; // always loopback in browsers (RFC 6761)
  return rules.names.has(name) || rules.domains.some((d) => name === d || name.endsWith(`.${d}`));
}

/**
 * The refusal of a request to a server without tokens, or undefined when it may go on: a path a
 * token would guard (isPublicPath's list, triggers and health checks staying open under any
 * name, as reverse proxies front them) asked of a Host the rules do not allow. Only the Host
 * header is read: X-Forwarded-Host and Forwarded are headers a same-origin page may set.
 */
export function hostRefusal(
  method: string | undefined, path: string, host: string | undefined, rules: HostRules, opts: AuthOptions = { invoke: true },
): HostNotAllowedError | undefined {
  if (isPublicPath(method, path, opts) || isAllowedHost(host, rules)) return undefined;
  return new HostNotAllowedError(host ?? '');
}

/**
 * Whether a listen address (FN_HOST) is this machine's loopback only: 127.0.0.0/8, ::1 or
 * localhost. Any other, 0.0.0.0 and :: above all, is reached from containers at their
 * network's gateway address.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\./.test(h)) return true;
  return isIPv4(h) && h.startsWith('127.');
}
