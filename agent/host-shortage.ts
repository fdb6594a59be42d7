// The server's own host running short (file descriptors, disk space or inodes where it makes a
// container's socket directory) while it prepares a container: the platform's fault, worth
// trying again later, never the function's nor the engine's. Its errno message names host paths:
// callers and call records get fixed words, the server's log the detail.
import { AgentError } from './errors.js';

/** errno codes of a host out of something, and what each is out of. */
const SHORT_OF: Readonly<Record<string, string>> = {
  EMFILE: 'file descriptors',
  ENFILE: 'file descriptors',
  ENOSPC: 'disk space or inodes',
  EDQUOT: 'disk space or inodes',
};

/** How deep a chain of causes is searched (a DriverError wraps the socket's error, say). */
const MAX_CAUSES = 5;

/** The errno code of a host shortage that `err` is, or was caused by; undefined for anything else. */
export function shortageCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; e !== null && typeof e === 'object' && i <= MAX_CAUSES; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in SHORT_OF) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether `err` is the server running out of file descriptors (EMFILE, ENFILE). */
export const outOfDescriptors = (err: unknown): boolean => {
  const code = shortageCode(err);
  return code === 'EMFILE' || code === 'ENFILE';
};

/** The server's host ran short preparing a container (or reaching one): 503 with Retry-After, kind `internal`. */
export class HostShortageError extends AgentError {
  constructor(readonly code: string, cause: unknown, during = 'preparing a container') {
    super('out-of-resources', `server out of resources (${SHORT_OF[code] ?? code}) while ${during}; try again later`, { cause });
    this.name = 'HostShortageError';
  }
}

/** `err` as a HostShortageError when it is (or was caused by) a host shortage; otherwise undefined. */
export function asHostShortage(err: unknown, during?: string): HostShortageError | undefined {
  if (err instanceof HostShortageError) return err;
  const code = shortageCode(err);
  return code === undefined ? undefined : new HostShortageError(code, err, during);
}
