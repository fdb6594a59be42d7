// fn's init images (`fn init --init-image IMAGE`): the image runs once with FN_FUNCTION_NAME set
// and writes a tar of the function's files to stdout, func.init.yaml among them. Everything is
// read and checked before a file is written, so a failing image leaves the directory as it was.
import { finished, PassThrough, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { isMap, parseDocument, stringify } from 'yaml';
import { CliError } from './errors.js';
import { readInitTar, type InitTree } from './init-tar.js';
import { flagFields, triggersFor, type FuncFields } from './templates/index.js';

/** The file the image describes the function in; merged into func.yaml, never written. */
export const INIT_YAML = 'func.init.yaml';

/** fn takes these from func.init.yaml; the rest of func.yaml comes from init's flags and defaults. */
export const INIT_YAML_FIELDS = ['runtime', 'build_image', 'run_image', 'entrypoint', 'cmd', 'format', 'content_type', 'expects', 'build'] as const;

/** How much of the image's stderr an error quotes. */
const STDERR_KEPT = 4096;
/** How long an init image may run (one that builds a project may take minutes; none should take this). */
export const INIT_IMAGE_TIMEOUT_MS = 10 * 60_000;
/** How long an image still running after its tar gets to exit on its own before it is stopped. */
const AFTER_TAR_MS = 5000;

/** How to see for oneself what the image does. */
const BY_HAND = 'docker run --rm -e FN_FUNCTION_NAME=NAME IMAGE | tar t';

/** The engine's refusal to run the image, in a sentence (its own message is kept). */
const notRun = (image: string, err: unknown): CliError =>
  new CliError(`init image ${image} could not be run: ${(err as Error).message.trim()}; nothing was written`, `Check its name and that it runs: ${BY_HAND}`);

/** The end of what the image said, from a whole line on. */
function lastWords(stderr: string, cut: boolean): string {
  const text = stderr.trimEnd();
  return cut && text.includes('\n') ? text.slice(text.indexOf('\n') + 1) : text;
}

export interface RunInitImageOptions {
  /** Aborted (a Ctrl-C): the container is removed, then the run rejects with the signal's reason. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Runs `image` as fn does (`docker run -e FN_FUNCTION_NAME=<name> IMAGE`), reads the tar it writes
 * and removes the container, whatever happens (an abort included). Refuses an image that exits
 * non-zero, quoting its stderr, and one that runs longer than INIT_IMAGE_TIMEOUT_MS. One still
 * running once its tar is read is given AFTER_TAR_MS to exit, then stopped (fn never waits for it).
 */
export async function runInitImage(docker: Docker, image: string, name: string, { signal, timeoutMs = INIT_IMAGE_TIMEOUT_MS }: RunInitImageOptions = {}): Promise<InitTree> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    // A pull can take long; nothing is left to clean up when it is given up.
    await Promise.race([ensureImage(docker, image), aborted]);
    return await runCreated(docker, image, name, aborted, signal, timeoutMs);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** runInitImage once the image is there: creates, runs, reads and removes its container. */
async function runCreated(docker: Docker, image: string, name: string, aborted: Promise<never>, signal: AbortSignal | undefined, timeoutMs: number): Promise<InitTree> {
  const c = await docker.createContainer({
    Image: image,
    Env: [`FN_FUNCTION_NAME=${name}`],
    Labels: { 'io.kiln.cli': 'init-image' },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  }).catch((err: unknown) => {
    throw notRun(image, err);
  });
  const remove = (): Promise<void> => c.remove({ force: true }).then(() => undefined, () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(
      `init image ${image} did not finish within ${timeoutMs >= 60_000 ? `${timeoutMs / 60_000} minutes` : `${timeoutMs} ms`}; nothing was written`,
      `Run it by hand (${BY_HAND}) to see where it stops.`,
    )), timeoutMs);
  });
  try {
    // The whole run, the wait for a late exit included, is bounded.
    return await Promise.race([run(), timedOut, aborted]);
  } catch (err) {
    // Aborted: the container's kill is no failure of the image's; the abort's reason says why.
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    await remove();
  }

  async function run(): Promise<InitTree> {
    const attached = await c.attach({ stream: true, stdout: true, stderr: true });
    const stdout = new PassThrough();
    let stderr = '';
    let stderrCut = false;
    const errSink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        stderr += chunk.toString('utf8');
        if (stderr.length > STDERR_KEPT) {
          // Its last words are the ones that say why.
          stderr = stderr.slice(-STDERR_KEPT);
          stderrCut = true;
        }
        cb();
      },
    });
    c.modem.demuxStream(attached, stdout, errSink);
    // A stream torn down without its end ends the output all the same.
    finished(attached, () => stdout.end());
    const read = readInitTar(stdout, image);
    // Once the tar is read (or refused), what the image still prints is dropped, not held.
    void read.finally(() => stdout.resume()).catch(() => undefined);
    // Asked before the start (so a quick exit is not missed): its next exit, not "not running now".
    const exited = c.wait({ condition: 'next-exit' }).then(
      (r: { StatusCode: number }) => r.StatusCode,
      (err: unknown) => {
        throw new CliError(`lost the Docker engine while init image ${image} ran: ${(err as Error).message.trim()}; nothing was written`);
      },
    );
    exited.catch(() => undefined);
    await c.start().catch((err: unknown) => {
      throw notRun(image, err);
    });
    // Whichever comes first: the tar read (or refused), the image's exit.
    const first = await Promise.race([read.then(() => 'read' as const, () => 'read' as const), exited.then(() => 'exited' as const)]);
    // Its output is read to the end of its tar (or refused): what it does now no longer matters,
    // unless it is a failure it exits with soon.
    const status = first === 'exited' ? await exited : await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), AFTER_TAR_MS).unref())]);
    const tree = await read.catch((err: unknown) => err as Error);
    if (status !== undefined && status !== 0) {
      const said = lastWords(stderr, stderrCut);
      throw new CliError(
        `init image ${image} exited with code ${status}; nothing was written${said ? `. It said:\n${said}` : ''}`,
        `Run it by hand (${BY_HAND}) to see what it does.`,
      );
    }
    if (tree instanceof Error) throw tree;
    return tree;
  }
}

/** The image in the engine, pulled as `docker run` would when it is not there. */
async function ensureImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw notRun(image, err);
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

/** The type fn's func file gives each field it takes from func.init.yaml. */
const FIELD_TYPES: Record<(typeof INIT_YAML_FIELDS)[number], 'string' | 'strings' | 'map'> = {
  runtime: 'string', build_image: 'string', run_image: 'string', entrypoint: 'string', cmd: 'string', format: 'string', content_type: 'string',
  build: 'strings', expects: 'map',
};

function typeProblem(v: unknown, want: 'string' | 'strings' | 'map'): string | undefined {
  if (want === 'string') return typeof v === 'string' ? undefined : 'a string';
  if (want === 'strings') return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'a list of strings';
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'a map';
}

/**
 * func.init.yaml's fields fn takes (INIT_YAML_FIELDS), as written; refuses, in fn's words, a file
 * that is no YAML map or holds one of them as another type than fn's func file has it.
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
  for (const k of INIT_YAML_FIELDS) {
    const v = all[k];
    if (v === undefined || v === null) continue;
    const want = typeProblem(v, FIELD_TYPES[k]);
    if (want) throw refuse(`${k} must be ${want}`);
    fields[k] = v;
  }
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
  return stringify({ ...doc, ...flagFields(fields), triggers: triggersFor(name, fields.triggerType) });
}
