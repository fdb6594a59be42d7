// A runtime bundle's lease: its directory's mtime, kept fresh while a server uses it, so that a
// server pruning old bundles (images/prune-bundles.ts) in a directory nodes share leaves it be.
import { utimes } from 'node:fs/promises';
import type { Logger } from 'pino';

/** How often a running server refreshes its bundle's mtime; far inside BUNDLE_GRACE_MS. */
export const BUNDLE_LEASE_MS = 60 * 60_000;

/** Sets the directory's mtime to now. */
export async function touchBundle(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now);
}

/** Refreshes `dir`'s mtime every `everyMs` until the returned function is called; a failure is a warn. */
export function holdBundleLease(dir: string, log: Logger, everyMs = BUNDLE_LEASE_MS): () => void {
  const timer = setInterval(() => {
    touchBundle(dir).catch((err: unknown) => {
      log.warn({ err, dir }, 'the Lambda runtime bundle could not be refreshed: another server sharing its directory may delete it once it is a day old');
    });
  }, everyMs);
  // The lease never keeps the process alive by itself.
  timer.unref();
  return () => clearInterval(timer);
}
