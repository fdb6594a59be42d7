// The API server's HTTP limits and timers, as Fn's Go server has them where Node's defaults differ.
import type { ServerOptions } from 'node:http';

/** Largest request head (request line and headers): Go's DefaultMaxHeaderBytes, not Node's 16 KiB. */
export const MAX_REQUEST_HEAD_BYTES = 1 << 20;

export const API_SERVER_OPTIONS: ServerOptions = {
  maxHeaderSize: MAX_REQUEST_HEAD_BYTES,
};
