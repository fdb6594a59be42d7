// Deletes old runtime bundles beside this server's (images/stale-bundles.ts decides which). A
// bundle another server holds has a fresh mtime (images/bundle-lease.ts); one refreshed while
// it is being taken is put back.
import { lstat, readdir, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { asideName, errCode, LEASE_FILE } from './runtime-bundle.js';
import { BUNDLE_GRACE_MS, bundleBase, oldBundle, staleBundles, type BundleEntry } from './stale-bundles.js';

export interface PruneOptions {
  /** The host paths the engine's containers have mounted (Driver.mountedHostPaths); asked only when some bundle is old. */
  mountedHostPaths: () => Promise<string[]>;
  graceMs?: number;
}

export interface Pruned {
  /** The names deleted. */
  removed: string[];
  /** Bytes those held (hard-linked files, node as a rule, free nothing and are not counted). */
  bytes: number;
  /** The names that could not be deleted, and why. */
  failed: { name: string; err: unknown }[];
}

/** Deletes the stale bundles in the directory of `hostDir` (this server's bundle, which stays). */
export async function pruneRuntimeBundles(hostDir: string, opts: PruneOptions): Promise<Pruned> {
  const pruned: Pruned = { removed: [], bytes: 0, failed: [] };
  const uid = process.getuid?.();
  if (uid === undefined) return pruned; // no owners to tell apart (Windows)
  const dir = dirname(hostDir);
  const current = basename(hostDir);
  const graceMs = opts.graceMs ?? BUNDLE_GRACE_MS;
  const now = Date.now();
  const entries: BundleEntry[] = [];
  for (const name of await readdir(dir)) {
    if (bundleBase(name) === undefined) continue;
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (!st) continue;
    const mark = st.isDirectory() ? await lstat(join(dir, name, LEASE_FILE)).catch(() => undefined) : undefined;
    entries.push({ name, directory: st.isDirectory(), uid: st.uid, mtimeMs: st.mtimeMs, leased: mark?.isFile() === true });
  }
  if (!entries.some((e) => oldBundle(e, { current, uid, now, graceMs }))) return pruned;
  const mounted = await opts.mountedHostPaths();
  const dirs = [...new Set([dir, await realpath(dir)])];
  for (const name of staleBundles(entries, { dirs, current, uid, mounted, now, graceMs })) {
    try {
      const bytes = await removeUnlessRefreshed(dir, name, graceMs);
      if (bytes === undefined) continue;
      pruned.removed.push(name);
      pruned.bytes += bytes;
    } catch (err) {
      pruned.failed.push({ name, err });
    }
  }
  return pruned;
}

/**
 * Moves the bundle aside (atomic: a server starting now either finds it whole or builds it
 * again), then looks at its mtime once more: refreshed since it was judged, it goes back. Answers
 * the bytes freed, or undefined when nothing was deleted.
 */
async function removeUnlessRefreshed(dir: string, name: string, graceMs: number): Promise<number | undefined> {
  const path = join(dir, name);
  // Named as runtime-bundle.ts names what it moves aside, so a crash here leaves a leftover the next prune takes.
  const aside = asideName(join(dir, bundleBase(name) ?? name));
  try {
    await rename(path, aside);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined; // another server took it first
    throw err;
  }
  if (Date.now() - (await lstat(aside)).mtimeMs <= graceMs) {
    try {
      await rename(aside, path);
      return undefined;
    } catch (err) {
      // The name was taken meanwhile (a server built the bundle again): the moved copy is surplus.
      if (errCode(err) !== 'ENOTEMPTY' && errCode(err) !== 'EEXIST' && errCode(err) !== 'ENOTDIR') throw err;
    }
  }
  const bytes = await ownBytes(aside).catch(() => 0); // only for the log
  await rm(aside, { recursive: true, force: true });
  return bytes;
}

/** The bytes of the regular files under `dir` that have no other link. */
async function ownBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) bytes += await ownBytes(path);
    else if (e.isFile()) {
      const st = await lstat(path);
      if (st.nlink === 1) bytes += st.size;
    }
  }
  return bytes;
}
