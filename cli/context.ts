// Contexts, as Fn's (~/.fn/contexts): named API URLs with an optional token, one current.
// Stored as YAML in the config dir: config.yaml (current-context) and contexts/<name>.yaml.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError } from './errors.js';

export const DEFAULT_API_URL = 'http://localhost:8080';
export const DEFAULT_CONTEXT = 'default';
/** fn's context provider when none is given (`create context --provider`). */
export const DEFAULT_PROVIDER = 'default';

/** The keys of a context file Kiln reads; any other is kept as written (fn's `update context` writes any key). */
export const CONTEXT_KEYS = ['provider', 'api-url', 'token', 'registry'] as const;

export interface KilnContext {
  name: string;
  'api-url': string;
  token?: string;
  /** Prefix of built image names (e.g. `myrepo` gives `myrepo/hello:0.0.2`). */
  registry?: string;
  /** fn's provider (`default`): recorded as fn writes it; Kiln talks to every server the one way. */
  provider?: string;
  /** Keys of the file Kiln does not use, kept as they are so a save does not drop them. */
  other?: Record<string, unknown>;
}

export interface ResolvedApi {
  url: string;
  token?: string;
  /** Where the token came from (FN_TOKEN, or a context), for messages. */
  tokenSource?: string;
  registry?: string;
  /** Where the URL came from, for messages. */
  source: string;
}

/** `$KILN_CONFIG_DIR`, else `$XDG_CONFIG_HOME/kiln`, else `~/.kiln`. */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.KILN_CONFIG_DIR) return env.KILN_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'kiln');
  return join(env.HOME || homedir(), '.kiln');
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new CliError(`invalid context name "${name}"`, 'Use letters, digits, ".", "_" or "-".');
}

/** An API URL given to `context create/update`: as fn's context commands, it must say its scheme. */
export function checkApiUrl(url: string): string {
  if (!url.includes('://')) throw new CliError(`invalid API URL "${url}": it has no scheme (no "://")`, `Give a full URL such as http://${url || 'localhost:8080'}.`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`invalid API URL "${url}"`, 'Give a full URL such as http://localhost:8080.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`invalid API URL "${url}": use http:// or https://`);
  return url.replace(/\/+$/, '');
}

/**
 * The API URL in use (FN_API_URL, a context's api-url): as fn reads them (fn_go's
 * CanonicalFnAPIUrl), one without "://" is http, so FN_API_URL=localhost:8080 and a bare host work.
 */
export const canonicalApiUrl = (url: string): string => checkApiUrl(url.includes('://') ? url : `http://${url}`);

async function readYaml(path: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let v: unknown;
  try {
    v = parse(text);
  } catch (err) {
    // The parser's message alone does not say which file is broken.
    const what = (err as Error).message.split('\n')[0]!;
    throw new CliError(`${path} is not valid YAML: ${what}`, 'Fix its YAML, or remove the file and set it again (`kiln context use NAME`, `kiln context create NAME`).');
  }
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** The contexts in one config dir. */
/** The CLI's own environment variables, as fn's: read by resolve(), never the server's settings. */
export const CLIENT_ENV = ['FN_API_URL', 'FN_TOKEN', 'FN_REGISTRY'] as const;

export class ContextStore {
  constructor(readonly dir: string) {}

  private file(name: string): string {
    return join(this.dir, 'contexts', `${name}.yaml`);
  }

  async current(): Promise<string> {
    const cfg = await readYaml(join(this.dir, 'config.yaml'));
    const name = cfg?.['current-context'];
    return typeof name === 'string' && name ? name : DEFAULT_CONTEXT;
  }

  async get(name: string): Promise<KilnContext | null> {
    checkName(name);
    const y = await readYaml(this.file(name));
    if (!y) return name === DEFAULT_CONTEXT ? { name, 'api-url': DEFAULT_API_URL } : null;
    const ctx: KilnContext = { name, 'api-url': typeof y['api-url'] === 'string' ? y['api-url'] : DEFAULT_API_URL };
    if (typeof y.token === 'string' && y.token) ctx.token = y.token;
    if (typeof y.registry === 'string' && y.registry) ctx.registry = y.registry;
    if (typeof y.provider === 'string' && y.provider) ctx.provider = y.provider;
    const other = Object.entries(y).filter(([k]) => !(CONTEXT_KEYS as readonly string[]).includes(k));
    if (other.length > 0) ctx.other = Object.fromEntries(other);
    return ctx;
  }

  async list(): Promise<KilnContext[]> {
    let names: string[] = [];
    try {
      names = (await readdir(join(this.dir, 'contexts'))).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // The default context exists even before anything was written.
    if (!names.includes(DEFAULT_CONTEXT)) names.push(DEFAULT_CONTEXT);
    const out: KilnContext[] = [];
    for (const n of names.sort()) {
      const c = NAME.test(n) ? await this.get(n) : null;
      if (c) out.push(c);
    }
    return out;
  }

  async save(ctx: KilnContext, opts: { create: boolean }): Promise<void> {
    checkName(ctx.name);
    if (opts.create && (await readYaml(this.file(ctx.name)))) {
      throw new CliError(`context "${ctx.name}" already exists`, `Change it with \`kiln context update ${ctx.name} ...\` or pick another name.`);
    }
    await mkdir(join(this.dir, 'contexts'), { recursive: true });
    const { name: _name, other, ...fields } = ctx;
    await writeFile(this.file(ctx.name), stringify({ ...fields, ...other }), { mode: 0o600 });
  }

  async use(name: string): Promise<void> {
    if (!(await this.get(name))) throw new CliError(`context "${name}" not found`, 'See `kiln context list`.');
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, 'config.yaml'), stringify({ 'current-context': name }));
  }

  /** fn's `unset context`: no current context, so the default one is used. */
  async unset(): Promise<void> {
    await rm(join(this.dir, 'config.yaml'), { force: true });
  }

  async remove(name: string): Promise<void> {
    if (name === (await this.current())) throw new CliError(`context "${name}" is in use`, 'Switch first: `kiln context use OTHER`.');
    if (!(await readYaml(this.file(name)))) throw new CliError(`context "${name}" not found`, 'See `kiln context list`.');
    await rm(this.file(name));
  }

  /**
   * The API to talk to: FN_API_URL (and FN_TOKEN) win over the context, as with `fn` (see
   * CLIENT_ENV); the context is `name` (the global --context) when given, else the current one.
   */
  async resolve(env: NodeJS.ProcessEnv, name?: string): Promise<ResolvedApi> {
    if (name !== undefined) {
      if (!(await this.get(name))) throw new CliError(`context "${name}" (--context) not found`, 'See `kiln context list`.');
    } else name = await this.current();
    const ctx = await this.get(name);
    if (!ctx) throw new CliError(`the current context "${name}" does not exist`, 'Pick one with `kiln context use NAME`.');
    const out: ResolvedApi = env.FN_API_URL
      ? { url: canonicalApiUrl(env.FN_API_URL), source: 'FN_API_URL' }
      : { url: canonicalApiUrl(ctx['api-url']), source: `context "${name}"` };
    const token = env.FN_TOKEN || ctx.token;
    if (token) {
      out.token = token;
      out.tokenSource = env.FN_TOKEN ? 'FN_TOKEN' : `context "${name}"`;
    }
    const registry = env.FN_REGISTRY || ctx.registry;
    if (registry) out.registry = registry;
    return out;
  }
}
