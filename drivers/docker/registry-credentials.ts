// The credentials a pull sends, found at each pull (a `docker login` after start-up counts):
// FN_DOCKER_AUTH when set (Fn's rule: then nothing else), else the Docker CLI's config file and
// the credential helper it names. Whatever fails is a warning and a pull without credentials,
// which a public image needs anyway; no secret is ever logged.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import {
  credentialSource, entryCredentials, findEntry, helperCredentials, parseDockerConfig, registryKey,
  RegistryAuthError, type AuthEntries, type RegistryAuth,
} from './registry-auth.js';

export interface CredentialsOptions {
  /** FN_DOCKER_AUTH, parsed: when given, the only credentials. */
  fnDockerAuth?: AuthEntries;
  /** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  configFile: string;
  log: { warn(fields: object, msg: string): void };
  /** How long a credential helper may take. */
  helperTimeoutMs?: number;
  /** The helpers' environment (PATH finds them); this process's by default. */
  helperEnv?: NodeJS.ProcessEnv;
}

export type CredentialsFor = (image: string) => Promise<RegistryAuth | undefined>;

const DEFAULT_HELPER_TIMEOUT_MS = 10_000;

export function registryCredentials(opts: CredentialsOptions): CredentialsFor {
  return async (image) => {
    const key = registryKey(image);
    if (opts.fnDockerAuth !== undefined) {
      const found = findEntry(opts.fnDockerAuth, key);
      // Checked at start-up: entryCredentials cannot throw here.
      return found && entryCredentials(found.entry, found.key, 'FN_DOCKER_AUTH');
    }
    let text: string;
    try {
      text = await readFile(opts.configFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        opts.log.warn({ file: opts.configFile, image }, `pulling without credentials: the Docker config cannot be read (${(err as Error).message})`);
      }
      return undefined;
    }
    try {
      const source = credentialSource(parseDockerConfig(text), key);
      if (source === undefined) return undefined;
      if ('entry' in source) return entryCredentials(source.entry, source.key);
      return await fromHelper(source.helper, key, opts);
    } catch (err) {
      if (!(err instanceof RegistryAuthError)) throw err;
      opts.log.warn({ file: opts.configFile, image }, `pulling without credentials: ${err.message}`);
      return undefined;
    }
  };
}

async function fromHelper(name: string, key: string, opts: CredentialsOptions): Promise<RegistryAuth | undefined> {
  const program = `docker-credential-${name}`;
  const answer = await runHelper(program, key, opts.helperTimeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS, opts.helperEnv);
  if ('failed' in answer) throw new RegistryAuthError(`credential helper ${program} failed for ${key}: ${answer.failed}`);
  try {
    return helperCredentials(answer.stdout, key);
  } catch (err) {
    if (err instanceof RegistryAuthError) throw new RegistryAuthError(`credential helper ${program}: ${err.message}`);
    throw err;
  }
}

/** `<program> get` with the server address on stdin, as the Docker CLI runs a credential helper. */
function runHelper(program: string, key: string, timeoutMs: number, env: NodeJS.ProcessEnv | undefined): Promise<{ stdout: string } | { failed: string }> {
  return new Promise((resolve) => {
    const child = execFile(program, ['get'], { timeout: timeoutMs, maxBuffer: 1024 * 1024, ...(env && { env }) }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return resolve({ failed: 'it is not on PATH' });
      if (e.killed) return resolve({ failed: `no answer within ${timeoutMs} ms` });
      // A helper's failure text ("credentials not found in native keychain") names no secret.
      const said = (stderr.trim() || stdout.trim()).slice(0, 200);
      resolve({ failed: `it exited with ${String(e.code)}${said ? `: ${said}` : ''}` });
    });
    child.stdin?.on('error', () => {}); // a helper that exits before reading: its exit says why
    child.stdin?.end(key);
  });
}
