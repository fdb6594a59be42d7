// A request Node's HTTP parser cannot read (a lower-case method, a bad header character, a head
// over MAX_REQUEST_HEAD_BYTES, one that did not arrive in time) never reaches a handler, and Node
// answers it with a bare status line. Kiln answers it in its JSON error shape, as any other bad
// input, under Node's own conditions: only when no answer is already under way on the
// connection, and then the connection closes (the parser cannot go on after an error).
// Its statuses are chosen here, not in errors.ts: there is no request or response object, only
// the socket, so the answer is written as raw HTTP (the body is errors.ts's shape).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_REQUEST_HEAD_BYTES, HEADERS_TIMEOUT_MS } from './http-options.js';

/** The status and message for the parser's error `code` (llhttp's, with its `reason`). */
export function clientErrorAnswer(code: string | undefined, reason: string | undefined): { status: number; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: `Request header fields too large: the request line and headers may be ${MAX_REQUEST_HEAD_BYTES} bytes at most` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: `Request timeout: the request line and headers did not arrive within ${HEADERS_TIMEOUT_MS / 1000} s` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'Request chunk extensions too large' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, message: 'Invalid method: methods are case-sensitive (GET, POST, PUT, DELETE, ...)' };
    default:
      return { status: 400, message: `Bad request: ${reason ?? 'the request could not be parsed'}` };
  }
}

interface ParserError extends Error {
  code?: string;
  reason?: string;
}

/** The server's 'clientError' listener. */
export function answerClientError(err: ParserError, socket: Duplex): void {
  // What Node checks too: an answer already begun on this connection must not be corrupted.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const { status, message } = clientErrorAnswer(err.code, err.reason);
    const body = JSON.stringify({ message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
