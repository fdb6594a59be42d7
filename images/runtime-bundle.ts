// The Lambda layer's runtime bundle (DESIGN.md §6): a host directory holding the daemon, the
// host's node binary and every shared library node loads, bind-mounted read-only at /kiln.
// Node runs through the bundled dynamic loader with --library-path, so it needs nothing
// from the function's image (which may be busybox, musl-based, or empty).
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { touchBundle } from './bundle-lease.js';
import { findLoader, sha256File, sharedLibraries } from './host-image.js';

/** Where the bundle is mounted in the container. */
export const BUNDLE_MOUNT = '/kiln';
/**
 * The Lambda sandbox's /etc/hosts, bound there when it has no network (the engine writes none
 * then): its names on loopback, as agent/lambda.ts's LAMBDA_EXTRA_HOSTS gives them otherwise.
 */
export const SANDBOX_HOSTS = '127.0.0.1\tlocalhost sandbox.localdomain sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n';
/**
 * The mark of a bundle that its servers keep a lease on (bundle-lease.ts): only such a bundle is
 * ever pruned. Kiln before the lease never refreshed its bundle, so an old node still running
 * (a rolling upgrade, nodes sharing KILN_SHARED_DIR) would lose its bundle to the new ones.
 */
export const LEASE_FILE = 'lease';
const LEASE_TEXT = "This bundle's directory mtime is its lease: the servers using it refresh it hourly, and one not refreshed for a day is deleted.\n";
/** Bump when the layout below changes. */
const RECIPE_VERSION = '2';

export interface RuntimeBundleOptions {
  /** The daemon, a single bundled JS file (e.g. dist/runtime/daemon.js). */
  daemonJs: string;
  /** Directory holding the bundle directories (default: the OS temp dir). */
  dir?: string;
  /** The node binary to bundle (default: the running one). */
  nodePath?: string;
}

export interface RuntimeBundle {
  /** The bundle on the host, to bind-mount read-only at `mount`. */
  hostDir: string;
  /** Where the command expects it inside the container (BUNDLE_MOUNT). */
  mount: string;
  /** The container's argv that starts the daemon, with container paths. */
  command: string[];
  /** SANDBOX_HOSTS on the host, in the bundle. */
  hostsFile: string;
}

interface BundleFile {
  /** Path inside the bundle. */
  name: string;
  /** Host file (symlinks are followed, so the real contents land under this name); or its `content`. */
  src: string;
  content?: Buffer;
  mode: number;
  size: number;
  sha256: string;
  /** The host file's owner: node hard-linked into the bundle keeps it. */
  uid: number;
}

/**
 * Files above this size (node itself) are known by their identity (inode, size, times), not
 * by reading them: hashing 100 MB at every server start cost a quarter second and ~35 MB of
 * resident memory the server never gave back. A reinstalled node changes its identity.
 */
const HASH_LIMIT = 4 * 1024 * 1024;

async function bundleFile(name: string, src: string, mode: number): Promise<BundleFile> {
  const st = await stat(src);
  if (!st.isFile()) throw new Error(`runtime bundle: ${src} is not a regular file`);
  // Not ctime: the hard link made below changes the link count, and so the ctime, of node itself.
  if (st.size > HASH_LIMIT) return { name, src, mode, size: st.size, sha256: `identity ${src} ${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`, uid: st.uid };
  // The rest (the daemon and node's libraries, a few MB) are hashed at every call: the server
  // prepares its bundle once, at start-up.
  return { name, src, mode, size: st.size, sha256: await sha256File(src), uid: st.uid };
}

/** A file the bundle holds as written here, not copied from the host. */
function contentFile(name: string, content: string, mode: number): BundleFile {
  const bytes = Buffer.from(content);
  return { name, src: '', content: bytes, mode, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), uid: process.getuid?.() ?? 0 };
}

async function collect(opts: RuntimeBundleOptions): Promise<{ files: BundleFile[]; loader: string | undefined }> {
  const node = await realpath(opts.nodePath ?? process.execPath);
  const libs = await sharedLibraries(node);
  const loader = findLoader(libs);
  const files = [
    await bundleFile('node', node, 0o755), await bundleFile('daemon.js', opts.daemonJs, 0o644), contentFile('hosts', SANDBOX_HOSTS, 0o644),
    contentFile(LEASE_FILE, LEASE_TEXT, 0o644),
  ];
  const bySoname = new Map<string, string>();
  for (const lib of libs) {
    const name = basename(lib);
    const real = await realpath(lib);
    const seen = bySoname.get(name);
    if (seen === real) continue;
    if (seen) throw new Error(`runtime bundle: two libraries named ${name}: ${seen} and ${real}`);
    bySoname.set(name, real);
    // The loader is run as the command, so it must be executable.
    files.push(await bundleFile(`lib/${name}`, real, lib === loader ? 0o755 : 0o644));
  }
  return { files, loader: loader && basename(loader) };
}

function bundleHash(files: BundleFile[]): string {
  const h = createHash('sha256').update(`kiln-runtime ${RECIPE_VERSION}\n`);
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    h.update(`${f.name} ${f.mode.toString(8)} ${f.sha256}\n`);
  }
  return h.digest('hex');
}

/**
 * Whether only Kiln's user or root (or `owner`, whose file it is) can have written this, and no
 * one else can change it. The bundle's name is predictable and its default place, the temp dir,
 * is everyone's: a directory planted there by another local user would otherwise run as the
 * daemon of every Lambda container, with every call's payload.
 */
function trusted(st: Stats, owner?: number): boolean {
  const me = process.getuid?.();
  return (me === undefined || st.uid === me || st.uid === 0 || st.uid === owner) && (st.mode & 0o022) === 0;
}

