// Which registry credentials a pull sends: Docker CLI's config file (`auths`, `credsStore`,
// `credHelpers`) and Fn's FN_DOCKER_AUTH, read as those tools read them. Pure: the file, the
// variable and a helper's answer come in as text (see registry-credentials.ts for the I/O).
import { z } from 'zod';
import { parseImage } from '../image-name.js';

/** What the engine takes as X-Registry-Auth (dockerode encodes it): the Docker API's AuthConfig. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** The text is not a Docker config (or FN_DOCKER_AUTH) Kiln can use; the message names no secret. */
export class RegistryAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryAuthError';
  }
}

/** Docker Hub's key in config.json, as `docker login` writes it. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

const entrySchema = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});
export type AuthEntry = z.infer<typeof entrySchema>;
/** Entries by the key they were written under (`host[:port]`, or a URL: `https://host/v1/`). */
export type AuthEntries = Record<string, AuthEntry>;

const configSchema = z.object({
  auths: z.record(z.string(), entrySchema).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});
export type DockerConfig = z.infer<typeof configSchema>;

const issues = (err: z.ZodError): string => err.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which may hold a secret.
    throw new RegistryAuthError(`${what} is not JSON`);
  }
}

/** A Docker CLI config.json; other keys in it (proxies, aliases...) are not Kiln's business. */
export function parseDockerConfig(text: string): DockerConfig {
  const parsed = configSchema.safeParse(parseJson(text, 'the Docker config'));
  if (!parsed.success) throw new RegistryAuthError(`the Docker config is not in Docker's format: ${issues(parsed.error)}`);
  return parsed.data;
}

/**
 * FN_DOCKER_AUTH, as Fn reads it (go-dockerclient's NewAuthConfigurations): a config.json's
 * `{"auths": {...}}`, or the old .dockercfg's bare `{"host": {...}}`.
 */
export function parseFnDockerAuth(text: string): AuthEntries {
  const json = parseJson(text, 'FN_DOCKER_AUTH');
  const form = json !== null && typeof json === 'object' && Object.hasOwn(json, 'auths')
    ? z.object({ auths: z.record(z.string(), entrySchema) }).transform((c) => c.auths)
    : z.record(z.string(), entrySchema);
  const parsed = form.safeParse(json);
  if (!parsed.success) {
    throw new RegistryAuthError(`FN_DOCKER_AUTH must be {"auths": {"<registry>": {"auth": "<base64 user:password>"}}}: ${issues(parsed.error)}`);
  }
  return checked(parsed.data, 'FN_DOCKER_AUTH');
}

/** Fn refuses an `auth` that does not decode, at start-up: so does Kiln. */
function checked(entries: AuthEntries, what: string): AuthEntries {
  for (const [key, entry] of Object.entries(entries)) entryCredentials(entry, key, what);
  return entries;
}

/** The key an image's credentials are looked up under: `host[:port]`, or Docker Hub's URL. */
export function registryKey(image: string): string {
  const { registry } = parseImage(image);
  return registry === 'docker.io' ? DOCKER_HUB_KEY : registry;
}

/** Docker's ConvertToHostname: a key without its scheme and path. */
export function keyHost(key: string): string {
  const stripped = key.replace(/^https?:\/\//, '');
  const slash = stripped.indexOf('/');
  return slash === -1 ? stripped : stripped.slice(0, slash);
}

const HUB_HOSTS = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io']);

/**
 * The entry for `key`: the exact key, else one written as a URL of the same host
 * (`https://host`, `http://host/v1/`), as the Docker daemon's ResolveAuthConfig. Docker Hub's
 * entry may also be under another URL of its hosts (Fn's own example is `https://index.docker.io/v2/`).
 */
export function findEntry(entries: AuthEntries, key: string): { key: string; entry: AuthEntry } | undefined {
  const exact = Object.hasOwn(entries, key) ? entries[key] : undefined;
  if (exact !== undefined) return { key, entry: exact };
  const hub = key === DOCKER_HUB_KEY;
  for (const [k, entry] of Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const host = keyHost(k);
    if (hub ? HUB_HOSTS.has(host) : host === key) return { key: k, entry };
  }
  return undefined;
}

/** An entry's credentials: `auth` (base64 `user:password`) wins over `username`/`password`, as in Docker's CLI. */
export function entryCredentials(entry: AuthEntry, serveraddress: string, what = 'the Docker config'): RegistryAuth | undefined {
  let { username, password } = entry;
  if (entry.auth) {
    const bytes = Buffer.from(entry.auth, 'base64');
    const decoded = bytes.toString('utf8');
    const colon = decoded.indexOf(':');
    // Buffer.from skips what is not base64: a round trip tells a real encoding.
    const isBase64 = bytes.toString('base64').replace(/=+$/, '') === entry.auth.replace(/=+$/, '');
    if (!isBase64 || colon === -1) throw new RegistryAuthError(`${what}: the "auth" of "${serveraddress}" is not base64 of user:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1).replace(/\0+$/, '');
  }
  const auth: RegistryAuth = { serveraddress };
  if (username) auth.username = username;
  if (password) auth.password = password;
  if (entry.identitytoken) auth.identitytoken = entry.identitytoken;
  // `{}`: what `docker login` leaves in auths when a helper keeps the secret.
  return auth.username === undefined && auth.password === undefined && auth.identitytoken === undefined ? undefined : auth;
}

/** Where the credentials for `key` are: a helper program's name (credHelpers, then credsStore), or the file's entry. */
export type CredentialSource = { helper: string } | { entry: AuthEntry; key: string } | undefined;

export function credentialSource(config: DockerConfig, key: string): CredentialSource {
  const helper = (config.credHelpers && Object.hasOwn(config.credHelpers, key) ? config.credHelpers[key] : undefined) || config.credsStore;
  if (helper) return { helper };
  return findEntry(config.auths ?? {}, key);
}

const helperAnswer = z.object({ Username: z.string().default(''), Secret: z.string().default('') });

/** A `docker-credential-<name> get` answer: `{Username, Secret}`; Username `<token>` marks an identity token. */
export function helperCredentials(stdout: string, serveraddress: string): RegistryAuth | undefined {
  const parsed = helperAnswer.safeParse(parseJson(stdout, 'the helper\'s answer'));
  if (!parsed.success) throw new RegistryAuthError(`the helper's answer is not {"Username": ..., "Secret": ...}`);
  const { Username, Secret } = parsed.data;
  if (Secret === '') return undefined;
  if (Username === '<token>') return { identitytoken: Secret, serveraddress };
  return { username: Username, password: Secret, serveraddress };
}
