// Why the server could not start, in one line for the operator: a socket error names the
// setting behind it (the port in use is FN_PORT, an address that is not this host's FN_HOST).
import { createServer } from 'node:net';

export function startFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, address, port } = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (code === 'EADDRINUSE') {
    return `port ${port ?? '?'} on ${address ?? '?'} is already in use: set FN_PORT to a free one (a second Kiln on this host also needs a KILN_NODE_ID of its own) (${err.message})`;
  }
  if (code === 'EACCES' && port !== undefined) return `port ${port} needs privileges Kiln does not have: set FN_PORT to one above 1023 (${err.message})`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `FN_HOST is not an address of this host (${err.message})`;
  return err.message;
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
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
