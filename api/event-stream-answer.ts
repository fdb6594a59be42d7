// Where the agent writes a call's answer for InvokeWithResponseStream: each chunk of the
// function's answer goes on to the caller at once as a PayloadChunk event, with the caller's
// backpressure passed back (write() is false while the connection's buffer is full, and the
// agent waits for its 'drain'). The function's error answer (502, 504) is kept instead, and
// the stream ends with InvokeComplete once the handler knows how the call ended.
import type { OutgoingHttpHeaders } from 'node:http';
import type { ResponseTarget } from '../agent/relay.js';
import { EVENT_STREAM_CONTENT_TYPE, invokeComplete, payloadChunk, type InvokeComplete } from './event-stream.js';

/** The caller's connection, as much of a node ServerResponse as this needs. */
export interface StreamSink {
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
}

export class EventStreamAnswer implements ResponseTarget {
  headersSent = false;
  /** The function's status: 200 its answer, 502 or 504 its error. */
  status = 0;
  headers: OutgoingHttpHeaders = {};
  /** Why the answer was cut short after it began (a stream the function broke off, a limit). */
  failure: Error | undefined;
  private readonly errorChunks: Buffer[] = [];

  /** `head`: the HTTP headers of the event stream (the request id, the executed version). */
  constructor(private readonly sink: StreamSink, private readonly head: Record<string, string>) {}

  get destroyed(): boolean {
    return this.sink.destroyed;
  }

  /** The HTTP head of the event stream (a 200, whatever the function answered), once. */
  private open(): void {
    if (!this.sink.headersSent && !this.sink.destroyed) this.sink.writeHead(200, { ...this.head, 'content-type': EVENT_STREAM_CONTENT_TYPE });
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    this.open();
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.status !== 200) {
      this.errorChunks.push(chunk);
      return true;
    }
    // Nothing to say for an empty chunk; a gone caller's 'close' reaches the agent anyway.
    if (chunk.length === 0 || this.sink.destroyed) return true;
    return this.sink.write(payloadChunk(chunk));
  }

  end(chunk?: Buffer): void {
    if (chunk) this.write(chunk);
  }

  /** A cut answer is not a cut connection here: the failure is reported in InvokeComplete. */
  destroy(err?: Error): void {
    this.failure ??= err ?? new Error('the answer was cut short');
  }

  once(event: 'drain' | 'close', listener: () => void): void {
    this.sink.once(event, listener);
  }

  removeListener(event: 'drain' | 'close', listener: () => void): void {
    this.sink.removeListener(event, listener);
  }

  /** The function's error answer (a 502's or 504's body). */
  errorBody(): Buffer {
    return this.errorChunks.length === 1 ? this.errorChunks[0]! : Buffer.concat(this.errorChunks);
  }

  /** Ends the stream with InvokeComplete (opening it first if nothing went out yet). */
  complete(c: InvokeComplete): void {
    this.open();
    if (!this.sink.destroyed) this.sink.end(invokeComplete(c));
  }
}
