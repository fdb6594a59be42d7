// A container's wait, read so that a broken connection says so. dockerode's own wait never
// settles when the engine dies after sending the answer's head (Docker sends it at once, and
// the body only at the exit): docker-modem listens for the body's end and nothing else.
import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** The connection of a wait broke before the engine said how the container ended (a dockerd restart). */
export class WaitBroken extends Error {
  constructor() {
    super('the container engine broke off the wait for the container’s exit');
    this.name = 'WaitBroken';
  }
}

/** How long to wait between tries of a wait the engine broke off or refused (it restarts). */
const REWAIT_FIRST_MS = 250;
const REWAIT_MAX_MS = 5000;
/** Tries of the first wait, before the start, that the engine refuses with a 5xx or breaks off: then the start fails. */
const FIRST_WAIT_TRIES = 4;

const statusCodeOf = (err: unknown): number | undefined => (err as { statusCode?: number } | null)?.statusCode;

/** The engine's own trouble (unreachable, a broken connection, a 5xx), not an answer about the container. */
const engineTrouble = (err: unknown): boolean => {
  const status = statusCodeOf(err);
  return status === undefined || status >= 500;
};

/** One wait: `taken` once the engine has answered its head (rejects as `exit` does when it refused or could not be asked), `exit` once it says how the container ended. */
export interface OneWait {
  taken: Promise<void>;
  exit: Promise<{ StatusCode: number }>;
}

/**
 * The engine's answer to one wait (`next-exit`: the exit after this request, asked before the
 * start; `not-running`: at once when it has stopped). `exit` rejects with WaitBroken when the
 * connection ends before the answer, or with the engine's error (statusCode 404: no such container).
 * `abortSignal` ends the request (until its head has come, with an engine call's bound).
 */
export function waitOnce(docker: Docker, id: string, condition: 'next-exit' | 'not-running', abortSignal?: AbortSignal): OneWait {
  let took!: () => void;
  let refused!: (err: Error) => void;
  const taken = new Promise<void>((resolve, reject) => {
    took = resolve;
    refused = reject;
  });
  // Told through `exit` as well, which its caller always reads.
  taken.catch(() => {});
  const exit = new Promise<{ StatusCode: number }>((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${id}/wait?`,
        method: 'POST',
        options: { condition },
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
        ...(abortSignal && { abortSignal }),
      },
      (err: unknown, res: unknown) => {
        if (err) {
          refused(err as Error);
          return reject(err as Error);
        }
        took();
        const answer = res as IncomingMessage;
        const chunks: Buffer[] = [];
        let ended = false;
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('error', () => {});
        answer.on('end', () => {
          ended = true;
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number });
          } catch {
            reject(new WaitBroken());
          }
        });
        answer.on('close', () => {
          if (!ended) reject(new WaitBroken());
        });
      },
    );
  });
  return { taken, exit };
}

/**
 * The first wait (`next-exit`), asked before the start so that a container that dies at once is
 * still seen, once the engine has taken it. One the engine refuses with a 5xx, or cannot be
 * asked (a restart), is asked again, FIRST_WAIT_TRIES times in all (`next-exit` still: the
 * container has not started); then, or at another refusal, it rejects with the engine's error.
 */
export async function firstWait(docker: Docker, id: string, abortSignal: AbortSignal): Promise<OneWait> {
  for (let tries = 1, pause = REWAIT_FIRST_MS; ; tries++, pause = Math.min(2 * pause, REWAIT_MAX_MS)) {
    const wait = waitOnce(docker, id, 'next-exit', abortSignal);
    try {
      await wait.taken;
      return wait;
    } catch (err) {
      wait.exit.catch(() => {}); // the same error
      if (tries >= FIRST_WAIT_TRIES || !engineTrouble(err) || abortSignal.aborted) throw err;
    }
    await sleep(pause, undefined, { ref: false, signal: abortSignal });
  }
}

/**
 * How the container ended, from the first wait (taken before the start). When the engine breaks
 * a wait off, cannot be reached, or refuses it (a 5xx while it restarts), it is asked again
 * (`not-running`: it may have died with a dockerd that was killed), every 0.25–5 s, until it
 * answers or `givenUp()` (the container is being removed): the engine's trouble is not the
 * container's end, and a call running in it goes on. A container the engine no longer has
 * ended too: exit code -1. Rejects only once given up.
 */
export async function exitOf(docker: Docker, id: string, first: OneWait, givenUp: () => boolean): Promise<{ StatusCode: number }> {
  let wait = first;
  for (let pause = REWAIT_FIRST_MS; ; pause = Math.min(2 * pause, REWAIT_MAX_MS)) {
    try {
      return await wait.exit;
    } catch (err) {
      if (statusCodeOf(err) === 404) return { StatusCode: -1 };
      if (givenUp()) throw err;
    }
    await sleep(pause, undefined, { ref: false });
    if (givenUp()) throw new WaitBroken();
    wait = waitOnce(docker, id, 'not-running');
  }
}
