// What every command gets: its Io, the output format, and lazily the API client (from the
// current context or FN_API_URL) and the Docker engine. Built once per run by main.ts.
import type Docker from 'dockerode';
import { KilnClient } from './client.js';
import { ContextStore, configDir, type ResolvedApi } from './context.js';
import { checkDocker, dockerFromEnv } from './docker.js';
import type { GlobalFlags } from './global-flags.js';
import type { Io } from './io.js';
import type { OutputFormat } from './output.js';

export interface Session {
  io: Io;
  contexts: ContextStore;
  output(): OutputFormat;
  /** fn's global flags given before the command. */
  globals: GlobalFlags;
  /** The context this run uses: --context, else the current one. */
  contextName(): Promise<string>;
  api(): Promise<ResolvedApi>;
  client(): Promise<KilnClient>;
  /** A reachable Docker engine (checked with a ping). */
  docker(): Promise<Docker>;
}

export function createSession(io: Io, output: () => OutputFormat, globals: GlobalFlags = {}): Session {
  const contexts = new ContextStore(configDir(io.env));
  let api: Promise<ResolvedApi> | undefined;
  let docker: Promise<Docker> | undefined;
  const session: Session = {
    io,
    contexts,
    output,
    globals,
    contextName: async () => globals.context ?? (await contexts.current()),
    api: () => (api ??= contexts.resolve(io.env, globals.context)),
    client: async () => {
      const a = await session.api();
      return new KilnClient({ url: a.url, ...(a.token && { token: a.token }) });
    },
    docker: () =>
      (docker ??= (async () => {
        const d = dockerFromEnv(io.env);
        await checkDocker(d, io.env);
        return d;
      })()),
  };
  return session;
}
