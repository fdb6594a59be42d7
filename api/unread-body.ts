// An answer sent before its request's body was read (a refusal, a 404, a 413 on Content-Length):
// Node would go on reading, and dropping, the whole body to keep the connection, however large
// the declared length; a client without a token could keep a connection busy for gigabytes. As
// Go's net/http does for Fn, at most 256 KiB more are read (a small rest keeps the connection
// alive), and a body that does not end within that or within 2 s costs the connection.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const UNREAD_BODY_LIMIT = 256 * 1024;
export const UNREAD_BODY_MS = 2000;

const watched = new WeakSet<IncomingMessage>();

/** Once `res` is sent: bounds what is read of its request's unread body. Call before or after sending. */
export function boundUnreadBody(res: ServerResponse): void {
  const req = res.req;
  if (req.complete || watched.has(req)) return;
  watched.add(req);
  const bound = () => {
    if (req.complete) return;
    const socket = req.socket;
    let left = UNREAD_BODY_LIMIT;
    const timer = setTimeout(() => socket.destroy(), UNREAD_BODY_MS);
    timer.unref();
    const done = () => clearTimeout(timer);
    req.on('data', (chunk: Buffer) => {
      left -= chunk.length;
      if (left < 0) socket.destroy();
    });
    req.once('end', done);
    socket.once('close', done);
  };
  if (res.writableFinished) bound();
  else res.once('finish', bound);
}
