// TCP delivery for Telemetry and Logs API subscribers: one kept connection to the
// subscriber's port on this container's loopback, each event one line of JSON (NDJSON).
import { connect, type Socket } from 'node:net';

/** How long a connect or a write may wait on the consumer, as an HTTP delivery waits for its answer. */
const STALL_MS = 5000;

/** A batch as NDJSON: every event on its own line, each line ended by a newline. */
const ndjson = (batch: readonly unknown[]): string => batch.map((e) => `${JSON.stringify(e)}\n`).join('');

export class TcpSender {
  private socket: Socket | undefined;
  private closed = false;

  constructor(private readonly host: string, private readonly port: number) {}

  /**
   * Writes the batch on the kept connection, connecting first when there is none. True once
   * the kernel has taken it: TCP has no answer to wait for (the docs warn of exactly that).
   * False when nobody listens yet or the write stalls, so the caller retries with backoff.
   */
  async send(batch: readonly unknown[]): Promise<boolean> {
    const socket = this.socket ?? (await this.connect());
    if (!socket || this.closed) return false;
    return new Promise((resolve) => {
      const stall = setTimeout(() => socket.destroy(), STALL_MS);
      // Node calls back without an error when the socket is destroyed under a pending write.
      socket.write(ndjson(batch), (err) => {
        clearTimeout(stall);
        resolve(!err && !socket.destroyed);
      });
    });
  }

  private connect(): Promise<Socket | undefined> {
    return new Promise((resolve) => {
      const s = connect({ host: this.host, port: this.port });
      const stall = setTimeout(() => s.destroy(), STALL_MS);
      // Refused (the listener is not up yet) or stalled: no socket this time.
      s.once('close', () => {
        clearTimeout(stall);
        if (this.socket === s) this.socket = undefined;
        resolve(undefined);
      });
      s.on('error', () => {});
      s.once('connect', () => {
        clearTimeout(stall);
        if (this.closed) {
          s.destroy();
          return;
        }
        s.setNoDelay(true);
        // What the consumer writes back is read and dropped, so it cannot stall the connection.
        s.resume();
        this.socket = s;
        resolve(s);
      });
    });
  }

  /** Ends the connection after what was written; no connection after this. */
  close(): void {
    this.closed = true;
    const s = this.socket;
    this.socket = undefined;
    if (!s) return;
    s.end();
    // A consumer that never closes its side must not hold the socket (or the daemon) open.
    s.unref();
    setTimeout(() => s.destroy(), STALL_MS).unref();
  }
}
