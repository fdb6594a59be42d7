// fn's init images (`fn init --init-image IMAGE`): the image runs once with FN_FUNCTION_NAME set
// and writes a tar of the function's files to stdout, func.init.yaml among them. Everything is
// read and checked before a file is written, so a failing image leaves the directory as it was.
import { posix } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { isMap, parseDocument, stringify } from 'yaml';
import { CliError } from './errors.js';
import { triggersFor, type FuncFields } from './templates/index.js';

/** The file the image describes the function in; merged into func.yaml, never written. */
export const INIT_YAML = 'func.init.yaml';

/** fn takes these from func.init.yaml; the rest of func.yaml comes from init's flags and defaults. */
export const INIT_YAML_FIELDS = ['runtime', 'build_image', 'run_image', 'entrypoint', 'cmd', 'format', 'content_type', 'expects', 'build'] as const;

/** Bound on what an image may hand over (the files are held in memory until all are checked). */
export const MAX_INIT_BYTES = 256 * 1024 * 1024;
/** How much of the image's stderr an error quotes. */
const STDERR_KEPT = 4096;

export interface InitFile {
  content: Buffer;
  /** Permission bits as the tar gives them (an executable stays executable). */
  mode: number;
}

export interface InitImageOutput {
  /** Relative paths (posix), func.init.yaml included. */
  files: Map<string, InitFile>;
  dirs: string[];
  /** Entries neither file nor directory (links, devices), skipped as fn skips them: "name (type)". */
  skipped: string[];
}

/**
 * An entry's path inside the function's directory, normalised ("./src/a" is "src/a"); "" for the
 * directory itself; null for one that would land outside it (absolute, or climbing with "..").
 */
export function initEntryPath(name: string): string | null {
  if (name.startsWith('/')) return null;
  const p = posix.normalize(name).replace(/\/+$/, '');
  if (p === '.' || p === '') return '';
  if (p === '..' || p.startsWith('../')) return null;
  return p;
}

/** Reads a tar stream into memory: files and directories, checked paths, bounded size. */
export function readInitTar(input: NodeJS.ReadableStream, image: string): Promise<InitImageOutput> {
  const out: InitImageOutput = { files: new Map(), dirs: [], skipped: [] };
  let total = 0;
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      // The extractor's own error says why; an entry torn down with it is no second error.
      stream.on('error', () => undefined);
      const rel = initEntryPath(header.name);
      if (rel === null) {
        stream.resume();
        extract.destroy(new CliError(
          `init image ${image} wrote "${header.name}", outside the function's directory; nothing was written`,
          'An init image\'s tar holds paths relative to the function\'s directory (e.g. func.init.yaml, src/main.rs).',
        ));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (data: unknown) => {
        const c = data as Buffer;
        total += c.length;
        if (total > MAX_INIT_BYTES) {
          extract.destroy(new CliError(`init image ${image} wrote more than ${MAX_INIT_BYTES / 1024 / 1024} MiB of files; nothing was written`));
          return;
        }
        chunks.push(c);
      });
      stream.on('end', () => {
        if (rel !== '' && header.type === 'directory') out.dirs.push(rel);
        else if (rel !== '' && (header.type === 'file' || header.type === 'contiguous-file')) {
          out.files.set(rel, { content: Buffer.concat(chunks), mode: (header.mode ?? 0o644) & 0o777 });
        } else if (rel !== '') out.skipped.push(`${rel} (${header.type ?? 'unknown'})`);
        next();
      });
    });
    extract.on('finish', () => resolve(out));
    extract.on('error', (err: Error) => reject(err instanceof CliError ? err : untarFailed(image, err)));
    input.on('error', (err: Error) => extract.destroy(err));
    input.pipe(extract);
  });
}

const untarFailed = (image: string, err: Error): CliError =>
  // fn's words first.
  new CliError(
    `Error un-tarring the output of the init-image ${image}: ${err.message}; nothing was written`,
    'An init image writes a tar of the function\'s files to stdout and nothing else (its messages go to stderr).',
  );

/**
 * Runs `image` as fn does (`docker run -e FN_FUNCTION_NAME=<name> IMAGE`), reads the tar it writes
 * and removes the container. Refuses an image that exits non-zero, quoting its stderr.
 */
