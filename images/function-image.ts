// Function images built from a function's directory (func.yaml + code) without a registry:
// a build context made with tar-stream (the files plus a generated Dockerfile) goes into
// the engine's build, FROM the local base image (DESIGN.md §7).
import { createReadStream, existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { NODE_BASE_LATEST } from './base-image.js';
import { readFuncYaml, splitCommand } from './func-yaml.js';
import { inspectImage } from './inspect.js';
import { DockerProgressError, readProgress } from './progress.js';

export interface BuildFunctionImageOptions {
  /** npm packages to copy, with their `dependencies` closure, into the image's node_modules/. */
  vendor?: string[];
  /** The node_modules directory to vendor from (default: this project's). */
  nodeModulesFrom?: string;
  /** Image to build FROM (default `kiln/node:latest`); must exist locally. */
  baseImage?: string;
  /** Extra image labels. */
  labels?: Record<string, string>;
  /** The build's output lines, as they come. */
  log?: (line: string) => void;
}

/** Names never copied from a function directory. */
const SKIP = new Set(['.git']);
const MTIME = new Date('2000-01-01T00:00:00Z');
const CONTEXT_DIR = 'function';

type ContextEntry =
  | { kind: 'dir' }
  | { kind: 'file'; src: string; mode: number; size: number }
  | { kind: 'symlink'; target: string };

/** The build context, keyed by path inside the tar (no leading slash). */
class Context {
  readonly entries = new Map<string, ContextEntry>();

  dir(path: string): void {
    if (path === '.' || path === '') return;
    if (this.entries.has(path)) return;
    this.dir(dirname(path));
    this.entries.set(path, { kind: 'dir' });
  }

  /** First writer wins: the function's own files shadow vendored ones. */
  add(path: string, entry: ContextEntry): void {
    if (this.entries.has(path)) return;
    this.dir(dirname(path));
    this.entries.set(path, entry);
  }

  /** Copies a host directory tree to `to`, skipping `skip(name, relPath)` matches. */
  async copyTree(from: string, to: string, skip: (name: string, rel: string) => boolean): Promise<void> {
    this.dir(to);
    const walk = async (abs: string, rel: string): Promise<void> => {
      for (const name of (await readdir(abs)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        if (skip(name, r)) continue;
        const src = join(abs, name);
        const st = await lstat(src);
        const dest = `${to}/${r}`;
        if (st.isDirectory()) {
          this.dir(dest);
          await walk(src, r);
        } else if (st.isFile()) {
          this.add(dest, { kind: 'file', src, mode: st.mode, size: st.size });
        } else if (st.isSymbolicLink()) {
          this.add(dest, { kind: 'symlink', target: await readlink(src) });
        }
        // Sockets, fifos and devices have no place in an image.
      }
    };
    await walk(from, '');
  }
}

/** The nearest node_modules above this module (this project's, from src or dist). */
function defaultNodeModules(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('no node_modules directory found above images/; pass nodeModulesFrom');
    dir = up;
  }
}

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function readPackageJson(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * Node's resolution, confined to `root`: from the requiring package's directory upward,
 * each `node_modules/<name>`, ending at `root/<name>`.
 */
function resolvePackage(root: string, from: string, name: string): string | null {
  for (let dir = from; dir.startsWith(root + sep); dir = dirname(dir)) {
    if (basename(dir) === 'node_modules') continue;
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  const top = join(root, name);
  return existsSync(join(top, 'package.json')) ? top : null;
}

/** Directories (inside `root`) of `names` and everything they depend on at run time. */
export async function dependencyClosure(root: string, names: string[]): Promise<string[]> {
  const found = new Set<string>();
  const queue: Array<{ from: string; name: string; optional: boolean; by: string }> = names.map((name) => ({
    from: root,
    name,
    optional: false,
    by: 'vendor list',
  }));
  for (let item = queue.shift(); item; item = queue.shift()) {
    const dir = resolvePackage(root, item.from, item.name);
    if (!dir) {
      if (item.optional) continue;
      throw new Error(`cannot vendor ${item.name} (needed by ${item.by}): not found in ${root}`);
    }
    if (found.has(dir)) continue;
    found.add(dir);
    const pkg = await readPackageJson(dir);
    const by = pkg.name ?? item.name;
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ from: dir, name: dep, optional: false, by });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ from: dir, name: dep, optional: true, by });
  }
  return [...found].sort();
}

