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

/**
 * The engine's answer to one wait (`next-exit`: the exit after this request, asked before the
 * start; `not-running`: at once when it has stopped). Rejects with WaitBroken when the connection
 * ends before the answer, or with the engine's error (statusCode 404: no such container).
 */
export function waitOnce(docker: Docker, id: string, condition: 'next-exit' | 'not-running'): Promise<{ StatusCode: number }> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${id}/wait?`,
        method: 'POST',
        options: { condition },
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
      },
      (err: unknown, res: unknown) => {
        if (err) return reject(err as Error);
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
}

/**
 * How the container ended. The first wait is `next-exit` (asked before the start); when the engine
 * breaks it off or cannot be reached, it is asked again (`not-running`: it may have died with a
 * dockerd that was killed) until it answers, or `givenUp()` (the container is being removed). A
 * container the engine no longer has ended too: exit code -1. Another refusal rejects.
 */
export async function exitOf(docker: Docker, id: string, givenUp: () => boolean): Promise<{ StatusCode: number }> {
  let condition: 'next-exit' | 'not-running' = 'next-exit';
  for (let pause = REWAIT_FIRST_MS; ; pause = Math.min(2 * pause, REWAIT_MAX_MS)) {
    try {
      return await waitOnce(docker, id, condition);
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return { StatusCode: -1 };
      // The engine answered otherwise (a refusal is final), or the container is going anyway.
      if (status !== undefined || givenUp()) throw err;
      condition = 'not-running';
    }
    await sleep(pause, undefined, { ref: false });
    if (givenUp()) throw new WaitBroken();
  }
}
