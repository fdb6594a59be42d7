// Images made of host files, built without a registry: a file tree (binaries at their host
// paths, with the shared libraries they load) streamed as a tar into `docker import`, tagged
// with the hash of its contents so an unchanged tree is never imported twice (DESIGN.md §7).
// The Node base image (base-image.ts) and the shell image (shell-image.ts) are two recipes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { withBuildLock } from './build-lock.js';
import { inspectImage } from './inspect.js';
import { readProgress } from './progress.js';

const execFileP = promisify(execFile);

/** Image label holding the hash of everything that went into the image. */
export const CONTENT_HASH_LABEL = 'io.kiln.content-hash';
/** Fixed mtime: the tar depends only on file contents. */
const MTIME = new Date('2000-01-01T00:00:00Z');

type TreeEntry =
  | { kind: 'dir'; mode: number }
  | { kind: 'file'; src: string; mode: number; size: number }
  | { kind: 'data'; data: Buffer; mode: number }
  | { kind: 'symlink'; target: string };

/** The image's file system, keyed by absolute path inside the image. */
export class ImageTree {
  readonly entries = new Map<string, TreeEntry>();

  private set(path: string, entry: TreeEntry): void {
    const old = this.entries.get(path);
    if (old && old.kind !== entry.kind) throw new Error(`base image: ${path} is both a ${old.kind} and a ${entry.kind}`);
    if (!old || entry.kind !== 'dir') this.entries.set(path, entry);
  }

  dir(path: string, mode = 0o755): void {
    if (path === '/') return;
    this.dir(posix.dirname(path));
    // An explicit mode (e.g. /tmp's 1777) wins over the default given when creating parents.
    const old = this.entries.get(path);
    if (old?.kind === 'dir' && mode === 0o755) return;
    if (old && old.kind !== 'dir') throw new Error(`base image: ${path} is both a ${old.kind} and a dir`);
    this.entries.set(path, { kind: 'dir', mode });
  }

  data(path: string, data: string | Buffer, mode = 0o644): void {
    this.dir(posix.dirname(path));
    this.set(path, { kind: 'data', data: Buffer.from(data), mode });
  }

  file(path: string, src: string, mode: number, size: number): void {
    this.dir(posix.dirname(path));
    // setuid bits make no sense here; everyone may read (the container runs as uid 1000).
    this.set(path, { kind: 'file', src, mode: (mode & 0o777) | 0o444, size });
  }

  symlink(path: string, target: string): void {
    this.dir(posix.dirname(path));
    this.set(path, { kind: 'symlink', target });
  }

  /**
   * Adds a host file at its own path, reproducing every symlink met on the way (in the
   * directories too, e.g. Debian's `/lib -> usr/lib`), so both the links and the real files
   * exist in the image exactly where the dynamic loader will look for them.
   */
  async hostFile(path: string, depth = 0): Promise<void> {
    if (depth > 40) throw new Error(`base image: too many symlinks resolving ${path}`);
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let cur = '/'; // always a real (symlink-free) directory
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') {
        cur = posix.dirname(cur);
        continue;
      }
      const next = posix.join(cur, part);
      const st = await lstat(next);
      if (st.isSymbolicLink()) {
        const target = await readlink(next);
        this.symlink(next, target);
        // Not normalised: `..` must apply after the link is resolved, which the loop does.
        const resolved = target.startsWith('/') ? target : `${cur}/${target}`;
        return this.hostFile([resolved, ...parts.slice(i + 1)].join('/'), depth + 1);
      }
      if (i < parts.length - 1) {
        if (!st.isDirectory()) throw new Error(`base image: ${next} is not a directory`);
        cur = next;
        continue;
      }
      if (!st.isFile()) throw new Error(`base image: ${next} is not a regular file`);
      this.file(next, next, st.mode, st.size);
    }
  }
}

