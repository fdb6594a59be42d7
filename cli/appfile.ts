// app.yaml, as Fn's: the file at the root of an app's directory that names the app and gives
// its config and annotations (and syslog_url). `kiln deploy` reads it from `-w`'s directory,
// else the current one, as `fn deploy` does; `--all` needs one there.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { scalarSources } from '../images/func-yaml.js';
import type { App } from './client.js';
import { CliError } from './errors.js';

/** The names Fn looks for, in its order: the first found is the app file. */
export const APP_FILE_NAMES = ['app.yaml', 'app.yml', 'app.json'] as const;

export interface AppFile {
  /** Where it was read from (named in messages). */
  path: string;
  name?: string;
  config?: Record<string, string>;
  annotations?: Record<string, unknown>;
  syslog_url?: string;
}

const HINT = 'Fix it: e.g.\n  name: myapp\n  config:\n    LOG_LEVEL: debug\n  annotations:\n    example.com/team: web';

function bad(path: string, what: string): CliError {
  return new CliError(`bad app file ${path}: ${what}`, HINT);
}

/** Parses an app file's text; `path` names it in errors (and says whether it is JSON). */
export function parseAppFile(text: string, path: string): AppFile {
  let root: unknown;
  let sources = new Map<string, string>();
  if (path.endsWith('.json')) {
    try {
      root = text.trim() === '' ? null : JSON.parse(text);
    } catch (err) {
      throw bad(path, `not valid JSON: ${(err as Error).message}`);
    }
  } else {
    const doc = parseDocument(text);
    const first = doc.errors[0];
    if (first) {
      const pos = first.linePos?.[0];
      const at = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
      throw bad(path, `not valid YAML${at}: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    root = doc.toJS();
    sources = scalarSources(doc, 'config'); // values as written (1.10 stays "1.10"), as Fn reads them
  }
  const out: AppFile = { path };
  // An empty file names nothing (then --app must), as Fn reads it.
  if (root === null || root === undefined) return out;
  if (typeof root !== 'object' || Array.isArray(root)) throw bad(path, 'it must be a map of fields (name: ..., config: ..., annotations: ...)');
  const r = root as Record<string, unknown>;
  if (r.name !== undefined && r.name !== null) {
    if (typeof r.name !== 'string') throw bad(path, 'name must be a string');
    if (r.name !== '') out.name = r.name;
  }
  if (r.config !== undefined && r.config !== null) {
    if (typeof r.config !== 'object' || Array.isArray(r.config)) throw bad(path, 'config must be a map of KEY: value');
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.config as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object') throw bad(path, `config.${k} must be a plain value`);
      config[k] = v === null ? '' : (sources.get(k) ?? String(v));
    }
    out.config = config;
  }
  if (r.annotations !== undefined && r.annotations !== null) {
    if (typeof r.annotations !== 'object' || Array.isArray(r.annotations)) throw bad(path, 'annotations must be a map');
    out.annotations = r.annotations as Record<string, unknown>;
  }
  if (r.syslog_url !== undefined && r.syslog_url !== null && r.syslog_url !== '') {
    if (typeof r.syslog_url !== 'string') throw bad(path, 'syslog_url must be a string');
    out.syslog_url = r.syslog_url;
  }
  return out;
}

/** The app file in `dir` (app.yaml, else app.yml, else app.json), or undefined when it has none. */
export async function readAppFile(dir: string): Promise<AppFile | undefined> {
  for (const name of APP_FILE_NAMES) {
    const path = join(dir, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new CliError(`cannot read app file ${path}: ${code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
    }
    return parseAppFile(text, path);
  }
  return undefined;
}

/** What an app file sets on its app (nothing when it has only a name). */
export function appFileFields(f: AppFile): Partial<App> {
  return {
    ...(f.config && Object.keys(f.config).length && { config: f.config }),
    ...(f.annotations && Object.keys(f.annotations).length && { annotations: f.annotations }),
    ...(f.syslog_url && { syslog_url: f.syslog_url }),
  };
}