export async function runInitImage(docker: Docker, image: string, name: string): Promise<InitImageOutput> {
  await ensureImage(docker, image);
  const c = await docker.createContainer({
    Image: image,
    Env: [`FN_FUNCTION_NAME=${name}`],
    Labels: { 'io.kiln.cli': 'init-image' },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  try {
    const attached = await c.attach({ stream: true, stdout: true, stderr: true });
    const stdout = new PassThrough();
    let stderr = '';
    const errSink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        // Its last words are the ones that say why.
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
        cb();
      },
    });
    c.modem.demuxStream(attached, stdout, errSink);
    attached.on('end', () => stdout.end());
    const read = readInitTar(stdout, image);
    // What it writes after a bad tar (or past the bound) is not read: it is stopped, not left
    // blocked on a full pipe; the tar's error is the answer then.
    let tarFailed = false;
    read.catch(() => {
      tarFailed = true;
      stdout.resume();
      c.kill().catch(() => undefined);
    });
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (tarFailed) return await read;
    if (StatusCode !== 0) {
      stdout.resume();
      throw new CliError(
        `init image ${image} exited with code ${StatusCode}; nothing was written${stderr.trim() ? `. It said:\n${stderr.trimEnd()}` : ''}`,
        'Run it by hand (docker run --rm -e FN_FUNCTION_NAME=NAME IMAGE | tar t) to see what it does.',
      );
    }
    return await read;
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/** The image in the engine, pulled as `docker run` would when it is not there. */
async function ensureImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    throw new CliError(
      `init image ${image} is not in the Docker engine and could not be pulled: ${(err as Error).message.trim()}`,
      'Build it (docker build -t IMAGE .) or pull it first, or check its name.',
    );
  }
}

/**
 * func.init.yaml's fields fn takes (INIT_YAML_FIELDS), as written (a list stays a list); refuses a
 * file that is no YAML map, in fn's words.
 */
export function initYamlFields(text: string | undefined, image: string): Record<string, unknown> {
  const refuse = (why: string): CliError =>
    new CliError(`init-image did not produce a valid ${INIT_YAML} (${image}: ${why}); nothing was written`, `The image's tar must hold ${INIT_YAML} at its top, a map with e.g. runtime, entrypoint or cmd, and format.`);
  if (text === undefined) throw refuse(`no ${INIT_YAML} in its tar`);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw refuse(doc.errors[0]!.message.split('\n')[0]!);
  if (!isMap(doc.contents)) throw refuse('not a map of fields');
  const all = doc.toJS() as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const k of INIT_YAML_FIELDS) if (all[k] !== undefined && all[k] !== null) fields[k] = all[k];
  return fields;
}

/** What init's flags may put over func.init.yaml's fields (fn's --entrypoint, --cmd, --format). */
export interface InitOverrides extends FuncFields {
  format?: string;
}

/**
 * func.yaml from an init image, as fn init merges it: the image's fields (INIT_YAML_FIELDS), then
 * init's --entrypoint, --cmd and --format over them; name, version, limits, config and the
 * trigger from init's flags and defaults, as for a template.
 */
export function funcYamlFromInit(name: string, fromImage: Record<string, unknown>, fields: InitOverrides = {}): string {
  const merged: Record<string, unknown> = {
    ...fromImage,
    ...(fields.entrypoint !== undefined && { entrypoint: fields.entrypoint }),
    ...(fields.cmd !== undefined && { cmd: fields.cmd }),
    ...(fields.format !== undefined && { format: fields.format }),
  };
  const doc: Record<string, unknown> = { schema_version: 20180708, name, version: fields.version ?? '0.0.1' };
  for (const k of INIT_YAML_FIELDS) if (merged[k] !== undefined) doc[k] = merged[k];
  if (fields.memory !== undefined) doc.memory = fields.memory;
  if (fields.timeout !== undefined) doc.timeout = fields.timeout;
  if (fields.idle_timeout !== undefined) doc.idle_timeout = fields.idle_timeout;
  if (fields.config !== undefined) doc.config = fields.config;
  doc.triggers = triggersFor(name, fields.triggerType);
  return stringify(doc);
}
