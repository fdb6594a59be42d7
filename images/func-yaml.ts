// Fn's func.yaml (schema_version 20180708), read with the `yaml` package: the build needs the
// scalars (name, version, runtime, entrypoint, cmd), deploy also the nested config and triggers.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { fnInputProblem, type FnLimitField } from '../api/contract/fn-limits.js';
import { annotationsProblem, CONFIG_KEY_MESSAGE, configKeyOk, FN_ENDPOINT_ANNOTATION, TRIGGER_ENDPOINT_ANNOTATION } from '../api/contract/keys.js';
import { checkWordName, MAX_NAME_BYTES, TRIGGER_TYPES, unreachableSource } from '../api/contract/names.js';

export interface FuncTrigger {
  name: string;
  type: string;
  source: string;
}

export interface FuncYaml {
  schema_version?: string;
  name?: string;
  version?: string;
  runtime?: string;
  entrypoint?: string;
  cmd?: string;
  /** Kiln's addition: `http-stream` (default) or `lambda`. */
  format?: string;
  memory?: number;
  timeout?: number;
  idle_timeout?: number;
  config?: Record<string, string>;
  annotations?: Record<string, unknown>;
  /** Fn's `build:` commands, each run with `/bin/sh -c` in the function's directory before the image build. */
  build?: string[];
  /** As written; `funcTriggers` checks them. */
  triggers?: Array<Partial<FuncTrigger>>;
  /** Every top-level scalar, as written (so `version: 1.10` stays "1.10"). */
  fields: Record<string, string>;
  /** Every top-level key, as written (deploy names those Kiln does not use). */
  keys?: string[];
}

/** The func.yaml keys Kiln reads (`content_type` by invoke); Fn's others are ignored, as unknown keys are. */
export const FUNC_YAML_KEYS: readonly string[] = [
  'schema_version', 'name', 'version', 'runtime', 'entrypoint', 'cmd', 'format', 'memory', 'timeout', 'idle_timeout',
  'config', 'annotations', 'build', 'triggers', 'content_type',
];

/**
 * Formats Fn has had (`default`, `http`, `json`, `cloudevent`), which old func.yaml files still
 * name. Fn's current server runs them all over http-stream, and so does Kiln's, so they build as
 * http-stream. The server maps them the same way on its own (store/types.ts): the CLI may not
 * import the server's modules (DESIGN §1).
 */
const LEGACY_FORMATS = ['default', 'http', 'json', 'cloudevent'];

/** A format's name as Kiln runs it: Fn's legacy names are http-stream; other names are left for checks. */
export function formatAsRun(name: string): string {
  return LEGACY_FORMATS.includes(name) ? 'http-stream' : name;
}

/** func.yaml's `format` (http-stream when it has none), as Kiln runs it. */
export function funcYamlFormat(func: FuncYaml): string {
  return formatAsRun(func.format ?? 'http-stream');
}

/** A func.yaml that cannot be used; the message names the file and what is wrong. */
export class FuncYamlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuncYamlError';
  }
}

/** The names Fn looks for, in its order: the first found is the function's file. */
export const FUNC_FILE_NAMES: readonly string[] = ['func.yaml', 'func.yml', 'func.json'];

function scalarText(value: unknown): string | undefined {
  if (!isScalar(value)) return undefined;
  if (value.value === null) return undefined;
  // `source` is the text as written; plain scalars like 1.10 must not become 1.1.
  const src = (value as { source?: unknown }).source;
  return typeof src === 'string' && value.type === 'PLAIN' ? src : String(value.value);
}

/**
 * The plain values of the map at top-level `key`, each as written: Fn reads config into a
 * map[string]string, which keeps `1.10` as "1.10" and `0x10` as "0x10", where the parsed value
 * would print as 1.1 and 16. Values that are not scalars (or null) are left out.
 */
export function scalarSources(doc: Document, key: string): Map<string, string> {
  const out = new Map<string, string>();
  const node = doc.get(key, true);
  if (!isMap(node)) return out;
  for (const pair of node.items) {
    const k = scalarText(pair.key);
    const v = scalarText(isAlias(pair.value) ? pair.value.resolve(doc) : pair.value);
    if (k !== undefined && v !== undefined) out.set(k, v);
  }
  return out;
}

/** A fn number of func.yaml, refused (before any build) when the server would refuse it. */
function fnNumber(root: Record<string, unknown>, key: FnLimitField, where: string): number | undefined {
  const v = root[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new FuncYamlError(`${where}: ${key} must be a whole number, got ${JSON.stringify(v)}`);
  }
  const problem = fnInputProblem(key, v);
  if (problem !== undefined) throw new FuncYamlError(`${where}: ${key} ${problem}`);
  return v;
}