/** Absolute paths of the shared libraries (and loader) that `ldd` says the binary needs. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let out: string;
  try {
    out = (await execFileP('ldd', [binary], { encoding: 'utf8' })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    // A static binary needs nothing.
    if (`${e.stdout ?? ''}${e.stderr ?? ''}`.includes('not a dynamic executable')) return [];
    if (e.code === 'ENOENT') throw new Error(`base image: \`ldd\` is not installed; it is needed to find the libraries of ${binary}`);
    throw new Error(`base image: ldd ${binary} failed: ${e.stderr ?? e.message}`);
  }
  const libs: string[] = [];
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.includes('=> not found')) throw new Error(`base image: ${binary} needs a missing library: ${line}`);
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
    // the vdso has no path and is provided by the kernel.
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)$/i.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nfn:x:1000:1000:fn:/tmp:/sbin/nologin\n';
const GROUP = 'root:x:0:\nfn:x:1000:\n';
// Only glibc's built-in sources, so nothing is dlopen'ed that the image lacks.
const NSSWITCH = 'passwd: files\ngroup: files\nhosts: files dns\n';

/**
 * The directories the dynamic loader searches without a cache or LD_LIBRARY_PATH, from
 * glibc's `ld.so --help`; the image has no /etc/ld.so.cache (copying the host's would make
 * every `ldconfig` on the host look like a new base image).
 */
async function loaderSearchPath(loader: string | undefined): Promise<string[]> {
  const fallback = ['/lib', '/usr/lib', '/lib64', '/usr/lib64'];
  if (!loader) return fallback;
  try {
    const out = (await execFileP(loader, ['--help'], { encoding: 'utf8' })).stdout;
    const dirs = [...out.matchAll(/^\s+(\/\S+) \(system search path\)$/gm)].map((m) => m[1]!);
    return dirs.length ? dirs : fallback;
  } catch {
    return fallback; // not glibc (e.g. musl has no --help)
  }
}

/** The dynamic loader among `sharedLibraries`' answer (glibc's ld-linux or musl's ld-musl). */
export function findLoader(libs: string[]): string | undefined {
  return libs.find((l) => /\/ld-[^/]*\.so/.test(l));
}

/** The users and files every host image has: root, fn (1000) and a sticky /tmp. */
export function addSystemFiles(tree: ImageTree): void {
  tree.data('/etc/passwd', PASSWD);
  tree.data('/etc/group', GROUP);
  tree.data('/etc/nsswitch.conf', NSSWITCH);
  tree.dir('/tmp', 0o1777);
}

/**
 * Adds the shared libraries `libs` at their host paths and returns the library directories
 * the loader would not search by itself: ldd may have found a library through the host's
 * loader cache, which the image lacks. They belong in LD_LIBRARY_PATH.
 */
export async function addLibraries(tree: ImageTree, libs: string[]): Promise<string[]> {
  for (const lib of libs) await tree.hostFile(lib);
  const loader = findLoader(libs);
  const system = await loaderSearchPath(loader);
  return [
    ...new Set(
      libs
        .filter((l) => l !== loader)
        .map((l) => posix.dirname(l))
        .filter((d) => !system.some((s) => d === s || d.startsWith(`${s}/glibc-hwcaps/`))),
    ),
  ];
}

async function treeHash(tree: ImageTree, recipe: string, changes: string[]): Promise<string> {
  const h = createHash('sha256');
  h.update(`${recipe}\n${changes.join('\n')}\n`);
  for (const path of [...tree.entries.keys()].sort()) {
    const e = tree.entries.get(path)!;
    switch (e.kind) {
      case 'dir':
        h.update(`d ${path} ${e.mode.toString(8)}\n`);
        break;
      case 'symlink':
        h.update(`l ${path} ${e.target}\n`);
        break;
      case 'data':
        h.update(`f ${path} ${e.mode.toString(8)} ${createHash('sha256').update(e.data).digest('hex')}\n`);
        break;
      case 'file':
        h.update(`f ${path} ${e.mode.toString(8)} ${await sha256File(e.src)}\n`);
        break;
    }
  }
  return h.digest('hex');
}

type EntryHeader = Partial<tar.Header> & { name: string };

function entryDone(pack: tar.Pack, header: EntryHeader, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (data) pack.entry(header, data, cb);
    else pack.entry(header, cb);
  });
}

