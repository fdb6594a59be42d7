// The Docker engine the CLI builds with: DOCKER_HOST as Docker's own CLI reads it, and a
// clear message when nothing answers there.
import Docker from 'dockerode';
import { CliError } from './errors.js';

export function dockerHost(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/**
 * The engine at DOCKER_HOST. Never with docker-modem's DOCKER_CLIENT_TIMEOUT (timeout 0), which it
 * would read for a tcp:// host and apply as an idle timeout to every request: a build step that
 * prints nothing for that long would be cut (the server's client is made the same way).
 */
export function dockerFromEnv(env: NodeJS.ProcessEnv): Docker {
  const host = dockerHost(env);
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length), timeout: 0 });
  const m = /^(?:tcp|http|https):\/\/([^:/]+)(?::(\d+))?/.exec(host);
  if (!m?.[1]) throw new CliError(`DOCKER_HOST="${host}" is not understood`, 'Use unix:///path/to/docker.sock or tcp://HOST:PORT.');
  const tls = host.startsWith('https://') || env.DOCKER_TLS_VERIFY === '1';
  return new Docker({ host: m[1], port: Number(m[2] ?? (tls ? 2376 : 2375)), protocol: tls ? 'https' : 'http', timeout: 0 });
}

/** Pings the engine; a failure says where it looked and how to start one. */
export async function checkDocker(docker: Docker, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CliError(
      `Docker engine not reachable at ${dockerHost(env)}: ${e.code === 'ENOENT' ? 'no socket there' : (e.code ?? e.message)}`,
      'Start it (on this machine: `bash scripts/docker.sh`, or `dockerd &`) or point DOCKER_HOST at a running engine.',
    );
  }
}
