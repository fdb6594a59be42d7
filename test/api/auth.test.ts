// KILN_AUTH_TOKENS on a real server: what needs a token, what a refused request changes
// (nothing), which Authorization headers reach functions, and the CLI with and without one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { fixtureImage } from '../helpers/images.js';
import { uploadUntilClosed } from '../helpers/raw-upload.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'kiln-test-token-0123456789';
const OTHER = 'second/token+rotated==';
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** The status line's code of one raw HTTP/1.1 request (for request targets fetch cannot send). */
async function rawStatus(base: string, head: string): Promise<number> {
  return (await rawAnswer(base, head)).status;
}

/** A request written by hand (so its target is sent as it is): the status and the body. */
async function rawAnswer(base: string, head: string, body = ''): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const length = body ? `\r\nContent-Length: ${Buffer.byteLength(body)}` : '';
    const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\nHost: x${length}\r\nConnection: close\r\n\r\n${body}`));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), body: got.slice(got.indexOf('\r\n\r\n') + 4) }));
  });
}

interface Echo {
  headers: Record<string, string>;
}

describe('the API with KILN_AUTH_TOKENS set', () => {
  let db: TestDb;
  let srv: TestServer;
  let fnId = '';
  let configDir = '';

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: `${TOKEN},${OTHER}` });
    configDir = mkdtempSync(join(tmpdir(), 'kiln-test-cli-'));
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  test('/, /version and the web view answer without a token', async () => {
    for (const path of ['/', '/version', '/ui/']) {
      assert.equal((await call(srv.url, 'GET', path)).status, 200, path);
    }
  });

  test('every other path is 401 without a token, with a Bearer challenge, and changes nothing', async () => {
    const refused: [string, string, unknown?][] = [
      ['GET', '/v2/apps'],
      ['POST', '/v2/apps', { name: 'sneaky' }],
      ['GET', '/v2/fns?app_id=x'],
      ['GET', '/v2/triggers?app_id=x'],
      ['POST', '/invoke/01J0000000000000000000000A', {}],
      ['GET', '/metrics'],
      ['GET', '/bogus'],
      ['POST', '/version'],
    ];
    for (const [method, path, body] of refused) {
      const r = await call(srv.url, method, path, body);
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="kiln"', `${method} ${path}`);
      assert.deepEqual(r.body, { message: 'Authentication required: send "Authorization: Bearer <token>"' });
    }
    // A wrong token, or another scheme, is refused the same way and says so.
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.toUpperCase()}`, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`]) {
      const r = await call(srv.url, 'POST', '/v2/apps', { name: 'sneaky' }, { authorization: header });
      assert.equal(r.status, 401, header);
    }
    const wrong = await call(srv.url, 'GET', '/v2/apps', undefined, auth('not-the-right-token'));
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="kiln", error="invalid_token"');
    assert.deepEqual(wrong.body, { message: 'Invalid authentication token' });
    const apps = await call<{ items: unknown[] }>(srv.url, 'GET', '/v2/apps', undefined, auth(TOKEN));
    assert.equal(apps.status, 200);
    assert.deepEqual(apps.body.items, [], 'no refused write went through');
  });

  // Node went on reading and dropping the whole declared body after the 401: a client with no
  // token could keep a connection busy for as long as it declared. Now at most 256 KiB more, or 2 s.
  test('a refused upload is cut short: the connection closes soon after the 401; a small rest keeps it alive', async () => {
    for (const target of ['/v2/apps', '/2015-03-31/functions/x/invocations', '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV']) {
      const big = await uploadUntilClosed(srv.url, `POST ${target} HTTP/1.1\r\nContent-Length: 1000000000000`);
      assert.equal(big.status, 401, target);
      assert.ok(big.closed && big.msAfterAnswer < 3500, `${target}: closed ${big.closed} after ${big.msAfterAnswer} ms`);
    }
    // Public routes that answer without reading a body, too.
    for (const target of ['/version', '/ui/']) {
      const open = await uploadUntilClosed(srv.url, `GET ${target} HTTP/1.1\r\nContent-Length: 1000000000000`);
      assert.equal(open.status, 200, target);
      assert.ok(open.closed && open.msAfterAnswer < 3500, `${target}: closed ${open.closed} after ${open.msAfterAnswer} ms`);
    }
    // 3.2 MB/s: 256 KiB arrive in about 80 ms, so the byte bound, not the 2 s one, must close it.
    const paced = await uploadUntilClosed(srv.url, 'POST /v2/apps HTTP/1.1\r\nContent-Length: 1000000000000', { paceMs: 20 });
    assert.equal(paced.status, 401);
    assert.ok(paced.closed && paced.msAfterAnswer < 1200, `closed ${paced.closed} after ${paced.msAfterAnswer} ms`);
    // A rest that fits is read, and the connection serves the next request.
    const { hostname, port } = new URL(srv.url);
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write('POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
        setTimeout(() => socket.write(`${'x'.repeat(1000)}GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), 100);
      });
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(got));
    });
    assert.deepEqual([...answers.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]), ['401', '200']);
  });

  // /t/ is public, so what the trigger path cannot parse must not go on to express (where any
  // future route would then be open): the invoke handler answers it, as express would have.
  test('an unparsable trigger or invoke path is answered by the invoke handler, never by express', async () => {
    for (const path of ['/t/%ff/x', '/t//v2/apps', '/t/%ZZ']) {
      const r = await call(srv.url, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.message, `Path not found: GET ${path}`);
      assert.equal(r.headers.get('x-request-id'), null, `${path} reached express`);
    }
    const nul = await call(srv.url, 'GET', '/t/a%00/x');
    assert.equal(nul.status, 400);
    assert.match(nul.body.message, /NUL/);
  });

  test('an absolute-form request target is its path: public ones answer, the rest want the token', async () => {
    assert.equal(await rawStatus(srv.url, 'GET http://x/version HTTP/1.1'), 200);
    assert.equal(await rawStatus(srv.url, 'GET http://x/ui/ HTTP/1.1'), 200);
    assert.equal(await rawStatus(srv.url, 'GET http://x/v2/apps HTTP/1.1'), 401);
    assert.equal(await rawStatus(srv.url, 'GET http://x/t/../v2/apps HTTP/1.1'), 401);
    assert.equal(await rawStatus(srv.url, `GET http://x/v2/apps HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}`), 200);
  });

  test('a request target that is no path is a 400 in JSON that changes nothing; OPTIONS * is an empty 200, as Go serves it', async () => {
    for (const target of ['http://', 'https://[bad/v2/apps/x', 'http://:99999/v2/apps']) {
      const r = await rawAnswer(srv.url, `POST ${target} HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json`, '{"name":"by-odd-target"}');
      assert.deepEqual([r.status, r.body], [400, '{"message":"Invalid request target"}'], target);
    }
    const apps = await call<{ items: { name: string }[] }>(srv.url, 'GET', '/v2/apps?name=by-odd-target', undefined, auth(TOKEN));
    assert.deepEqual(apps.body.items, []);
    assert.deepEqual(await rawAnswer(srv.url, 'OPTIONS * HTTP/1.1'), { status: 200, body: '' });
  });

  test('with either token the API works; /invoke keeps Kiln’s token from the function', async () => {
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'guarded' }, auth(TOKEN));
    assert.equal(app.status, 200, JSON.stringify(app.body));
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'echo', app_id: app.body.id, image: await fixtureImage('tester') }, auth(OTHER));
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    fnId = fn.body.id;
    const trigger = await call(srv.url, 'POST', '/v2/triggers', { name: 'echo', app_id: app.body.id, fn_id: fnId, type: 'http', source: '/echo' }, auth(TOKEN));
    assert.equal(trigger.status, 200, JSON.stringify(trigger.body));

    const invoked = await call<Echo>(srv.url, 'POST', `/invoke/${fnId}`, {}, { ...auth(TOKEN), 'x-extra': 'kept' });
    assert.equal(invoked.status, 200, JSON.stringify(invoked.body));
    assert.equal(invoked.body.headers['x-extra'], 'kept');
    assert.equal(invoked.body.headers.authorization, undefined, 'Kiln’s token must not reach the function');

    await srv.agent.flushRecords();
    const calls = await call<{ items: unknown[] }>(srv.url, 'GET', `/v2/fns/${fnId}/calls`, undefined, auth(OTHER));
    assert.equal(calls.status, 200);
    assert.equal(calls.body.items.length, 1, 'the refused invoke made no call; this one did');
  });

  test('an HTTP trigger is public, and its caller’s own Authorization reaches the function', async () => {
    const plain = await call<Echo>(srv.url, 'POST', '/t/guarded/echo', {});
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    const own = await call<Echo>(srv.url, 'POST', '/t/guarded/echo', {}, { authorization: 'Bearer the-function-s-own' });
    assert.equal(own.status, 200);
    assert.equal(own.body.headers['fn-http-h-authorization'], 'Bearer the-function-s-own');
  });

  test('the kiln CLI sends the context’s token (FN_TOKEN), and says what to do without one', async () => {
    const env = { FN_API_URL: srv.url, KILN_CONFIG_DIR: configDir };
    const ok = await runCli(['list', 'apps'], { env: { ...env, FN_TOKEN: OTHER } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /guarded/);
    const invoked = await runCli(['invoke', 'guarded', 'echo'], { env: { ...env, FN_TOKEN: TOKEN }, input: '{}' });
    assert.equal(invoked.code, 0, invoked.stderr);
    // A trigger is the function's own door: the context's token stays out, a caller's own goes in.
    const viaTrigger = await runCli(['invoke', '--trigger', 'guarded', '/echo', '--body', '{}'], { env: { ...env, FN_TOKEN: TOKEN } });
    assert.equal(viaTrigger.code, 0, viaTrigger.stderr);
    assert.equal((JSON.parse(viaTrigger.stdout) as Echo).headers['fn-http-h-authorization'], undefined, 'Kiln’s token must not reach the function');
    const ownAuth = await runCli(['invoke', '--trigger', 'guarded', '/echo', '-H', 'Authorization: Bearer fn-own', '--body', '{}'], { env: { ...env, FN_TOKEN: TOKEN } });
    assert.equal((JSON.parse(ownAuth.stdout) as Echo).headers['fn-http-h-authorization'], 'Bearer fn-own');
    const refused = await runCli(['list', 'apps'], { env });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /wants a valid token: `kiln context update --token TOKEN` \(or set FN_TOKEN\)/);
  });
});

