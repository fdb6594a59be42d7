// Request logs never carry credentials: pino-http logs every request's headers, and with
// KILN_AUTH_TOKENS set one of them is the server's own token.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pinoHttp } from 'pino-http';
import { createLogger, REDACTED_HEADERS } from '../../api/logger.js';

test('request logs show credential headers as [redacted] and keep the others', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger('info', sink);
  const withLog = pinoHttp({ logger: log });
  const server = createServer((req, res) => {
    withLog(req, res);
    res.setHeader('set-cookie', 'session=server-secret');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const secrets: Record<string, string> = {
      authorization: 'Bearer kiln-token-must-not-be-logged',
      'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
      cookie: 'session=client-secret',
      'x-amz-security-token': 'aws-session-secret',
    };
    const res = await fetch(`http://127.0.0.1:${port}/v2/apps`, { headers: { ...secrets, 'x-visible': 'shown' } });
    await res.text();
    await new Promise((r) => setImmediate(r));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const entry = lines.map((l) => JSON.parse(l) as { req?: { headers: Record<string, string> }; res?: { headers: Record<string, string> } }).find((e) => e.req);
  assert.ok(entry?.req, lines.join(''));
  assert.equal(entry.req.headers['x-visible'], 'shown');
  for (const name of ['authorization', 'proxy-authorization', 'cookie', 'x-amz-security-token']) {
    assert.ok(REDACTED_HEADERS.includes(name));
    assert.equal(entry.req.headers[name], '[redacted]', name);
  }
  assert.equal(entry.res?.headers['set-cookie'], '[redacted]');
  assert.doesNotMatch(lines.join(''), /must-not-be-logged|client-secret|server-secret|aws-session-secret|cHJveHk6/);
});
