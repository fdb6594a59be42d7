// An answer sent before its request's body was read (a refusal, a 404, a 413 on Content-Length):
// Node would go on reading, and dropping, the whole body to keep the connection, however large
// the declared length; a client without a token could keep a connection busy for gigabytes. As
// Go's net/http does for Fn, at most 256 KiB more are read (a small rest keeps the connection
// alive); past that, or when the body has not ended within 2 s, the connection is closed.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const UNREAD_BODY_LIMIT = 256 * 1024;
export const UNREAD_BODY_MS = 2000;
/** After our FIN, how long the client's last bytes are still taken in before the close. */
const LINGER_MS = 500;

/** Marks a request whose unread body is already bounded (it is on the request, not in a module-level set). */
const BOUNDED = Symbol('kiln.unreadBodyBounded');
type Marked = IncomingMessage & { [BOUNDED]?: true };

/** Bounds what is read of `res`'s request's unread body. Call it as the early answer is sent. */
export function boundUnreadBody(res: ServerResponse): void {
  const req: Marked = res.req;
  if (req.complete || req[BOUNDED]) return;
  req[BOUNDED] = true;
  const socket = req.socket;
  let left = UNREAD_BODY_LIMIT;
  const done = () => {
    clearTimeout(timer);
    req.removeListener('data', onData);
    req.removeListener('end', done);
    socket.removeListener('close', done);
  };
  // Half-close, then close: a close while the client is still sending makes the kernel answer
  // with a reset, which can discard our answer before the client has read it.
  const cut = () => {
    done();
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  const onData = (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) cut();
  };
  const timer = setTimeout(cut, UNREAD_BODY_MS);
  timer.unref();
  // Read (and count) here, so Node does not take the body over with its own uncounted drain.
  req.on('data', onData);
  req.once('end', done);
  socket.once('close', done);
  req.resume();
}
