// Bounds the number of lines in a function's answer head as its bytes are read off the socket,
// before undici's parser makes objects of them. undici's maxHeaderSize counts name and value
// bytes only, so a million empty `a:` lines pass a 1 MiB bound and cost the agent about 300 MB
// and 5 s of CPU (two Buffers a header, then a string each). Counting lines here costs one
// indexOf a line while a head is being read, and nothing while a body is.
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import { AgentError } from './errors.js';

/**
 * The most header lines an answer's head may have, its status line not counted (the header
 * lines of interim 1xx heads before it count too).
 * Go's client (Fn's) bounds a head by its bytes only; Node's HTTP server keeps 2000 headers by
 * default and drops the rest. Far above what real answers send (a few dozen, hundreds of
 * cookies at most), and low enough that reading a head this long costs a few MB and ms.
 */
export const MAX_RESPONSE_HEAD_LINES = 10_000;

const LF = 0x0a;
const CR = 0x0d;
/** In `HTTP/1.1 103 ...`, the offset of the status code's first digit. */
const STATUS_DIGIT = 9;

/** The error a head over the bound fails its call with (a 502, as one over its byte bound). */
export const headTooLong = (): AgentError =>
  new AgentError('response-too-large', `function response headers too large: over ${MAX_RESPONSE_HEAD_LINES} header lines`);

/**
 * Counts the lines of the answer heads on one connection. Armed as a request goes out (one at a
 * time on a connection); it disarms itself at the end of the final (non-1xx) head, so the body's
 * bytes are not looked at.
 */
export class HeadMeter {
  private armed = false;
  private lines = 0;
  /** Bytes of the current line seen so far, and of the current head. */
  private lineBytes = 0;
  private headBytes = 0;
  /** The current line's last byte so far (a CR before the LF makes an empty line). */
  private last = 0;
  /** The current head's status is 1xx: another head follows it. */
  private interim = false;
  /** A byte of the answer to the request last sent has been read. */
  private heard = false;

  /** A request is going out: what the connection reads next is its answer's head. */
  arm(): void {
    this.armed = true;
    this.heard = false;
    // The status line is no header line.
    this.lines = -1;
    this.lineBytes = 0;
    this.headBytes = 0;
    this.last = 0;
    this.interim = false;
  }

  /** Reads a chunk off the connection; false once the head has more lines than the bound. */
  scan(chunk: Buffer): boolean {
    if (chunk.length > 0) this.heard = true;
    let from = 0;
    while (this.armed && from < chunk.length) {
      const lf = chunk.indexOf(LF, from);
      const end = lf === -1 ? chunk.length : lf;
      if (this.headBytes <= STATUS_DIGIT && this.headBytes + (end - from) > STATUS_DIGIT) {
        this.interim = chunk[from + STATUS_DIGIT - this.headBytes] === 0x31; // '1'
      }
      this.headBytes += end - from;
      if (end > from) this.last = chunk[end - 1]!;
      this.lineBytes += end - from;
      if (lf === -1) break;
      this.headBytes++;
      if (this.lineBytes === 0 || (this.lineBytes === 1 && this.last === CR)) {
        // An empty line ends a head: a 1xx's is followed by another, the final one by the body.
        if (this.interim) {
          this.headBytes = 0;
          this.interim = false;
          this.lines--; // the next head's status line
        } else this.armed = false;
      } else if (++this.lines > MAX_RESPONSE_HEAD_LINES) {
        this.armed = false;
        return false;
      }
      this.lineBytes = 0;
      this.last = 0;
      from = lf + 1;
    }
    return true;
  }

  /** Whether any byte of the answer to the request last sent has been read. */
  get answerBegun(): boolean {
    return this.heard;
  }

  /** Whether chunks are being looked at (the hot path's check). */
  get reading(): boolean {
    return this.armed;
  }
}

/**
 * Meters what undici reads off a connection: its parser takes every byte through socket.read(),
 * so a chunk is looked at before it is parsed, and one over the bound is never parsed at all
 * (the connection is destroyed with the error, which undici gives the call).
 */
export function meterReads(socket: Socket, meter: HeadMeter): void {
  const read = socket.read.bind(socket);
  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size);
    if (!meter.reading || !Buffer.isBuffer(chunk) || meter.scan(chunk)) return chunk;
    socket.destroy(headTooLong());
    return null;
  };
}

/** undici's own connector for a unix socket, its sockets metered. */
export function meteredConnector(socketPath: string, meter: HeadMeter): buildConnector.connector {
  const connect = buildConnector({ socketPath });
  return (opts, callback) => connect(opts, (err, socket) => {
    if (socket) meterReads(socket as Socket, meter);
    // undici's callback takes (err, null) or (null, socket): passed on as it came.
    (callback as (e: Error | null, s: unknown) => void)(err, socket);
  });
}
