// Fn's func.yaml, read with a tiny parser: the `yaml` package is not installed and Kiln
// needs only the top-level `key: value` scalars (name, version, runtime, entrypoint, cmd, ...).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FuncYaml {
  schema_version?: string;
  name?: string;
  version?: string;
  runtime?: string;
  entrypoint?: string;
  cmd?: string;
  /** Every top-level scalar, as text. */
  fields: Record<string, string>;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/** Parses top-level `key: value` lines; nested blocks (config:, triggers:) are skipped. */
export function parseFuncYaml(text: string): FuncYaml {
  const fields: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw) || raw.startsWith('#') || raw.startsWith('-')) continue;
    const m = /^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*))?$/.exec(raw);
    if (!m?.[1]) continue;
    let value = (m[2] ?? '').trim();
    // A comment starts at " #" outside quotes; func.yaml values rarely contain either.
    if (!value.startsWith('"') && !value.startsWith("'")) value = value.replace(/\s+#.*$/, '');
    if (value === '' || value === '|' || value === '>') continue;
    fields[m[1]] = unquote(value);
  }
  const pick = (k: string): string | undefined => fields[k];
  const out: FuncYaml = { fields };
  for (const k of ['schema_version', 'name', 'version', 'runtime', 'entrypoint', 'cmd'] as const) {
    const v = pick(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Reads `func.yaml` (or `func.yml`) from a function directory. */
export async function readFuncYaml(dir: string): Promise<FuncYaml> {
  for (const name of ['func.yaml', 'func.yml']) {
    try {
      return parseFuncYaml(await readFile(join(dir, name), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`no func.yaml in ${dir}`);
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