describe('KILN_AUTH_INVOKE=false: /invoke needs no token (as the fn CLI invokes), the API and the Lambda Invoke API still do', () => {
  let db: TestDb;
  let srv: TestServer;

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: TOKEN, KILN_AUTH_INVOKE: 'false' });
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  test('/invoke answers without a token; a token sent anyway stays out of the function; /v2 is still 401', async () => {
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'open-invoke' }, auth(TOKEN));
    const fn = await call(srv.url, 'POST', '/v2/fns', { name: 'echo', app_id: app.body.id, image: await fixtureImage('tester') }, auth(TOKEN));
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    const bare = await call<Echo>(srv.url, 'POST', `/invoke/${fn.body.id}`, {});
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    const withToken = await call<Echo>(srv.url, 'POST', `/invoke/${fn.body.id}`, {}, auth(TOKEN));
    assert.equal(withToken.status, 200);
    assert.equal(withToken.body.headers.authorization, undefined);
    // The Lambda Invoke API stays guarded: it takes a fn's name, which can be guessed.
    const lambda = await call<Echo>(srv.url, 'POST', '/2015-03-31/functions/echo/invocations', {}, auth(TOKEN));
    assert.equal(lambda.status, 200, JSON.stringify(lambda.body));
    assert.equal(lambda.body.headers.authorization, undefined);
    const guessed = await call(srv.url, 'POST', '/2015-03-31/functions/echo/invocations', {});
    assert.equal(guessed.status, 401);
    assert.equal(guessed.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.equal((await call(srv.url, 'GET', '/v2/apps')).status, 401);
    assert.equal((await call(srv.url, 'GET', `/v2/fns/${fn.body.id}/calls`)).status, 401);
  });
});

