// Kiln's Lambda daemon says its sandbox stays busy after an answer (Kiln-Busy-After): the relay
// tells the agent, only for a Lambda container (any fn could send the header), and the caller
// never gets the header.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client } from 'undici';
import { relayCall } from '../../agent/relay.js';
import { RecordingTarget as Target } from '../helpers/relay-target.js';

let server: Server;
let client: Client;

before(async () => {
  server = createServer((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': '2' };
    if (req.url === '/busy') headers['kiln-busy-after'] = '1';
    res.writeHead(200, headers);
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(async () => {
  await client.close();
  server.close();
});

const cases: { name: string; path: string; lambda: boolean; busyAfter: true | undefined }[] = [
  { name: 'a Lambda answer marked busy-after', path: '/busy', lambda: true, busyAfter: true },
  { name: 'a Lambda answer without the mark', path: '/idle', lambda: true, busyAfter: undefined },
  { name: 'not a Lambda container: the mark is not believed', path: '/busy', lambda: false, busyAfter: undefined },
];

for (const c of cases) {
  test(`busyAfter: ${c.name}`, async () => {
    const target = new Target();
    const r = await relayCall(client, { path: c.path, method: 'POST', body: '' }, target, {
      maxBytes: 0, maxStreamedBytes: 0, gateway: false, signal: new AbortController().signal, lambda: c.lambda,
    });
    assert.equal(r.status, 200);
    assert.equal(r.busyAfter, c.busyAfter);
    assert.equal(target.body, '{}');
    assert.equal(target.headers['kiln-busy-after'], undefined, 'the caller never gets it');
    assert.equal(target.headers['content-type'], 'application/json');
  });
}
