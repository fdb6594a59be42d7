// Kiln's Lambda daemon marks an answer for the agent: the sandbox stays busy after it
// (Kiln-Busy-After), or its END and REPORT follow later, extensions still at work
// (Kiln-Report-Late: a header on a buffered answer, a trailer on a response stream, whose head
// went out before it ended). The relay believes them from a Lambda container only, and the
// caller never gets them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client } from 'undici';
import { relayCall } from '../../agent/relay.js';
import { BUSY_AFTER_HEADER, REPORT_LATE_HEADER, STREAMING_HEADER, STREAMING_MODE } from '../../runtime/wire.js';
import { RecordingTarget as Target } from '../helpers/relay-target.js';

let server: Server;
let client: Client;

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    const marks = new Set(req.url!.slice(1).split('/'));
    if (marks.has('stream')) {
      res.writeHead(200, { 'content-type': 'text/plain', [STREAMING_HEADER]: STREAMING_MODE, trailer: REPORT_LATE_HEADER });
      res.write('part 1, ');
      if (marks.has('late')) res.addTrailers({ [REPORT_LATE_HEADER]: '1' });
      res.end('part 2');
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json', 'content-length': '2',
      ...(marks.has('busy') && { [BUSY_AFTER_HEADER]: '1' }), ...(marks.has('late') && { [REPORT_LATE_HEADER]: '1' }),
    });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(async () => {
  await client.close();
  server.close();
});

interface Case { name: string; path: string; lambda: boolean; busyAfter?: true; reportLate?: true; body?: string }
const cases: Case[] = [
  { name: 'a Lambda answer marked busy-after', path: '/busy', lambda: true, busyAfter: true },
  { name: 'a Lambda answer without marks', path: '/plain', lambda: true },
  { name: 'a buffered Lambda answer whose report comes late (header)', path: '/late', lambda: true, reportLate: true },
  { name: 'a Lambda response stream ending with the report-late trailer', path: '/stream/late', lambda: true, reportLate: true, body: 'part 1, part 2' },
  { name: 'a Lambda response stream ending without it', path: '/stream', lambda: true, body: 'part 1, part 2' },
  { name: 'not a Lambda container: no mark is believed', path: '/busy/late', lambda: false },
];

for (const c of cases) {
  test(`daemon marks: ${c.name}`, async () => {
    const target = new Target();
    const r = await relayCall(client, { path: c.path, method: 'POST', body: '' }, target, {
      maxBytes: 0, maxStreamedBytes: 0, gateway: false, signal: new AbortController().signal, lambda: c.lambda,
    });
    assert.equal(r.status, 200);
    assert.equal(r.busyAfter, c.busyAfter);
    assert.equal(r.reportLate, c.reportLate);
    assert.equal(target.body, c.body ?? '{}');
    assert.equal(target.headers[BUSY_AFTER_HEADER], undefined, 'the caller never gets it');
    assert.equal(target.headers[REPORT_LATE_HEADER], undefined, 'the caller never gets it');
  });
}