describe('without tokens: a web page elsewhere cannot write or invoke through the visitor’s browser', () => {
  let db: TestDb;
  let srv: TestServer;

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url);
  });
  after(async () => {
    await srv.stop();
    await db.cleanup();
  });

  test('cross-site writes and invokes are 403 and change nothing; same-origin, CLI, reads and triggers go on', async () => {
    const elsewhere = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', 'content-type': 'text/plain' };
    const refused = await call(srv.url, 'POST', '/v2/apps', JSON.stringify({ name: 'csrf' }), elsewhere);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /^Cross-site request refused \(Sec-Fetch-Site: cross-site\)/);
    const oldBrowser = await call(srv.url, 'POST', '/v2/apps', { name: 'csrf' }, { origin: 'http://localhost:1' });
    assert.equal(oldBrowser.status, 403);
    assert.deepEqual((await call(srv.url, 'GET', '/v2/apps')).body.items, [], 'nothing was created');
    const lambda = await call(srv.url, 'POST', '/2015-03-31/functions/f/invocations', '{}', elsewhere);
    assert.equal(lambda.status, 403);
    assert.equal((await call(srv.url, 'POST', '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV', '{}', elsewhere)).status, 403);

    const own = await call(srv.url, 'POST', '/v2/apps', { name: 'mine' }, { 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal((await call(srv.url, 'POST', '/v2/apps', { name: 'cli' })).status, 200);
    assert.equal((await call(srv.url, 'GET', '/v2/apps', undefined, elsewhere)).status, 200);
    // A trigger is a function's public page: another site's form may post to it (404 here: no such trigger).
    const trigger = await call(srv.url, 'POST', '/t/mine/form', 'a=1', elsewhere);
    assert.equal(trigger.status, 404);
    assert.match(trigger.body.message, /Trigger not found/);
  });
});