function stringMap(v: unknown, key: string, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new FuncYamlError(`${where}: ${key} must be a map of KEY: value`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val !== null && typeof val === 'object') throw new FuncYamlError(`${where}: ${key}.${k} must be a plain value`);
    out[k] = val === null ? '' : String(val);
  }
  return out;
}

/**
 * The triggers as written; each entry is checked by `funcTriggers` when they are used (deploy).
 * As Fn (yaml.v2 into Go strings), a scalar field is its text as written: `name: 123` is "123",
 * `name: true` is "true"; a list or a map there is left out (and so missing).
 */
function rawTriggers(doc: Document, v: unknown, where: string): Array<Partial<FuncTrigger>> | undefined {
  if (v === undefined || v === null) return undefined;
  const node = doc.get('triggers', true);
  if (!Array.isArray(v) || !isSeq(node)) throw new FuncYamlError(`${where}: triggers must be a list of {name, type, source}`);
  return node.items.map((item) => {
    const t = isAlias(item) ? item.resolve(doc) : item;
    const out: Partial<FuncTrigger> = {};
    if (!isMap(t)) return out;
    for (const k of ['name', 'type', 'source'] as const) {
      const field = t.get(k, true);
      const text = scalarText(isAlias(field) ? field.resolve(doc) : field);
      if (text !== undefined) out[k] = text;
    }
    return out;
  });
}

/**
 * func.yaml's triggers, each with a name and a source (type defaults to http), refused, by the
 * server's own rules (api/contract/names.ts), before deploy changes anything, when the server
 * would surely refuse one: a type other than `http` (in lower case, as the server takes
 * it), a source without its leading `/`, a name that is not letters, digits, `_` and `-`, and
 * two with one name (unique per fn) or one type and source (unique per app). Also one the
 * server takes but no client reaches: a source with a `.` or `..` segment, which fetch, curl
 * and browsers resolve away before sending (`/t/app/x/../y` goes out as `/t/app/y`).
 */
export function funcTriggers(func: FuncYaml, where = 'func.yaml'): FuncTrigger[] {
  const out = (func.triggers ?? []).map((t, i) => {
    if (!t.name || !t.source) throw new FuncYamlError(`${where}: triggers[${i}] needs a name and a source (e.g. "source: /hello")`);
    const type = t.type ?? 'http';
    const at = `${where}: trigger ${t.name}`;
    if (!TRIGGER_TYPES.includes(type)) {
      const lower = TRIGGER_TYPES.includes(type.toLowerCase());
      throw new FuncYamlError(`${at}: type "${type}" is not supported${lower ? ' (the server takes it in lower case only)' : ''}; Kiln has "type: http" triggers`);
    }
    if (!t.source.startsWith('/')) throw new FuncYamlError(`${at}: source "${t.source}" must start with "/" (e.g. "source: /${t.source}")`);
    const unreachable = unreachableSource(t.source);
    if (unreachable) throw new FuncYamlError(`${at}: ${unreachable}`);
    if (checkWordName(t.name) !== 'ok') {
      throw new FuncYamlError(`${where}: trigger name "${t.name}" is invalid: use letters, digits, "_" and "-" (at most ${MAX_NAME_BYTES} bytes)`);
    }
    return { name: t.name, type, source: t.source };
  });
  for (let i = 1; i < out.length; i++) {
    const t = out[i]!;
    const twin = out.slice(0, i).find((o) => o.name === t.name || (o.type === t.type && o.source === t.source));
    if (twin) {
      const what = twin.name === t.name ? `name "${t.name}"` : `${t.type} source "${t.source}"`;
      throw new FuncYamlError(`${where}: two triggers have the ${what} (triggers ${twin.name} and ${t.name}); each needs its own name and source`);
    }
  }
  return out;
}

/**
 * Refuses func.yaml's config and annotations where the server would refuse the fn, by its own
 * rules (api/contract/keys.ts), so deploy stops before it bumps or builds. `create`: the fn is
 * new, where an annotation of "" or null is refused; on an update it removes the key.
 */
export function checkFnFields(func: FuncYaml, create: boolean, where = 'func.yaml'): void {
  for (const [key, value] of Object.entries(func.config ?? {})) {
    if (!configKeyOk(key, value)) throw new FuncYamlError(`${where}: config key ${JSON.stringify(key)} is refused by the server: ${CONFIG_KEY_MESSAGE}`);
  }
  // As the server stores them: its computed endpoints dropped; on an update, the removals applied.
  const kept = Object.entries(func.annotations ?? {}).filter(
    ([k, v]) => k !== FN_ENDPOINT_ANNOTATION && k !== TRIGGER_ENDPOINT_ANNOTATION && (create || (v !== '' && v !== null)),
  );
  const problem = annotationsProblem(Object.fromEntries(kept));
  if (problem) {
    const removal = problem.key !== undefined && ['', null].includes(func.annotations?.[problem.key] as string | null) ? ' (on a new fn; on an existing one "" removes the key)' : '';
    throw new FuncYamlError(`${where}: ${problem.key !== undefined ? `annotation ${JSON.stringify(problem.key)}: ` : 'annotations: '}${problem.message}${removal}`);
  }
}

