import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { callerHeaders } from '../../api/caller-headers.js';

/** The request node:http makes of these header lines (sent as they are). */
async function received(lines: string[]): Promise<IncomingMessage> {
  let got: IncomingMessage | undefined;
  const srv = createServer((req, res) => {
    got = req;
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    request({ port, host: '127.0.0.1', headers: lines }, (res) => res.resume().on('end', resolve)).on('error', reject).end();
  });
  await new Promise((r) => srv.close(r));
  return got!;
}

test('callerHeaders: without a repeated name, node:http\'s own headers object', async () => {
  const req = await received(['Host', 'h', 'X-A', '1', 'Cookie', 'c=1']);
  assert.equal(callerHeaders(req), req.headers);
});

test('callerHeaders: a repeated name keeps each value in order, the joined and the dropped kinds', async () => {
  const req = await received([
    'Host', 'first', 'X-A', '1', 'Content-Type', 'text/plain', 'Cookie', 'c=1', 'x-a', '2, 3', 'Content-Type', 'text/html',
    'Cookie', 'd=2', 'Host', 'second', 'Set-Cookie', 's=1', 'X-One', 'one',
  ]);
  assert.deepEqual({ ...callerHeaders(req) }, {
    // The Host the request was routed by (node:http's: the first).
    host: 'first', 'x-a': ['1', '2, 3'], 'content-type': ['text/plain', 'text/html'], cookie: ['c=1', 'd=2'], 'set-cookie': 's=1', 'x-one': 'one', connection: 'keep-alive',
  });
});

// Read into an object of no prototype: an object's own names are a caller's headers too.
test('callerHeaders: headers named constructor or __proto__, repeated, are headers like any other', async () => {
  const req = await received(['Host', 'h', 'Constructor', 'y', 'constructor', 'z', '__proto__', 'p1', '__proto__', 'p2']);
  const got = callerHeaders(req);
  assert.deepEqual(got.constructor, ['y', 'z']);
  assert.deepEqual(got.__proto__, ['p1', 'p2']);
  assert.deepEqual(Object.keys(got).sort(), ['__proto__', 'connection', 'constructor', 'host']);
});
