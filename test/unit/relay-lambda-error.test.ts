// A lambda fn's error answer always fits, whatever FN_MAX_RESPONSE_SIZE: under a tiny limit the
// daemon's own Function.ResponseSizeTooLarge document would otherwise be cut in its turn.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client } from 'undici';
import { AgentError } from '../../agent/errors.js';
import { relayCall } from '../../agent/relay.js';
import { RecordingTarget as Target } from '../helpers/relay-target.js';

const DOC = JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: 'Response payload size (1220 bytes) exceeded maximum allowed payload size (120 bytes).' });
let server: Server;
let client: Client;

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (req.url === '/ok') return void res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(200));
    res.writeHead(502, { 'content-type': 'application/json', 'x-amz-function-error': 'Function.ResponseSizeTooLarge' }).end(DOC);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
after(async () => {
  await client.close();
  server.close();
});

const relay = (path: string, lambda: boolean, target: Target) => relayCall(client, { path, method: 'POST', body: '' }, target, {
  maxBytes: 120, maxStreamedBytes: 120, gateway: false, signal: new AbortController().signal, lambda,
});
const tooLarge = (err: unknown): boolean => err instanceof AgentError && err.kind === 'response-too-large';

test('a lambda fn\'s error document over a tiny limit reaches the caller whole', async () => {
  assert.ok(DOC.length > 120);
  const target = new Target();
  const r = await relay('/error', true, target);
  assert.equal(r.status, 502);
  assert.equal(r.functionError, 'Function.ResponseSizeTooLarge');
  assert.equal(target.body, DOC);
  // Read whole, not streamed: its type and message are the call's record.
  assert.deepEqual(r.errorDoc, JSON.parse(DOC));
});

test('the limit still holds for a lambda fn\'s answer, and for any other fn\'s error', async () => {
  await assert.rejects(relay('/ok', true, new Target()), tooLarge);
  await assert.rejects(relay('/error', false, new Target()), tooLarge);
});
