// The CLI (a subprocess) against a stand-in HTTP server, for answers a real Kiln gives only by
// accident or elsewhere: a REST answer cut short mid-body, and a 401 from an invoke endpoint on
// another origin than the context's.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliRun } from '../helpers/cli.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let work = '';
let handler: Handler = (_req, res) => res.end();
/** The Authorization header of each request the stand-in got. */
let auths: Array<string | undefined> = [];
let server: http.Server;
let url = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-cli-odd-'));
  server = http.createServer((req, res) => {
    auths.push(req.headers.authorization);
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await rm(work, { recursive: true, force: true });
});

const kiln = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(args, { cwd: work, env: { FN_API_URL: url, KILN_CONFIG_DIR: join(work, 'config'), ...env } });

/** Answers 200 with a Content-Length of 1000 and drops the connection after 10 bytes. */
const cutShort: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
  res.write('{"items": [');
  setTimeout(() => res.socket?.destroy(), 20);
};

describe('a REST answer cut short', () => {
  test('names the request; no response size limit; a write may have been applied', async () => {
    handler = cutShort;
    const list = await kiln(['list', 'apps']);
    assert.equal(list.code, 1, list.stderr);
    assert.match(list.stderr, /^Error: listing apps: the answer \(HTTP 200\) was cut short after \d+ bytes: .*\nThe connection dropped mid-answer .*try again\. Nothing was printed of it\.\n$/);
    assert.doesNotMatch(list.stderr, /FN_MAX_RESPONSE_SIZE|may have been applied/);
    assert.equal(list.stdout, '');

    const create = await kiln(['create', 'app', 'cut']);
    assert.equal(create.code, 1, create.stderr);
    assert.match(create.stderr, /^Error: creating app "cut": the answer \(HTTP 200\) was cut short after \d+ bytes: .*\n.*the server had taken the POST: it may have been applied\./);
    assert.doesNotMatch(create.stderr, /FN_MAX_RESPONSE_SIZE/);
  });

  test("an invoke's or a trigger's answer cut short names the call and the response size limit", async () => {
    handler = cutShort;
    const ep = await kiln(['invoke', '--endpoint', `${url}/invoke/01ABC`]);
    assert.match(ep.stderr, new RegExp(`^Error: calling function at ${url}/invoke/01ABC: the answer \\(HTTP 200\\) was cut short .*\\n.*FN_MAX_RESPONSE_SIZE`));
    assert.doesNotMatch(ep.stderr, /may have been applied/);
    const trig = await kiln(['invoke', '--trigger', 'app', '/hook']);
    assert.match(trig.stderr, /^Error: GET \/t\/app\/hook: the answer \(HTTP 200\) was cut short .*\n.*FN_MAX_RESPONSE_SIZE/);
  });
});

describe('invoke --endpoint on another origin than the API URL', () => {
  test('a 401 says the token was withheld, and why; no `kiln calls APP FN` hint', async () => {
    handler = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"message":"Invalid Authentication"}');
    };
    auths = [];
    // localhost and 127.0.0.1: one server, two origins.
    const api = url.replace('127.0.0.1', 'localhost');
    const r = await kiln(['invoke', '--endpoint', `${url}/invoke/01ABC`], { FN_API_URL: api, FN_TOKEN: 'secret' });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(auths, [undefined], 'the token is not sent to another origin');
    assert.match(r.stderr, new RegExp(`^Error: function at ${url}/invoke/01ABC failed \\(HTTP 401\\): Invalid Authentication\\nThe token \\(FN_TOKEN\\) was withheld: the endpoint's origin \\(${url}\\) differs from the API URL \\(${api}, from FN_API_URL\\)`));
    assert.doesNotMatch(r.stderr, /kiln calls/);
  });

  test("another failure, with a call id: the logs hint, and no `kiln calls APP FN` (--endpoint has no names)", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'application/json', 'fn-call-id': '01CALL' });
      res.end('{"message":"bad day"}');
    };
    const r = await kiln(['invoke', '--endpoint', `${url}/invoke/01ABC`], { FN_TOKEN: 'secret' });
    assert.equal(r.code, 1, r.stderr);
    // No names, so the log is not read: the hint says it may be empty.
    assert.match(r.stderr, /failed \(HTTP 502\): bad day\nCall 01CALL: `kiln logs APP FN 01CALL` shows its output, if it left any\.\n$/);
  });
});

describe('invoke APP FN that fails: the `kiln logs` hint only for a call with a log', () => {
  /** A stand-in Kiln with app `app`, fn `fn` failing each call as 01CALL, whose log reads are answered by `logs` in turn (the last one again). */
  const failingFn = (logs: Array<string | null>): { logReads: () => number } => {
    let reads = 0;
    handler = (req, res) => {
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const path = (req.url ?? '').split('?')[0];
      if (path === '/v2/apps') return json(200, { items: [{ id: 'A1', name: 'app' }] });
      if (path === '/v2/fns') return json(200, { items: [{ id: 'F1', name: 'fn', app_id: 'A1' }] });
      if (path === '/invoke/F1') return json(502, { message: 'bad day' }, { 'fn-call-id': '01CALL' });
      if (path === '/v2/fns/F1/calls/01CALL/log') {
        const log = logs[Math.min(reads++, logs.length - 1)];
        // null: not recorded yet, as just after the answer.
        return log === null ? json(404, { message: 'Call not found' }) : json(200, { call_id: '01CALL', log });
      }
      json(404, { message: 'not here' });
    };
    return { logReads: () => reads };
  };

  test('a call whose log is empty: no `kiln logs` hint, it says so', async () => {
    failingFn(['']);
    const r = await kiln(['invoke', 'app', 'fn']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /failed \(HTTP 502\): bad day\nCall 01CALL: it left no log; `kiln calls app fn` lists its calls\.\n$/);
  });

  test('a call recorded a moment after the answer, with a log: read again until it is there, then the hint', async () => {
    const s = failingFn([null, null, 'boom\n']);
    const r = await kiln(['invoke', 'app', 'fn']);
    assert.match(r.stderr, /\nCall 01CALL: `kiln logs app fn 01CALL` shows its output; `kiln calls app fn` lists its calls\.\n$/);
    assert.equal(s.logReads(), 3);
  });

  test('a call not recorded within a moment: the hint says its log may be empty', async () => {
    const s = failingFn([null]);
    const r = await kiln(['invoke', 'app', 'fn']);
    assert.match(r.stderr, /\nCall 01CALL: `kiln logs app fn 01CALL` shows its output, if it left any; `kiln calls app fn` lists its calls\.\n$/);
    assert.equal(s.logReads(), 6, 'one read and five more, then it gives up');
  });
});
