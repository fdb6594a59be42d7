// The relay tells the agent where a Lambda invocation's output begins (Kiln-Log-From) as the
// answer's head arrives: a stream's output is then placed as it comes, not held to its end.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client } from 'undici';
import { relayCall } from '../../agent/relay.js';
import { LOG_FROM_HEADER, STREAMING_HEADER, STREAMING_MODE } from '../../runtime/wire.js';
import { RecordingTarget as Target } from '../helpers/relay-target.js';

let server: Server;
let client: Client;
/** Ends the streamed answer the server is holding open. */
let release: () => void = () => {};

before(async () => {
  server = createServer((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'text/plain', [STREAMING_HEADER]: STREAMING_MODE };
    if (req.url === '/with-offset') headers[LOG_FROM_HEADER] = '42';
    res.writeHead(200, headers);
    res.write('first ');
    release = () => res.end('last');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(async () => {
  await client.close();
  server.close();
});

const cases: { name: string; path: string; lambda: boolean; told: (number | undefined)[] }[] = [
  { name: 'a Lambda stream: the offset, before the stream ends', path: '/with-offset', lambda: true, told: [42] },
  { name: 'a Lambda answer without one: told so, as its head arrives', path: '/without', lambda: true, told: [undefined] },
  { name: 'not a Lambda container: never told (any fn could send the header)', path: '/with-offset', lambda: false, told: [] },
];

for (const c of cases) {
  test(c.name, async () => {
    const told: (number | undefined)[] = [];
    const target = new Target();
    const done = relayCall(client, { path: c.path, method: 'POST', body: '' }, target, {
      maxBytes: 0, maxStreamedBytes: 0, gateway: false, signal: new AbortController().signal, lambda: c.lambda, passThrough: true,
      onLogFrom: (offset) => told.push(offset),
    });
    // The stream is still open: whatever is told is told from its head.
    for (let i = 0; i < 200 && !target.body.includes('first'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(target.body, 'first ');
    assert.deepEqual(told, c.told);
    release();
    assert.equal((await done).status, 200);
    assert.equal(target.body, 'first last');
    assert.deepEqual(told, c.told, 'told once');
  });
}
