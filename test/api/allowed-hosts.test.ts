// DNS rebinding on a real server: without tokens, a request made to a name Kiln does not know
// (a page whose DNS name was re-pointed at 127.0.0.1) is refused and changes nothing; triggers,
// localhost, IP addresses and allowed names go on; with tokens, the token decides as before.
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { fixtureImage } from '../helpers/images.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A JSON request with the Host header given (fetch cannot set it). */
function asHost(base: string, host: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname: to, port } = new URL(base);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: to, port, method, path, agent: false,
      headers: { ...headers, host, ...(text !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }) },
    }, (res) => {
      let got = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (got += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(got) : got }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** An HTTP/1.0 request with no Host header at all, written by hand: its status. */
function withoutHost(base: string, path: string): Promise<number> {
  const { hostname: to, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), to, () => socket.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0)));
  });
}

const TOKEN = 'kiln-test-token-0123456789';

describe('without tokens: requests made to an unknown name are refused (DNS rebinding)', () => {
  let db: TestDb;
  let srv: TestServer;
  let port = '';
  let evil = '';
  let appId = '';
  let fnId = '';

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_ALLOWED_HOSTS: 'kiln.test,.corp.example', FN_PUBLIC_LB_URL: 'http://public.example:9999' });
    port = new URL(srv.url).port;
    evil = `evil.example:${port}`;
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'home', config: { SECRET: 's3cret' } });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    appId = app.body.id;
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'echo', app_id: appId, image: await fixtureImage('tester') });
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    fnId = fn.body.id;
    const trigger = await call(srv.url, 'POST', '/v2/triggers', { name: 'echo', app_id: appId, fn_id: fnId, type: 'http', source: '/echo' });
    assert.equal(trigger.status, 200, JSON.stringify(trigger.body));
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  const callCount = async (): Promise<number> => {
    await srv.agent.flushRecords();
    return ((await call(srv.url, 'GET', `/v2/fns/${fnId}/calls`)).body.items as unknown[]).length;
  };

  test('reads, writes, invokes and the Lambda Invoke API under an unknown name: 403 naming the Host, and nothing changes', async () => {
    const calls = await callCount();
    // What a rebound page sends: its own name, its own origin, same-origin.
    const page = { origin: `http://${evil}`, 'sec-fetch-site': 'same-origin' };

    const list = await asHost(srv.url, evil, 'GET', '/v2/apps', undefined, page);
    assert.equal(list.status, 403, JSON.stringify(list.body));
    assert.match(list.body.message, new RegExp(`^Host "evil\\.example:${port}" is not allowed: .*KILN_ALLOWED_HOSTS.*KILN_AUTH_TOKENS`));
    assert.doesNotMatch(JSON.stringify(list.body), /s3cret/);
    const app = await asHost(srv.url, evil, 'GET', `/v2/apps/${appId}`, undefined, page);
    assert.equal(app.status, 403);

    const created = await asHost(srv.url, evil, 'POST', '/v2/apps', { name: 'rebound' }, page);
    assert.equal(created.status, 403, JSON.stringify(created.body));
    const names = ((await call(srv.url, 'GET', '/v2/apps')).body.items as { name: string }[]).map((a) => a.name);
    assert.deepEqual(names, ['home'], 'nothing was created');

    const invoked = await asHost(srv.url, evil, 'POST', `/invoke/${fnId}`, {}, page);
    assert.equal(invoked.status, 403, JSON.stringify(invoked.body));
    assert.match(invoked.body.message, /^Host "evil\.example:\d+" is not allowed/);

    // Lambda's error shape on its paths, as the token check answers there.
    const lambda = await asHost(srv.url, evil, 'POST', `/2015-03-31/functions/${fnId}/invocations`, {}, page);
    assert.equal(lambda.status, 403, JSON.stringify(lambda.body));
    assert.equal(lambda.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.ok(lambda.headers['x-amzn-requestid']);
    assert.match(lambda.body.message, /^Host "evil\.example:\d+" is not allowed/);

    // Forwarding headers say nothing: a same-origin page may set them.
    const forwarded = await asHost(srv.url, evil, 'GET', '/v2/apps', undefined, { 'x-forwarded-host': 'localhost', forwarded: 'host=localhost' });
    assert.equal(forwarded.status, 403);

    assert.equal(await callCount(), calls, 'no call was made');
  });

  test('a trigger, / and /version answer under any name', async () => {
    const calls = await callCount();
    const trigger = await asHost(srv.url, evil, 'POST', '/t/home/echo', { hi: 1 });
    assert.equal(trigger.status, 200, JSON.stringify(trigger.body));
    assert.equal(trigger.body.headers['fn-http-request-url'], `http://${evil}/t/home/echo`);
    assert.equal(await callCount(), calls + 1);
    assert.equal((await asHost(srv.url, evil, 'GET', '/version')).status, 200);
    assert.equal((await asHost(srv.url, evil, 'GET', '/')).status, 200);
  });

  test('localhost, IP addresses, no Host, this machine, FN_PUBLIC_LB_URL and KILN_ALLOWED_HOSTS names are answered', async () => {
    const own = hostname();
    const hosts = [
      `localhost:${port}`, 'LOCALHOST', `app.localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`,
      own, `${own.split('.')[0]!}:${port}`, `public.example:${port}`, `kiln.test:${port}`, 'KILN.TEST.', `a.corp.example:${port}`,
    ];
    for (const host of hosts) {
      const r = await asHost(srv.url, host, 'GET', '/v2/apps');
      assert.equal(r.status, 200, `${host}: ${JSON.stringify(r.body)}`);
    }
    const created = await asHost(srv.url, `kiln.test:${port}`, 'POST', '/v2/apps', { name: 'allowed' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const invoked = await asHost(srv.url, `127.0.0.1:${port}`, 'POST', `/invoke/${fnId}`, {});
    assert.equal(invoked.status, 200, JSON.stringify(invoked.body));
    assert.equal(await withoutHost(srv.url, '/v2/apps'), 200);
    // Only the listed names: a name under a listed one, or that merely ends like a domain, is not.
    for (const host of ['x.kiln.test', 'evilcorp.example', `${own}.evil.example`]) {
      assert.equal((await asHost(srv.url, host, 'GET', '/v2/apps')).status, 403, host);
    }
  });
});

describe('with tokens: the token decides, whatever the Host', () => {
  let db: TestDb;
  let srv: TestServer;

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: TOKEN });
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  test('an unknown name with a valid token works; without one it is the usual 401', async () => {
    const evil = `evil.example:${new URL(srv.url).port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await asHost(srv.url, evil, 'GET', '/v2/apps', undefined, auth)).status, 200);
    const created = await asHost(srv.url, evil, 'POST', '/v2/apps', { name: 'proxied' }, auth);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const refused = await asHost(srv.url, evil, 'GET', '/v2/apps');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer realm="kiln"');
  });
});