/** Parses func.yaml text; `where` names the file in error messages. */
export function parseFuncYaml(text: string, where = 'func.yaml'): FuncYaml {
  if (where.endsWith('.json')) {
    // func.json: JSON as Fn reads it; then read as YAML, which JSON is, to keep scalars as written.
    try {
      JSON.parse(text);
    } catch (err) {
      throw new FuncYamlError(`${where} is not valid JSON: ${(err as Error).message}`);
    }
  }
  // A JSON object may repeat a key (the last one counts, as Go's json.Unmarshal reads it).
  const doc = parseDocument(text, { uniqueKeys: !where.endsWith('.json') });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const at = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
    const what = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new FuncYamlError(`${where} is not valid YAML${at}: ${what}`);
  }
  const root: unknown = doc.toJS();
  if (root !== null && (typeof root !== 'object' || Array.isArray(root))) {
    throw new FuncYamlError(`${where} must be a map of fields (name: ..., version: ..., runtime: ...)`);
  }
  const fields: Record<string, string> = {};
  const contents = doc.contents as { items?: Array<{ key: unknown; value: unknown }> } | null;
  for (const pair of contents?.items ?? []) {
    const key = scalarText(pair.key);
    const value = scalarText(pair.value);
    if (key !== undefined && value !== undefined) fields[key] = value;
  }
  const r = (root ?? {}) as Record<string, unknown>;
  const out: FuncYaml = { fields, keys: Object.keys(r) };
  for (const k of ['schema_version', 'name', 'version', 'runtime', 'entrypoint', 'cmd', 'format'] as const) {
    // A list or a map where Fn reads a string is an error there too, not a field left out.
    if (r[k] !== null && typeof r[k] === 'object') throw new FuncYamlError(`${where}: ${k} must be a string, not a ${Array.isArray(r[k]) ? 'list' : 'map'}`);
    const v = fields[k];
    if (v !== undefined) out[k] = v;
  }
  const memory = fnNumber(r, 'memory', where);
  const timeout = fnNumber(r, 'timeout', where);
  const idle = fnNumber(r, 'idle_timeout', where);
  if (memory !== undefined) out.memory = memory;
  if (timeout !== undefined) out.timeout = timeout;
  if (idle !== undefined) out.idle_timeout = idle;
  const config = stringMap(r.config, 'config', where);
  if (config) {
    for (const [k, text] of scalarSources(doc, 'config')) if (k in config) config[k] = text;
    out.config = config;
  }
  const annotations = r.annotations;
  if (annotations !== undefined && annotations !== null) {
    if (typeof annotations !== 'object' || Array.isArray(annotations)) throw new FuncYamlError(`${where}: annotations must be a map`);
    out.annotations = annotations as Record<string, unknown>;
  }
  if (r.build !== undefined && r.build !== null) {
    if (!Array.isArray(r.build) || r.build.some((c) => c !== null && typeof c === 'object')) {
      throw new FuncYamlError(`${where}: build must be a list of shell commands (e.g. "build: [make]")`);
    }
    // As Fn's []string: a number or true is its text as written (1.10 stays 1.10); an empty entry runs nothing.
    const node = doc.get('build', true);
    const items = isSeq(node) ? node.items.map((n) => scalarText(isAlias(n) ? n.resolve(doc) : n)) : [];
    out.build = items.filter((c): c is string => c !== undefined && c !== '');
  }
  const trig = rawTriggers(doc, r.triggers, where);
  if (trig) out.triggers = trig;
  return out;
}

/** The func.yaml (else func.yml, else func.json) path and text in a function directory, or null. */
export async function findFuncYaml(dir: string): Promise<{ path: string; text: string } | null> {
  for (const name of FUNC_FILE_NAMES) {
    const path = join(dir, name);
    try {
      return { path, text: await readFile(path, 'utf8') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return null;
}

/** Reads `func.yaml` (else `func.yml`, else `func.json`) from a function directory. */
export async function readFuncYaml(dir: string): Promise<FuncYaml> {
  const found = await findFuncYaml(dir);
  if (!found) throw new FuncYamlError(`no func.yaml in ${dir}`);
  return parseFuncYaml(found.text, found.path);
}

/**
 * Splits a command line into words as a shell would for quoting only: '...' is literal,
 * "..." allows \\ escapes, adjacent parts join (--x='a b' is one word). No expansion.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\' && i + 1 < line.length) word += line[++i];
      else word += ch;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in command: ${line}`);
  if (inWord) words.push(word);
  return words;
}