/** The Dockerfile for a function directory; exec-form ENTRYPOINT since the image has no shell. */
export function functionDockerfile(baseImage: string, entrypoint: string[], cmd?: string[]): string {
  const lines = [
    `FROM ${baseImage}`,
    `COPY ${CONTEXT_DIR}/ /function/`,
    'WORKDIR /function',
    `ENTRYPOINT ${JSON.stringify(entrypoint)}`,
  ];
  if (cmd?.length) lines.push(`CMD ${JSON.stringify(cmd)}`);
  return `${lines.join('\n')}\n`;
}

async function writeContext(ctx: Context, dockerfile: string, pack: tar.Pack): Promise<void> {
  const base = { uid: 0, gid: 0, mtime: MTIME };
  const entry = (header: Partial<tar.Header> & { name: string }, data?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (data) pack.entry(header, data, cb);
      else pack.entry(header, cb);
    });
  const df = Buffer.from(dockerfile);
  await entry({ ...base, name: 'Dockerfile', type: 'file', mode: 0o644, size: df.length }, df);
  for (const path of [...ctx.entries.keys()].sort()) {
    const e = ctx.entries.get(path)!;
    if (e.kind === 'dir') {
      await entry({ ...base, name: `${path}/`, type: 'directory', mode: 0o755 });
    } else if (e.kind === 'symlink') {
      await entry({ ...base, name: path, type: 'symlink', linkname: e.target, mode: 0o777 });
    } else {
      // World-readable: the function runs as uid 1000 and the files belong to root.
      const mode = (e.mode & 0o755) | 0o444;
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...base, name: path, type: 'file', mode, size: e.size }, (err) =>
          err ? reject(err) : resolve(),
        );
        createReadStream(e.src).on('error', reject).pipe(sink as unknown as NodeJS.WritableStream);
      });
    }
  }
  pack.finalize();
}

/**
 * Builds `tag` from the function directory `dir`: its files go to /function, the
 * ENTRYPOINT comes from func.yaml's `entrypoint` (and CMD from `cmd`). Throws an Error with
 * the engine's message when the build fails. Resolves with `tag`.
 */
export async function buildFunctionImage(
  docker: Docker,
  dir: string,
  tag: string,
  opts: BuildFunctionImageOptions = {},
): Promise<string> {
  const func = await readFuncYaml(dir);
  if (!func.entrypoint?.trim()) {
    throw new Error(`func.yaml in ${dir} has no entrypoint (e.g. "entrypoint: node func.js")`);
  }
  const entrypoint = splitCommand(func.entrypoint);
  const cmd = func.cmd ? splitCommand(func.cmd) : undefined;
  const baseImage = opts.baseImage ?? NODE_BASE_LATEST;

  // The classic builder would try to pull a missing base, which cannot work here; say so plainly.
  if (!(await inspectImage(docker, baseImage))) {
    const how = baseImage.startsWith('kiln/node')
      ? 'build it with `node dist/images/build-base-cli.js`'
      : 'build or load it first (no registry is reachable to pull it)';
    throw new Error(`base image ${baseImage} does not exist locally; ${how}`);
  }

  const ctx = new Context();
  await ctx.copyTree(dir, CONTEXT_DIR, (name) => SKIP.has(name));
  if (opts.vendor?.length) {
    const root = await realpath(opts.nodeModulesFrom ?? defaultNodeModules());
    for (const pkgDir of await dependencyClosure(root, opts.vendor)) {
      const rel = relative(root, pkgDir).split(sep).join('/');
      // A package's own node_modules/ is copied only for the nested packages in the closure.
      await ctx.copyTree(await realpath(pkgDir), `${CONTEXT_DIR}/node_modules/${rel}`, (_name, r) => r === 'node_modules');
    }
  }

  const pack = tar.pack();
  const writing = writeContext(ctx, functionDockerfile(baseImage, entrypoint, cmd), pack);
  const labels = { 'io.kiln.function': func.name ?? basename(dir), ...opts.labels };
  try {
    const res = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, {
      t: tag,
      rm: true,
      forcerm: true,
      labels,
    });
    await Promise.all([
      readProgress(res, (ev) => {
        if (ev.stream && opts.log) for (const l of ev.stream.split('\n')) if (l.trim()) opts.log(l);
      }),
      writing,
    ]);
  } catch (err) {
    pack.destroy();
    await writing.catch(() => {});
    const detail = err instanceof DockerProgressError ? `${err.message}\n${err.output.trim()}` : (err as Error).message;
    throw new Error(`building image ${tag} from ${dir} failed: ${detail}`);
  }
  return tag;
}
