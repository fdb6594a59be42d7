// One client connection written by hand, to see exactly what the server sends and when: a
// `100 Continue` or not, the `Connection` header, whether the connection stays open.
import { connect, type Socket } from 'node:net';

export class RawConnection {
  /** Everything the server has sent, as latin1 text. */
  text = '';
  /** Settles when the server (or an error) closes the connection. */
  readonly closed: Promise<void>;
  private readonly socket: Socket;
  private readonly waiters = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      for (const w of this.waiters) w();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // a reset is a close here; `closed` says it
    socket.once('close', () => {
      for (const w of this.waiters) w();
    });
  }

  static open(base: string): Promise<RawConnection> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** Waits until what was received matches `re` (true), or `ms` pass or the connection closes first (false). */
  waitFor(re: RegExp, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (re.test(this.text)) finish(true);
        else if (this.socket.destroyed) finish(false);
      };
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), ms);
      this.waiters.add(check);
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The status codes of the answers (and interim answers) in `text`, in order. */
export const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

/** The first head in `text` that is not an interim (1xx) one, lower-cased. */
export function finalHead(text: string): string {
  for (const head of text.split('\r\n\r\n')) {
    if (/^HTTP\/1\.1 [2-5]\d\d/.test(head)) return head.toLowerCase();
  }
  return '';
}
