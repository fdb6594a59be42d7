// Why the server could not start, in one line for the operator: a socket error names the
// setting behind it (the port in use is FN_PORT, an address that is not this host's FN_HOST),
// a database that cannot be reached names FN_DB_URL (without its password).
import { createServer, type Server } from 'node:net';
import { redactDbUrl } from '../store/redact-db-url.js';

/** Binding the server's port failed: FN_PORT's or FN_HOST's doing. */
export class ListenError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message, { cause });
    this.name = 'ListenError';
  }
}

/** Opening the database (connecting, migrating) failed. `dbUrl` is FN_DB_URL as given. */
export class DatabaseOpenError extends Error {
  constructor(readonly dbUrl: string, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'DatabaseOpenError';
  }
}

/** A name the resolver does not know (for good, or for now). */
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN']);

type SocketError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };

function listenFailure(err: SocketError): string {
  const { code, address, port } = err;
  if (code === 'EADDRINUSE') {
    return `port ${port ?? '?'} on ${address ?? '?'} is already in use: set FN_PORT to a free one (a second Kiln on this host also needs a KILN_NODE_ID of its own) (${err.message})`;
  }
  if (code === 'EACCES' && port !== undefined) return `port ${port} needs privileges Kiln does not have: set FN_PORT to one above 1023 (${err.message})`;
  if (code === 'EADDRNOTAVAIL' || (code !== undefined && UNRESOLVED.has(code))) return `FN_HOST is not an address of this host (${err.message})`;
  return err.message;
}

/** A connection that failed on its way: nothing listening, no route, a socket file missing or closed to Kiln. */
const UNREACHED = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENOENT', 'EACCES']);

/**
 * The server answered, and refused the user, its password or the database: PostgreSQL's
 * invalid_authorization_specification / invalid_password / invalid_catalog_name, MySQL's.
 */
const REFUSED_LOGIN = new Set(['28000', '28P01', '3D000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

function databaseFailure(err: DatabaseOpenError): string {
  const cause = err.cause as SocketError | undefined;
  const url = redactDbUrl(err.dbUrl);
  if (cause?.code !== undefined && UNRESOLVED.has(cause.code)) {
    const host = cause.hostname === undefined ? '' : ` "${cause.hostname}"`;
    return `FN_DB_URL host${host} not found: the database ${url} cannot be reached (${err.message})`;
  }
  if (cause?.code !== undefined && UNREACHED.has(cause.code)) return `FN_DB_URL: the database ${url} cannot be reached (${err.message})`;
  if (cause?.code !== undefined && REFUSED_LOGIN.has(cause.code)) return `FN_DB_URL: the database ${url} refused its user, password or database name (${err.message})`;
  return err.message;
}

export function startFailure(err: unknown): string {
  if (err instanceof ListenError) return listenFailure(err.cause);
  if (err instanceof DatabaseOpenError) return databaseFailure(err);
  if (!(err instanceof Error)) return String(err);
  return err.message;
}

/** Binds `server` to the port and host, failing with a ListenError. */
export async function listen(server: Server, port: number, host: string): Promise<void> {
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (err) => reject(new ListenError(err)));
  });
}

/**
 * Fails as the server's own listen would when the port is taken, before start-up changes
 * anything: a second server with the same node id (`kiln start` twice on one host) would
 * otherwise remove the first one's containers, and only then find the port in use.
 */
export async function ensurePortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(new ListenError(err)));
    probe.listen({ port, host, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