/** Writes the tree into `pack` (parents first) and finalizes it. */
async function writeTree(tree: ImageTree, pack: tar.Pack): Promise<void> {
  const base = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: MTIME };
  for (const path of [...tree.entries.keys()].sort()) {
    const e = tree.entries.get(path)!;
    const name = path.slice(1);
    switch (e.kind) {
      case 'dir':
        await entryDone(pack, { ...base, name, type: 'directory', mode: e.mode });
        break;
      case 'symlink':
        await entryDone(pack, { ...base, name, type: 'symlink', linkname: e.target, mode: 0o777 });
        break;
      case 'data':
        await entryDone(pack, { ...base, name, type: 'file', mode: e.mode, size: e.data.length }, e.data);
        break;
      case 'file': {
        await new Promise<void>((resolve, reject) => {
          const entry = pack.entry({ ...base, name, type: 'file', mode: e.mode, size: e.size }, (err) =>
            err ? reject(err) : resolve(),
          );
          // tar-stream's entries are streamx streams; pipe() is their documented way in.
          createReadStream(e.src).on('error', reject).pipe(entry as unknown as NodeJS.WritableStream);
        });
        break;
      }
    }
  }
  pack.finalize();
}


export interface HostImageSpec {
  /** Repository to tag, e.g. `kiln/node`; `<repo>:latest` follows the newest build. */
  repo: string;
  /** The other tag (default: the first 12 hex digits of the content hash). */
  tag?: string;
  tree: ImageTree;
  /** `docker import` changes (ENV, WORKDIR, ...); part of the content hash. */
  changes: string[];
  /** Names the recipe and its version; part of the hash, so bumping it forces a rebuild. */
  recipe: string;
  /** Extra labels, not hashed (derived from the contents). */
  labels?: Record<string, string>;
  /** Where the files came from, for the progress message. */
  source: string;
  log?: (message: string) => void;
  /** Where the cross-process build lock lives (default: the OS temp dir). */
  lockDir?: string;
}

/**
 * Makes sure `<repo>:<tag>` and `<repo>:latest` hold exactly `spec.tree`; imports the image
 * only when its content hash changed. Returns `<repo>:<tag>`.
 */
export async function ensureHostImage(docker: Docker, spec: HostImageSpec): Promise<string> {
  const { repo, tree } = spec;
  const log = spec.log ?? ((): void => {});
  const hash = await treeHash(tree, spec.recipe, spec.changes);
  const version = spec.tag ?? hash.slice(0, 12);
  const tag = `${repo}:${version}`;
  const latest = `${repo}:latest`;
  const labels = Object.entries(spec.labels ?? {}).map(([k, v]) => ` ${k}=${v}`);
  const changes = [...spec.changes, `LABEL ${CONTENT_HASH_LABEL}=${hash}${labels.join('')}`];

  const current = async (): Promise<Docker.ImageInspectInfo | null> => {
    const info = await inspectImage(docker, tag);
    return info?.Config?.Labels?.[CONTENT_HASH_LABEL] === hash ? info : null;
  };
  const tagLatest = async (id: string): Promise<void> => {
    const l = await inspectImage(docker, latest);
    if (l?.Id !== id) await docker.getImage(id).tag({ repo, tag: 'latest' });
  };

  const existing = await current();
  if (existing) {
    await tagLatest(existing.Id);
    return tag;
  }

  return withBuildLock(
    `${repo.replace(/[^\w.-]+/g, '-')}-${hash.slice(0, 16)}`,
    async () => {
      // Another process may have built it while this one waited for the lock.
      const built = await current();
      if (built) {
        await tagLatest(built.Id);
        return tag;
      }
      const old = await inspectImage(docker, tag);
      log(`building ${tag} from ${spec.source} (${tree.entries.size} entries)`);
      const pack = tar.pack();
      const writing = writeTree(tree, pack);
      try {
        // tar-stream's pack is a streamx Readable, which docker-modem pipes like a Node one.
        const res = await docker.importImage(pack as unknown as NodeJS.ReadableStream, { repo, tag: version, changes });
        await Promise.all([readProgress(res), writing]);
      } catch (err) {
        pack.destroy();
        await writing.catch(() => {});
        throw new Error(`importing ${tag} failed: ${(err as Error).message}`);
      }
      const info = await inspectImage(docker, tag);
      if (!info) throw new Error(`importing ${tag} finished but the image is missing`);
      await tagLatest(info.Id);
      // The image this one replaces (same tag, other contents) is now dangling; drop it
      // unless something still uses it (Docker refuses then, which is fine).
      if (old && old.Id !== info.Id) await docker.getImage(old.Id).remove().catch(() => {});
      log(`built ${tag} (${info.Id.slice(7, 19)}, ${(info.Size / 1e6).toFixed(0)} MB)`);
      return tag;
    },
    spec.lockDir ? { dir: spec.lockDir } : {},
  );
}
