// The server's logger (pino, JSON lines). Request logs carry the request's headers (pino-http's
// serializer), and some headers are credentials: Kiln's bearer token (KILN_AUTH_TOKENS), a
// trigger caller's own Authorization or cookies. Those never reach a log.
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-amz-security-token'];

export function createLogger(level: Level | 'silent', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { svc: 'kiln' },
    redact: { paths: REDACTED_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`]), censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
