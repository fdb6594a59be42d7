// boundUnreadBody on a real node:http server: the unread rest of a small body is read and the
// connection kept; nothing stays attached to the connection once the rest has been read.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { boundUnreadBody } from '../../api/unread-body.js';

let server: Server;
let port = 0;
const sockets: Socket[] = [];

before(async () => {
  // Every answer is an early one: sent before the body is read.
  server = createServer((_req, res) => {
    boundUnreadBody(res);
    res.writeHead(404, { 'content-length': '2' });
    res.end('no');
  });
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((r) => server.close(() => r())));

test('early answers on one kept-alive connection: each small rest is read, no listener piles up', async () => {
  const client = connect(port, '127.0.0.1');
  let got = '';
  client.on('data', (d: Buffer) => (got += d.toString('latin1')));
  await new Promise((r) => client.once('connect', r));
  const rounds = 15;
  for (let i = 0; i < rounds; i++) {
    client.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    // The rest comes after the answer, as from a client still uploading.
    await new Promise((r) => setTimeout(r, 20));
    client.write('y'.repeat(100));
  }
  // The last answer and the read of the last rest are waited for (a loaded machine may take
  // more than the 50 ms this once slept); a listener left behind would never go.
  const answers = () => [...got.matchAll(/HTTP\/1\.1 404/g)].length;
  const settled = () => answers() === rounds && sockets.length === 1 && sockets[0]!.listenerCount('close') <= 2;
  for (const end = Date.now() + 5000; !settled() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
  assert.equal([...got.matchAll(/HTTP\/1\.1 404/g)].length, rounds, 'every request answered on the same connection');
  assert.equal(sockets.length, 1);
  const serverSide = sockets[0]!;
  assert.ok(!serverSide.destroyed);
  // Node's own listeners only: none of ours is left from the 15 answers.
  assert.ok(serverSide.listenerCount('close') <= 2, `${serverSide.listenerCount('close')} close listeners`);
  client.destroy();
});
