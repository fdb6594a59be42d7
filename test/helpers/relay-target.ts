// A caller's response for relayCall tests: keeps the status, headers and body it is given.
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { ResponseTarget } from '../../agent/relay.js';

export class RecordingTarget extends EventEmitter implements ResponseTarget {
  headersSent = false;
  destroyed = false;
  status = 0;
  body = '';
  headers: OutgoingHttpHeaders = {};
  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    this.headersSent = true;
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(chunk: Buffer): boolean {
    this.body += chunk.toString();
    return true;
  }
  end(chunk?: Buffer): this {
    if (chunk) this.body += chunk.toString();
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}
