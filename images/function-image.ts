// Function images built from a function's directory (func.yaml + code) without a registry:
// a build context made with tar-stream (the files plus a generated Dockerfile) goes into
// the engine's build, FROM the local base image (DESIGN.md §7). Three kinds: http-stream
// (files in /function, ENTRYPOINT from func.yaml), lambda (files in /var/task, where Kiln's
// runtime daemon finds `bootstrap`) and dockerfile (the directory's own Dockerfile, as Fn's
// `runtime: docker`).
import { createReadStream, existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { NODE_BASE_LATEST } from './base-image.js';
import { readDockerIgnore } from './dockerignore.js';
import { readFuncYaml, splitCommand } from './func-yaml.js';
import { inspectImage } from './inspect.js';
import { DockerProgressError, readProgress } from './progress.js';

export type ImageKind = 'http-stream' | 'lambda' | 'dockerfile';

/** Where Lambda functions' files live, as on AWS (LAMBDA_TASK_ROOT). */
export const LAMBDA_TASK_ROOT = '/var/task';

export interface BuildFunctionImageOptions {
  /** How the image is made (default `http-stream`). */
  kind?: ImageKind;
  /** npm packages to copy, with their `dependencies` closure, into the image's node_modules/. */
  vendor?: string[];
  /** The node_modules directory to vendor from (default: this project's). */
  nodeModulesFrom?: string;
  /** Image to build FROM (default `kiln/node:latest`); must exist locally. Unused for `dockerfile`. */
  baseImage?: string;
  /** Extra image labels. */
  labels?: Record<string, string>;
  /** The build's output lines, as they come. */
  log?: (line: string) => void;
  /**
   * Docker build args (`docker build --build-arg`): they reach a `dockerfile` kind's own
   * `ARG`s; the generated Dockerfiles of the other kinds declare none, so there they are unused.
   */
  buildArgs?: Record<string, string>;
  /** Build without the engine's layer cache (`docker build --no-cache`). */
  noCache?: boolean;
  /**
   * Paths under the function directory (`/`-separated) left out of the context, besides what
   * its `.dockerignore` lists: the functions and app file of an app's root (see cli/build.ts).
   */
  leaveOut?: readonly string[];
}

/** Names never copied from a function directory. */
const SKIP = new Set(['.git']);

/**
 * What of a function directory goes into its build context: not `.git`, not what its
 * `.dockerignore` lists (as `docker build` leaves it out, Fn's build), not `leaveOut`.
 */
async function functionFiles(dir: string, leaveOut: readonly string[] = []): Promise<(name: string, rel: string, isDir: boolean) => boolean | 'walk'> {
  const ignore = await readDockerIgnore(dir);
  const out = new Set(leaveOut);
  return (name, rel, isDir) => {
    if (SKIP.has(name) || out.has(rel)) return true;
    if (!ignore.ignores(rel)) return false;
    // As Docker: an ignored directory is walked only when an exception may let a file back in.
    return isDir && ignore.hasExceptions ? 'walk' : true;
  };
}
const MTIME = new Date('2000-01-01T00:00:00Z');
const CONTEXT_DIR = 'function';

type ContextEntry =
  | { kind: 'dir' }
  | { kind: 'file'; src: string; mode: number; size: number }
  | { kind: 'symlink'; target: string };

/** The build context, keyed by path inside the tar (no leading slash). */
export class Context {
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

  /**
   * Copies a host directory tree to `to`. `skip(name, relPath, isDir)` leaves an entry out:
   * `true` with what is under it; `'walk'` (a directory) leaves the directory itself out but
   * still copies what under it is not skipped (a `.dockerignore` exception inside it).
   */
  async copyTree(from: string, to: string, skip: (name: string, rel: string, isDir: boolean) => boolean | 'walk'): Promise<void> {
    this.dir(to);
    const walk = async (abs: string, rel: string): Promise<void> => {
      for (const name of (await readdir(abs)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        const src = join(abs, name);
        const st = await lstat(src);
        const skipped = skip(name, r, st.isDirectory());
        if (skipped === true) continue;
        const dest = to ? `${to}/${r}` : r;
        if (st.isDirectory()) {
          if (skipped !== 'walk') this.dir(dest);
          await walk(src, r);
        } else if (skipped === 'walk') {
          continue;
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

/**
 * The Dockerfile for a function directory; exec-form ENTRYPOINT and CMD since the image has no
 * shell. As Fn's, either may be left out (one of the two is needed to run anything).
 */
export function functionDockerfile(baseImage: string, entrypoint: string[] | undefined, cmd?: string[]): string {
  const lines = [`FROM ${baseImage}`, `COPY ${CONTEXT_DIR}/ /function/`, 'WORKDIR /function'];
  if (entrypoint?.length) lines.push(`ENTRYPOINT ${JSON.stringify(entrypoint)}`);
  if (cmd?.length) lines.push(`CMD ${JSON.stringify(cmd)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The search paths Lambda gives a .zip-packaged function, so a custom runtime's own libraries
 * (`lib/` beside bootstrap, `/opt/lib` of a layer) and programs (`/opt/bin`) are found. In
 * the image's ENV, as the AWS base images carry them: the daemon passes the image's values on,
 * and a fn's config may still override them (the service lets customers set these two).
 */
export const LAMBDA_ZIP_PATHS = {
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
} as const;

/**
 * The Dockerfile of a Lambda-format function: its files in /var/task. No ENTRYPOINT: Kiln's
 * runtime daemon is the container's entrypoint and starts /var/task/bootstrap; the CMD names
 * it for anything that runs the image without the daemon.
 */
export function lambdaDockerfile(baseImage: string): string {
  return [
    `FROM ${baseImage}`,
    `COPY ${CONTEXT_DIR}/ ${LAMBDA_TASK_ROOT}/`,
    `WORKDIR ${LAMBDA_TASK_ROOT}`,
    ...Object.entries(LAMBDA_ZIP_PATHS).map(([k, v]) => `ENV ${k}=${v}`),
    `CMD ["${LAMBDA_TASK_ROOT}/bootstrap"]`,
    '',
  ].join('\n');
}

/** A failed image build, with the engine's output and the step it failed at. */
export class ImageBuildError extends Error {
  /** The last `Step N/M : INSTRUCTION` line before the failure, if the engine printed one. */
  readonly step: string | undefined;

  constructor(message: string, readonly output: string) {
    super(message);
    this.name = 'ImageBuildError';
    this.step = [...output.matchAll(/^Step \d+\/\d+ : .*$/gm)].pop()?.[0];
  }
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
      // World-readable: the function runs as KILN_FN_USER (any uid) and the files belong to root.
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

export interface FunctionBuildContext {
  dockerfile: string;
  /** The image the Dockerfile builds FROM when Kiln wrote it (checked to exist first). */
  baseImage: string | null;
  context: Context;
}

/** What goes into the engine: the Dockerfile and the files, without talking to Docker. */
export async function functionBuildContext(dir: string, opts: BuildFunctionImageOptions = {}): Promise<FunctionBuildContext> {
  const kind = opts.kind ?? 'http-stream';
  const ctx = new Context();
  if (kind === 'dockerfile') {
    let dockerfile: string;
    try {
      dockerfile = await readFile(join(dir, 'Dockerfile'), 'utf8');
    } catch {
      throw new Error(`no Dockerfile in ${dir} (func.yaml says "runtime: docker")`);
    }
    // The Dockerfile goes in first, on its own; everything else as it is in the directory.
    const files = await functionFiles(dir, opts.leaveOut);
    await ctx.copyTree(dir, '', (name, rel, isDir) => (rel === 'Dockerfile' ? true : files(name, rel, isDir)));
    return { dockerfile, baseImage: null, context: ctx };
  }
  const baseImage = opts.baseImage ?? NODE_BASE_LATEST;
  let dockerfile: string;
  if (kind === 'lambda') {
    dockerfile = lambdaDockerfile(baseImage);
  } else {
    const func = await readFuncYaml(dir);
    const entrypoint = func.entrypoint?.trim();
    const cmd = func.cmd?.trim();
    if (!entrypoint && !cmd) {
      throw new Error(`func.yaml in ${dir} has no entrypoint and no cmd; one is needed (e.g. "entrypoint: node func.js")`);
    }
    dockerfile = functionDockerfile(baseImage, entrypoint ? splitCommand(entrypoint) : undefined, cmd ? splitCommand(cmd) : undefined);
  }
  await ctx.copyTree(dir, CONTEXT_DIR, await functionFiles(dir, opts.leaveOut));
  if (opts.vendor?.length) {
    const root = await realpath(opts.nodeModulesFrom ?? defaultNodeModules());
    for (const pkgDir of await dependencyClosure(root, opts.vendor)) {
      const rel = relative(root, pkgDir).split(sep).join('/');
      // A package's own node_modules/ is copied only for the nested packages in the closure.
      await ctx.copyTree(await realpath(pkgDir), `${CONTEXT_DIR}/node_modules/${rel}`, (_name, r) => r === 'node_modules');
    }
  }
  return { dockerfile, baseImage, context: ctx };
}

/**
 * Builds `tag` from the function directory `dir` (see ImageKind). Throws an ImageBuildError
 * with the engine's message and output when the build fails. Resolves with `tag`.
 */
export async function buildFunctionImage(
  docker: Docker,
  dir: string,
  tag: string,
  opts: BuildFunctionImageOptions = {},
): Promise<string> {
  const func = await readFuncYaml(dir);
  const { dockerfile, baseImage, context } = await functionBuildContext(dir, opts);

  // The classic builder would try to pull a missing base, which cannot work here; say so plainly.
  if (baseImage && !(await inspectImage(docker, baseImage))) {
    const how = baseImage.startsWith('kiln/node')
      ? 'build it with `node dist/scripts/build-base.js`'
      : 'build or load it first (no registry is reachable to pull it)';
    throw new Error(`base image ${baseImage} does not exist locally; ${how}`);
  }

  const pack = tar.pack();
  const writing = writeContext(context, dockerfile, pack);
  const labels = { 'io.kiln.function': func.name ?? basename(dir), ...opts.labels };
  try {
    const res = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, {
      t: tag,
      rm: true,
      forcerm: true,
      labels,
      ...(opts.buildArgs && Object.keys(opts.buildArgs).length && { buildargs: opts.buildArgs }),
      ...(opts.noCache && { nocache: true }),
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
    const output = err instanceof DockerProgressError ? err.output : '';
    const detail = output ? `${(err as Error).message}\n${output.trim()}` : (err as Error).message;
    throw new ImageBuildError(`building image ${tag} from ${dir} failed: ${detail}`, output);
  }
  return tag;
}
