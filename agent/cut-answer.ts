// Ending an answer that has begun so that its caller cannot take it for a whole one.
import type { Socket } from 'node:net';

/** What of a ServerResponse the cut needs. */
export interface BegunAnswer {
  destroy(err?: Error): unknown;
  /** Sends what the corked socket holds. */
  uncork?(): void;
  /** False once the head is out when the body is not chunked (a Content-Length, or an HTTP/1.0 caller). */
  readonly chunkedEncoding?: boolean;
  readonly socket?: Socket | null;
}

/**
 * Keeps what was written: a response corks its socket until the next tick, and a destroy in the
 * turn of a write (a Lambda daemon's head, first bytes and error trailers read together) would
 * drop the head with them, leaving the caller no answer at all.
 *
 * A chunked answer that stops without its last chunk tells the caller it was cut. One that is
 * not chunked is framed by its length or by the connection's end: an HTTP/1.0 caller's (nginx's
 * default upstream protocol) ends at the close, and a plain close would make the part sent look
 * whole. So its connection is reset instead: the caller sees an error, as a Go server's abort gives.
 */
export function cutAnswer(res: BegunAnswer, err?: Error): void {
  res.uncork?.();
  if (res.chunkedEncoding === false) res.socket?.resetAndDestroy();
  res.destroy(err);
}
