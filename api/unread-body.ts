// An answer sent before its request's body was read (a refusal, a 404, a 413 on Content-Length):
// Node would go on reading, and dropping, the whole body to keep the connection, however large
// the declared length; a client without a token could keep a connection busy for gigabytes. As
// Go's net/http does for Fn, at most 256 KiB more are read (a small rest keeps the connection
// alive); past that, or when the body has not ended within 2 s, the connection is closed.
// Such an answer says so itself (`Connection: close`, as Go's `tooBig` answer does) when the
// declared rest is over 256 KiB or its length is unknown (chunked), so a keep-alive client
// does not send its next request on a connection about to close.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const UNREAD_BODY_LIMIT = 256 * 1024;
export const UNREAD_BODY_MS = 2000;
/** After our FIN, how long the client's last bytes are still taken in before the close. */
const LINGER_MS = 500;

/** Marks a request whose unread body is already bounded (it is on the request, not in a module-level set). */
const BOUNDED = Symbol('kiln.unreadBodyBounded');
type Marked = IncomingMessage & { [BOUNDED]?: true };

/**
 * Whether more of the body may be left than an early answer reads: a declared length over the
 * bound, or a chunked body not yet ended. (A request with neither header has no body.)
 */
export function unreadRestTooBig(req: IncomingMessage): boolean {
  if (req.complete) return false;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return Number(req.headers['content-length'] ?? 0) > UNREAD_BODY_LIMIT;
}

/**
 * Half-close, then close: a close while the client is still sending makes the kernel answer
 * with a reset, which can discard our answer before the client has read it.
 */
function lingeringClose(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Bounds what is read of `res`'s request's unread body. Call it as the early answer is sent,
 * before its head where possible: then a rest too big to read gets `Connection: close`.
 */
export function boundUnreadBody(res: ServerResponse): void {
  const req: Marked = res.req;
  if (req.complete || req[BOUNDED]) return;
  req[BOUNDED] = true;
  const socket = req.socket;
  if (!res.headersSent && unreadRestTooBig(req)) res.setHeader('Connection', 'close');
  // Node closes a connection after an answer that says `close` (or that refused an
  // `Expect: 100-continue` body) with destroySoon(), which destroys it as soon as our FIN is
  // out: that close lingers too.
  socket.destroySoon = () => lingeringClose(socket);
  let left = UNREAD_BODY_LIMIT;
  const done = () => {
    clearTimeout(timer);
    req.removeListener('data', onData);
    req.removeListener('end', done);
    socket.removeListener('close', done);
  };
  const cut = () => {
    done();
    lingeringClose(socket);
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

/**
 * Bounds the unread body of an answer written by code that does not call boundUnreadBody
 * itself (express's routes): at its head, whichever way it is written (writeHead, or end()'s
 * implicit head, which calls this.writeHead).
 */
export function boundUnreadBodyAtHead(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    boundUnreadBody(this);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof writeHead;
}
