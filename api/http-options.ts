// The API server's HTTP limits and timers, as Fn's Go server has them where Node's defaults differ.
import type { ServerOptions } from 'node:http';

/** Largest request head (request line and headers): Go's DefaultMaxHeaderBytes, not Node's 16 KiB. */
export const MAX_REQUEST_HEAD_BYTES = 1 << 20;

/** How long a request's head may take to arrive (Node's default, which requestTimeout: 0 would turn off). */
export const HEADERS_TIMEOUT_MS = 60_000;

/**
 * The API server's options. An idle kept-alive connection is kept `keepAliveTimeoutMs`
 * (KILN_KEEPALIVE_TIMEOUT_MSECS): a load balancer or proxy that keeps its upstream connections
 * longer sends a request into our close and answers its caller 502, and Go's server (Fn's) never
 * closes one. Node's default is 5 s.
 */
export function apiServerOptions(keepAliveTimeoutMs: number): ServerOptions {
  return {
    maxHeaderSize: MAX_REQUEST_HEAD_BYTES,
    // No deadline on a whole request (Node's is 300 s, cut with a 408): a slow upload is bounded
    // by FN_MAX_REQUEST_SIZE, as on Fn, once its head is in, and by KILN_BODY_IDLE_TIMEOUT_MSECS
    // of silence (read-body.ts), which a socket timeout here would also apply while the function runs.
    requestTimeout: 0,
    headersTimeout: HEADERS_TIMEOUT_MS,
    keepAliveTimeout: keepAliveTimeoutMs,
  };
}
