// Reads a call's request body whole, bounded by FN_MAX_REQUEST_SIZE, before a container is
// taken: a slow or oversized upload never holds a hot container or eats the fn's timeout.
import type { IncomingMessage } from 'node:http';
import { AgentError } from '../agent/errors.js';
import { sendContinue } from './expect-continue.js';

const EMPTY = Buffer.alloc(0);

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
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
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onError);
  });
}
