// Reads a call's request body whole, bounded by FN_MAX_REQUEST_SIZE, before a container is
// taken: a slow or oversized upload never holds a hot container or eats the fn's timeout.
// Bounded too by KILN_BODY_IDLE_TIMEOUT_MSECS of silence: with no deadline on a whole request
// (http-options.ts), a caller that sends a few bytes and then nothing held its connection and
// its request's admission for ever.
import type { IncomingMessage } from 'node:http';
import { AgentError } from '../agent/errors.js';
import { sendContinue } from './expect-continue.js';

const EMPTY = Buffer.alloc(0);

export interface BodyLimits {
  /** FN_MAX_REQUEST_SIZE: the most bytes a body may have; 0: no limit. */
  maxBytes: number;
  /** KILN_BODY_IDLE_TIMEOUT_MSECS: the longest wait for the body's next bytes; 0: no bound. */
  idleMs: number;
}

/** The body's bytes stopped arriving for `idleMs` while Kiln waited for them (408). */
export class BodyStalledError extends Error {
  constructor(readonly idleMs: number) {
    super(`Request timeout: no bytes of the request body arrived for ${idleMs / 1000} s`);
    this.name = 'BodyStalledError';
  }
}

export function readBody(req: IncomingMessage, { maxBytes, idleMs }: BodyLimits): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (maxBytes > 0 && Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new AgentError('request-too-large', `Content-Length too large for this server, ${declared} > max ${maxBytes}`));
  }
  if (declared === 0) return Promise.resolve(EMPTY);
  const gone = () => new AgentError('cancelled', 'client disconnected while sending the request');
  // Aborted before we started listening: no further event will come.
  if (req.readableAborted || req.destroyed) return Promise.reject(gone());
  // The body is wanted: a client waiting for `100 Continue` sends it now.
  sendContinue(req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      // The bound is on silence, not on the whole: a slow but steady upload goes on.
      idle?.refresh();
      size += chunk.length;
      if (maxBytes > 0 && size > maxBytes) {
        cleanup();
        req.resume();
        reject(new AgentError('request-too-large', `request body too large: over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, size));
    };
    // An abort mid-upload (an 'aborted' error, or a bare close) means the caller is gone.
    const onError = () => {
      cleanup();
      reject(gone());
    };
    // The rest will not come: the answer closes the connection (api/errors.ts).
    const onIdle = () => {
      cleanup();
      reject(new BodyStalledError(idleMs));
    };
    const cleanup = () => {
      clearTimeout(idle);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onError);
    };
    // A body already all in (the usual small one) needs no timer: only its 'end' is to come.
    const idle = idleMs > 0 && !req.complete ? setTimeout(onIdle, idleMs) : undefined;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onError);
  });
}
