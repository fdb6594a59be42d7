// The server's client of the container engine, from the environment.
import Docker from 'dockerode';

/**
 * dockerode on DOCKER_HOST (with DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and DOCKER_PATH_PREFIX),
 * but never DOCKER_CLIENT_TIMEOUT, which docker-modem reads for a DOCKER_HOST not on a unix
 * socket and applies as an idle timeout to every request: the attach, wait, stats and events
 * streams too, which a quiet container leaves idle for long. Cut, an attach lost a hot
 * container (its output gone) and its calls' logs. Kiln bounds each request itself (engine-call.ts).
 */
export function engineClient(): Docker {
  return new Docker({ timeout: 0 });
}

/** Whether the environment sets DOCKER_CLIENT_TIMEOUT, which engineClient() leaves unused. */
export const clientTimeoutSet = (env: NodeJS.ProcessEnv): boolean => (env.DOCKER_CLIENT_TIMEOUT ?? '') !== '';