/**
 * True when `dir` holds every file at its size (a tmp cleaner may have removed some), all of it
 * trusted, with no links anywhere.
 */
async function complete(dir: string, files: BundleFile[]): Promise<boolean> {
  for (const d of [dir, join(dir, 'lib')]) {
    const st = await lstat(d).catch(() => null);
    if (!st?.isDirectory() || !trusted(st)) return false;
  }
  for (const f of files) {
    const st = await lstat(join(dir, f.name)).catch(() => null);
    if (!st?.isFile() || st.size !== f.size || !trusted(st, f.uid)) return false;
  }
  return true;
}

async function writeBundle(dir: string, files: BundleFile[]): Promise<void> {
  await mkdir(join(dir, 'lib'));
  // The container runs as KILN_FN_USER (any uid): everything world-readable, directories searchable.
  await chmod(dir, 0o755);
  await chmod(join(dir, 'lib'), 0o755);
  for (const f of files) {
    const dest = join(dir, f.name);
    if (f.content !== undefined) {
      await writeFile(dest, f.content);
      await chmod(dest, f.mode);
      continue;
    }
    // node (100 MB) is hard-linked: it costs no space though every daemon build makes a new
    // bundle, and it is known by its inode anyway. A link shares the mode, so only when the
    // host file already has the wanted one. Small files are copied: a rebuild may rewrite
    // them in place, which must not change a bundle named by its contents.
    const st = await stat(f.src);
    if (st.size > HASH_LIMIT && (st.mode & 0o7777) === f.mode) {
      try {
        await link(f.src, dest);
        continue;
      } catch {
        // another file system, or links not allowed: copy
      }
    }
    await copyFile(f.src, dest);
    await chmod(dest, f.mode);
  }
}

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * Makes the bundle directory `<dir>/kiln-runtime-<hash>` for this daemon and node, named by
 * the hash of its contents so it is a cache reused across runs. Built in a temp sibling and
 * renamed into place, so other processes see either nothing or a complete bundle.
 */
export async function prepareRuntimeBundle(opts: RuntimeBundleOptions): Promise<RuntimeBundle> {
  const { files, loader } = await collect(opts);
  const base = opts.dir ?? tmpdir();
  const shared = join(base, `kiln-runtime-${bundleHash(files).slice(0, 16)}`);
  const at = (name: string): string => posix.join(BUNDLE_MOUNT, name);
  const node = [at('node'), at('daemon.js')];
  const command = loader ? [at(`lib/${loader}`), '--library-path', at('lib'), ...node] : node;
  // The shared name first; when something Kiln may not trust or move holds it, a name of this
  // user's own, so the next start finds that copy rather than building another.
  const names = [shared, `${shared}-u${process.getuid?.() ?? 0}`];
  for (const hostDir of names) {
    if (await placeBundle(hostDir, files)) return { hostDir, mount: BUNDLE_MOUNT, command, hostsFile: join(hostDir, 'hosts') };
  }
  // Both held (another local user can make both names first): a copy of a name no one can
  // foresee serves this run, and is not found again.
  const hostDir = await builtCopy(shared, files);
  return { hostDir, mount: BUNDLE_MOUNT, command, hostsFile: join(hostDir, 'hosts') };
}

/** A bundle written whole into a fresh directory `<name>.tmp-XXXXXX`; nothing is left if it fails. */
async function builtCopy(name: string, files: BundleFile[]): Promise<string> {
  const tmp = await mkdtemp(`${name}.tmp-`);
  try {
    await writeBundle(tmp, files);
    return tmp;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Where a bundle is moved before it is deleted (images/stale-bundles.ts knows the form as a leftover). */
export function asideName(hostDir: string): string {
  return `${hostDir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Refused for want of permission: a name another user holds where Kiln may not move it. */
const notPermitted = (err: unknown): boolean => errCode(err) === 'EPERM' || errCode(err) === 'EACCES';

/** Makes `hostDir` a complete, trusted bundle, or finds it one; false when its name cannot be had. */
async function placeBundle(hostDir: string, files: BundleFile[]): Promise<boolean> {
  // Its lease (bundle-lease.ts) is taken before it is looked at: a server pruning it meanwhile
  // either sees the fresh mtime and puts it back, or has moved it away and it is built again.
  // One Kiln may not refresh (another user's: only the owner may set a directory's times) is not
  // used, since others would take it as unused a day on: this user's own name is.
  const leased = await touchBundle(hostDir).then(() => true, (err: unknown) => !notPermitted(err));
  if (!leased) return false;
  if (await complete(hostDir, files)) return true;
  await mkdir(dirname(hostDir), { recursive: true });
  // A damaged or untrusted bundle (not a half-built one: those never carry the final name) is
  // moved aside atomically, then deleted; ENOENT means it was not there or another process moved
  // it. One Kiln may not move (another user's, in a sticky temp dir) stays, and is not used.
  const aside = asideName(hostDir);
  const movable = await rename(hostDir, aside).then(
    () => rm(aside, { recursive: true, force: true }).then(() => true),
    (err: unknown) => {
      if (notPermitted(err)) return false;
      if (errCode(err) !== 'ENOENT') throw err;
      return true;
    },
  );
  if (!movable) return false;

  let tmp: string | undefined;
  try {
    tmp = await builtCopy(hostDir, files);
    await rename(tmp, hostDir);
    return true;
  } catch (err) {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
    // Another process renamed its copy into place first: the same contents, use it.
    if (await complete(hostDir, files)) return true;
    if (errCode(err) === 'ENOTEMPTY' || errCode(err) === 'EEXIST' || notPermitted(err)) return false;
    throw err;
  }
}
