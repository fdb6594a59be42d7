// A client that keeps uploading after the server has answered: how long the server goes on
// taking a body it did not want (api/unread-body.ts bounds it).
import { connect } from 'node:net';

export interface UploadOutcome {
  /** The answer's status line code; 0 when none came. */
  status: number;
  /** Whether the server closed the connection before `giveUpMs` after its answer. */
  closed: boolean;
  /** Milliseconds from the answer to the close (or to giving up). */
  msAfterAnswer: number;
}

/**
 * Sends `head` (a request line and headers, without the blank line), then 64 KiB chunks of body,
 * as fast as the connection takes them or one every `paceMs`, until the server closes it or
 * `giveUpMs` pass after its answer.
 */
export function uploadUntilClosed(base: string, head: string, opts: { giveUpMs?: number; paceMs?: number } = {}): Promise<UploadOutcome> {
  const { giveUpMs = 6000, paceMs } = opts;
  const { hostname, port } = new URL(base);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return new Promise((resolve) => {
    let got = '';
    let answeredAt = 0;
    let finished = false;
    const socket = connect(Number(port), hostname);
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      clearInterval(paced);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), closed, msAfterAnswer: answeredAt ? Date.now() - answeredAt : 0 });
    };
    let paced: NodeJS.Timeout | undefined;
    const pump = () => {
      if (paceMs !== undefined) return;
      while (!finished && !socket.destroyed && socket.write(chunk));
    };
    const watch = setInterval(() => {
      if (answeredAt && Date.now() - answeredAt > giveUpMs) finish(false);
    }, 50);
    socket.on('connect', () => {
      socket.write(`${head}\r\nHost: x\r\n\r\n`);
      if (paceMs !== undefined) {
        paced = setInterval(() => {
          if (!finished && !socket.destroyed) socket.write(chunk);
        }, paceMs);
      }
      pump();
    });
    socket.on('drain', pump);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (!answeredAt && /\r\n\r\n/.test(got)) answeredAt = Date.now();
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}
