// The answers the HTTP server has not finished sending, so that a stop lets them end within its
// grace period before it closes every connection: a slow reader's answer outlives its call (the
// relay holds what the caller has not taken), as Go's http.Server.Shutdown waits for them in Fn.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export class OpenResponses {
  private open = 0;
  private waiters: (() => void)[] = [];
  /** Every connection, with its answers not yet all sent. */
  private readonly sockets = new Map<Socket, number>();

  /**
   * Follows `server`'s connections, and has its closeIdleConnections (which close() calls) spare
   * those still sending an answer: Node's own takes a connection whose answer has ended but is
   * not all sent (res.end() called, a slow reader's bytes still buffered) for idle, and cuts it.
   */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, 0);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.closeIdleConnections = () => {
      for (const [socket, open] of this.sockets) if (open === 0) socket.destroy();
    };
  }

  /** Counts `res` until it ends: 'close' comes once it is all sent, or when its connection goes. */
  track(req: IncomingMessage, res: ServerResponse): void {
    // req's: a pipelined request's res has no socket until the one before it is done.
    const socket = req.socket;
    this.open++;
    const onSocket = this.sockets.get(socket);
    if (onSocket !== undefined) this.sockets.set(socket, onSocket + 1);
    res.once('close', () => {
      const n = this.sockets.get(socket);
      if (n !== undefined) this.sockets.set(socket, n - 1);
      this.open--;
      if (this.open === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  get count(): number {
    return this.open;
  }

  /** Resolves once none is open, or after `ms` (at once when it is 0 or less). */
  settled(ms: number): Promise<void> {
    if (this.open === 0 || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, ms);
      this.waiters.push(done);
    });
  }
}
