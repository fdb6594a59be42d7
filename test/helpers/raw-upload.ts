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
export function uploadUntilClosed(
  base: string, head: string, opts: { giveUpMs?: number; paceMs?: number; chunked?: boolean } = {},
): Promise<UploadOutcome> {
  const { giveUpMs = 6000, paceMs, chunked = false } = opts;
  const { hostname, port } = new URL(base);
  const data = Buffer.alloc(64 * 1024, 'x');
  // With Transfer-Encoding: chunked (given in `head`), each piece is framed as a chunk.
  const chunk = chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data;
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
    const started = Date.now();
    // Gives up `giveUpMs` after the answer, or after the start when no answer comes.
    const watch = setInterval(() => {
      if (Date.now() - (answeredAt || started) > giveUpMs) finish(false);
    }, 50);
    socket.on('connect', () => {
      socket.write(`${head}\r\nHost: localhost\r\n\r\n`);
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
