// Kiln's Lambda daemon says an invocation's END and REPORT follow its answer (extensions still
// at work): on a buffered answer in a header, on a response stream in a trailer (its head went
// out before the stream ended). The relay believes it from a Lambda container only, and the
// caller never gets it.
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
    req.resume();
    const late = req.url!.endsWith('-late');
    if (req.url!.startsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/plain', 'kiln-response-mode': 'streaming', trailer: 'kiln-report-late' });
      res.write('part 1, ');
      if (late) res.addTrailers({ 'kiln-report-late': '1' });
      res.end('part 2');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2', ...(late && { 'kiln-report-late': '1' }) });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(async () => {
  await client.close();
  server.close();
});

const cases: { name: string; path: string; lambda: boolean; reportLate: true | undefined; body: string }[] = [
  { name: 'a buffered Lambda answer with the header', path: '/buffered-late', lambda: true, reportLate: true, body: '{}' },
  { name: 'a buffered Lambda answer without it', path: '/buffered', lambda: true, reportLate: undefined, body: '{}' },
  { name: 'a Lambda response stream ending with the trailer', path: '/stream-late', lambda: true, reportLate: true, body: 'part 1, part 2' },
  { name: 'a Lambda response stream ending without it', path: '/stream', lambda: true, reportLate: undefined, body: 'part 1, part 2' },
  { name: 'not a Lambda container: the header is not believed', path: '/buffered-late', lambda: false, reportLate: undefined, body: '{}' },
];

for (const c of cases) {
  test(`reportLate: ${c.name}`, async () => {
    const target = new Target();
    const r = await relayCall(client, { path: c.path, method: 'POST', body: '' }, target, {
      maxBytes: 0, maxStreamedBytes: 0, gateway: false, signal: new AbortController().signal, lambda: c.lambda,
    });
    assert.equal(r.status, 200);
    assert.equal(r.reportLate, c.reportLate);
    assert.equal(target.body, c.body);
    assert.equal(target.headers['kiln-report-late'], undefined, 'the caller never gets it');
  });
}
