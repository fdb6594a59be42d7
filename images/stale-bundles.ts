// Which runtime bundles in a directory are old enough, and unused enough, to delete (pure):
// every Kiln upgrade, node upgrade or daemon build leaves the previous bundle behind, up to
// 100 MB each where the temp dir is a tmpfs and node cannot be hard-linked.
import { join } from 'node:path';

/** How long a bundle nobody refreshed is kept: a node stopped for longer builds its own again. */
export const BUNDLE_GRACE_MS = 24 * 60 * 60_000;

/**
 * A bundle (`kiln-runtime-<hash>`, or `...-u<uid>`), or what a crashed build or move left of one
 * (`<bundle>.tmp-XXXXXX`, `<bundle>.old-<pid>-<hex>`): the names images/runtime-bundle.ts makes.
 */
const BUNDLE_NAME = /^(kiln-runtime-[0-9a-f]{16}(?:-u[0-9]+)?)(?:\.tmp-[A-Za-z0-9]{6}|\.old-[0-9]+-[0-9a-f]{8})?$/;

/** The bundle name `name` is or was a part of; undefined when it is none of Kiln's. */
export function bundleBase(name: string): string | undefined {
  return BUNDLE_NAME.exec(name)?.[1];
}

/** One entry of the directory, as lstat saw it. */
export interface BundleEntry {
  name: string;
  directory: boolean;
  uid: number;
  mtimeMs: number;
  /** It holds the lease mark (runtime-bundle.ts LEASE_FILE): its servers refresh its mtime. */
  leased: boolean;
}

export interface StaleFacts {
  /** The directory's paths (as given, and resolved): a mount names the bundle by either. */
  dirs: string[];
  /** This server's bundle's name, never taken. */
  current: string;
  /** This process's uid: another user's directories are never touched. */
  uid: number;
  /** Host paths mounted into any container on the engine (Driver.mountedHostPaths). */
  mounted: string[];
  now: number;
  graceMs: number;
}

/** Whether a mount names this path or something inside it (a bundle's hosts file). */
function mountedAt(path: string, mounted: string[]): boolean {
  return mounted.some((m) => m === path || m.startsWith(`${path}/`));
}

/** Whether the entry looks deletable before the engine is asked about mounts. */
export function oldBundle(e: BundleEntry, f: Omit<StaleFacts, 'mounted' | 'dirs'>): boolean {
  return e.directory && e.leased && bundleBase(e.name) !== undefined && e.name !== f.current && e.uid === f.uid && f.now - e.mtimeMs > f.graceMs;
}

/** The names of the entries to delete: leased Kiln bundle directories of this user, not current, unmounted, past the grace. */
export function staleBundles(entries: BundleEntry[], f: StaleFacts): string[] {
  return entries.filter((e) => oldBundle(e, f) && !f.dirs.some((d) => mountedAt(join(d, e.name), f.mounted))).map((e) => e.name);
}
