// The tar an fn init image writes to stdout, read into memory and checked before anything is
// written: paths inside the function's directory, one kind per path, bounded size. node-tar's
// parser stops at the end-of-archive marker, as Go's archive/tar (fn's) does, so what an image
// prints after its tar is not read (tar-stream reads on, and fails on it or waits forever).
import { posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { CliError } from './errors.js';

/** Bounds on what an image may hand over (held in memory until all of it is checked). */
export const MAX_INIT_BYTES = 256 * 1024 * 1024;
export const MAX_INIT_ENTRIES = 100_000;

export interface InitFile {
  content: Buffer;
  /** Permission bits as the tar gives them (an executable stays executable). */
  mode: number;
}

export interface InitTree {
  /** Relative paths (posix); the last of two entries of one path wins, as when extracting. */
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

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const TYPE_WORDS: Record<string, string> = { SymbolicLink: 'symlink', Link: 'link', CharacterDevice: 'character device', BlockDevice: 'block device', FIFO: 'fifo' };

const untarFailed = (image: string, why: string): CliError =>
  new CliError(
    // fn's words first.
    `Error un-tarring the output of the init-image ${image}: ${why}; nothing was written`,
    'An init image writes a tar of the function\'s files to stdout (its messages go to stderr).',
  );

const refused = (image: string, why: string, hint?: string): CliError =>
  new CliError(`init image ${image} ${why}; nothing was written`, hint);

/**
 * Refuses a tree that names one path as a file and as a directory (an entry, or a file's parent),
 * or makes a directory of a name init writes as a file (`reserved`: func.yaml and its kin).
 */
export function checkInitTree(tree: InitTree, image: string, reserved: readonly string[]): void {
  const dirs = new Set(tree.dirs);
  for (const rel of tree.files.keys()) {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of dirs) {
    if (tree.files.has(d)) throw refused(image, `wrote "${d}" both as a file and as a directory`, 'An init image\'s tar names each path once, as a file or as a directory.');
    const top = d.split('/')[0]!;
    if (reserved.includes(top)) throw refused(image, `wrote a directory "${top}", where init writes the function's ${top === 'func.init.yaml' ? 'description' : 'func file'}`);
  }
}

/** Reads a tar stream into memory: files and directories, checked paths, bounded size and count. */
export function readInitTar(input: NodeJS.ReadableStream, image: string): Promise<InitTree> {
  const tree: InitTree = { files: new Map(), dirs: [], skipped: [] };
  return new Promise((resolve, reject) => {
    const parser = new Parser({ strict: true });
    let total = 0;
    let entries = 0;
    /** File entries whose data is still coming. */
    let open = 0;
    let atEnd = false;
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      // What comes after (or after a failure) is not read: the caller stops the image.
      input.unpipe(parser);
      if (err) reject(err);
      else resolve(tree);
    };
    /** Bytes handed to the parser: a stream that ends mid-block was cut (node-tar drops a partial header). */
    let fed = 0;
    const ended = (): void => {
      atEnd = true;
      if (open === 0) settle();
    };
    const streamEnded = (): void => {
      if (!atEnd && fed % 512 !== 0) return settle(untarFailed(image, `the tar ends ${fed % 512} bytes into a 512-byte block (cut short)`));
      ended();
    };
    parser.on('entry', (entry: ReadEntry) => {
      if (settled) return void entry.resume();
      const rel = initEntryPath(entry.path);
      if (rel === null) {
        entry.resume();
        return settle(refused(image, `wrote "${entry.path}", outside the function's directory`, 'An init image\'s tar holds paths relative to the function\'s directory (e.g. func.init.yaml, src/main.rs).'));
      }
      if (++entries > MAX_INIT_ENTRIES) return settle(refused(image, `wrote more than ${MAX_INIT_ENTRIES} entries`));
      if (!FILE_TYPES.has(entry.type)) {
        entry.resume();
        if (rel === '') return;
        if (entry.type === 'Directory') tree.dirs.push(rel);
        else tree.skipped.push(`${rel} (${TYPE_WORDS[entry.type] ?? entry.type})`);
        return;
      }
      open++;
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => {
        total += c.length;
        if (total > MAX_INIT_BYTES) settle(refused(image, `wrote more than ${MAX_INIT_BYTES / 1024 / 1024} MiB of files`));
        // A copy: the chunk may be a view of a much larger buffer of the engine's stream.
        else if (!settled) chunks.push(Buffer.from(c));
      });
      entry.on('end', () => {
        open--;
        if (rel !== '') tree.files.set(rel, { content: Buffer.concat(chunks), mode: (entry.mode ?? 0o644) & 0o7777 });
        if (atEnd && open === 0) settle();
      });
    });
    // node-tar's event for the end-of-archive marker (two zero blocks): an image that goes on
    // printing, or running, after its tar is done with. 'end' covers a stream that ends first.
    parser.on('eof', ended);
    parser.on('end', streamEnded);
    parser.on('error', (err: Error) => settle(untarFailed(image, err.message)));
    input.on('data', (c: Buffer) => {
      if (!atEnd) fed += c.length;
    });
    input.on('error', (err: Error) => settle(err));
    input.pipe(parser);
  });
}
