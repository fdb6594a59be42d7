// A caller's response for relayCall tests: keeps the status and body it is given.
import { EventEmitter } from 'node:events';
import type { ResponseTarget } from '../../agent/relay.js';

export class RecordingTarget extends EventEmitter implements ResponseTarget {
  headersSent = false;
  destroyed = false;
  status = 0;
  body = '';
  writeHead(status: number): this {
    this.headersSent = true;
    this.status = status;
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
