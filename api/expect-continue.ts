// `Expect: 100-continue`: the client waits for `100 Continue` before it sends the body. Node
// sends it at once unless the server handles 'checkContinue', so a request Kiln refuses (401,
// 404, 413 on Content-Length) had its whole body uploaded first. As Go's net/http does for Fn,
// the 100 goes out only when the body is read (readBody); an answer sent without it closes the
// connection (Node's own rule), since the client may or may not send the body after it.
import type { IncomingMessage, ServerResponse } from 'node:http';

const WAITING = Symbol('kiln.waitingForContinue');
type Waiting = IncomingMessage & { [WAITING]?: ServerResponse };

/** Marks `req` as a client waiting for `100 Continue` on `res`, which readBody sends. */
export function holdContinue(req: IncomingMessage, res: ServerResponse): void {
  (req as Waiting)[WAITING] = res;
}

/** Sends `100 Continue` if the client waits for it, once: the body is about to be read. */
export function sendContinue(req: IncomingMessage): void {
  const waiting = req as Waiting;
  const res = waiting[WAITING];
  if (res === undefined) return;
  delete waiting[WAITING];
  if (!res.headersSent && !res.destroyed) res.writeContinue();
}
