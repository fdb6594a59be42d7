// Why the server could not start, in one line for the operator: a socket error names the
// setting behind it (the port in use is FN_PORT, an address that is not this host's FN_HOST).

export function startFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, address, port } = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (code === 'EADDRINUSE') return `port ${port ?? '?'} on ${address ?? '?'} is already in use: set FN_PORT to a free one (${err.message})`;
  if (code === 'EACCES' && port !== undefined) return `port ${port} needs privileges Kiln does not have: set FN_PORT to one above 1023 (${err.message})`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `FN_HOST is not an address of this host (${err.message})`;
  return err.message;
}
