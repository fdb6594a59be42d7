// Small HTTP helpers for the daemon's two servers (node:http, no framework: the daemon is
// bundled into one file and runs in every Lambda container, so it stays small).
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import { LambdaApiError, truncatedRequest } from './errors.js';
import type { Outcome } from './invocation.js';

/** The service's buffered payload limit: 6 MiB + 100 bytes (RIE's MaxPayloadSize). */
export const MAX_PAYLOAD = 6 * 1024 * 1024 + 100;

/**
 * Request headers both servers take: runtimes send X-Ray error causes of up to 1 MiB (the Java,
 * Go, Python and Ruby clients crop there), Go's server, which the service runs, takes 1 MiB +
 * 4 KiB; and the agent's calls carry the caller's headers with its own (an HTTP trigger's
 * wrapped in Fn-Http-H-), more than the caller sent. Node's 16 KiB default would answer 431.
 */
export const MAX_HEADER_BYTES = (1 << 20) + 4096;

/**
 * The timeouts of both servers. requestTimeout (Node's default: 300 s) bounds a request until
 * its body has ended, and a response stream's POST lasts as long as the function streams, so it
 * is off; so is the inactivity timeout (server.timeout), as a `next` long poll waits, silent,
 * for hours between calls. headersTimeout bounds only the header block (Node stops counting once
 * a request's head is in, and an idle kept-alive connection is the keep-alive timeout's), so a
 * client that sends half a head, or connects and sends nothing, gets 408 and is closed instead
 * of holding its socket for good. Node checks every connectionsCheckingInterval.
 */
export const serverTimeouts = (headersTimeoutMs: number): Pick<ServerOptions, 'requestTimeout' | 'headersTimeout' | 'connectionsCheckingInterval'> => ({
  requestTimeout: 0,
  headersTimeout: headersTimeoutMs,
  connectionsCheckingInterval: Math.min(5000, headersTimeoutMs),
});

export class TooLarge extends Error {}

/**
 * Reads a body up to `limit` bytes; past it, drains the rest and throws TooLarge. A body that
 * breaks off (the connection lost, a malformed chunk) throws 400 TruncatedHTTPRequest.
 */
export function readBody(req: IncomingMessage, limit = MAX_PAYLOAD): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      if (!over) chunks.push(c);
    });
    req.on('end', () => (over ? reject(new TooLarge(`${size}`)) : resolve(Buffer.concat(chunks, size))));
    req.on('error', () => reject(truncatedRequest()));
    req.on('aborted', () => reject(truncatedRequest()));
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length, ...headers });
  res.end(data);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof LambdaApiError) {
    sendJson(res, err.status, { errorMessage: err.message, errorType: err.errorType });
    return;
  }
  sendJson(res, 500, { errorMessage: err instanceof Error ? err.message : String(err), errorType: 'InternalServerError' });
}

export const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * A header's value as text: node:http reads a header's bytes as Latin-1 (one character a byte),
 * and a runtime's error type is UTF-8 (Go's server, RIE, passes the bytes on as they are).
 */
export const headerText = (v: string): string => Buffer.from(v, 'latin1').toString('utf8');

/**
 * A response that failed while it was being written: aws-lambda-go declares the error
 * trailers on every response and fills them when its reader fails; the Node client does so
 * when a streaming handler throws. The service then answers the caller with that error
 * (type from the trailer, body the trailer's base64 JSON). Read once the body has ended.
 */
export function trailerError(req: IncomingMessage): Extract<Outcome, { kind: 'error' }> | undefined {
  // Its bytes as they came (records decode them).
  const type = req.trailers['lambda-runtime-function-error-type'];
  if (!type) return undefined;
  const body = Buffer.from(req.trailers['lambda-runtime-function-error-body'] ?? '', 'base64');
  return { kind: 'error', errorType: type, contentType: 'application/json', body };
}
