// An app's syslog_url, as on Fn: the engine's syslog driver sends the function containers'
// output there (facility user, RFC 5424, tagged app_id=...,fn_id=...), and the call's own log
// is still kept. Real receivers (TCP and UDP) on the loopback, where dockerd dials them.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { rawKnex } from '../helpers/fn-database.js';
import { call } from '../helpers/server.js';

/** An RFC 5424 message as the engine writes it: PRI, version, time, host, app name, pid, msgid, '-', text. */
const MESSAGE = /<(\d+)>1 \S+ \S+ (\S+) \d+ (\S+) - ([^\n]*)/g;

interface Received {
  pri: number;
  appName: string;
  msgId: string;
  text: string;
}

/** Polls `get` until it gives a value, for up to 10 s. */
async function waitFor<T>(get: () => T | undefined): Promise<T> {
  let value: T | undefined;
  assert.ok(await eventually(async () => (value = get()) !== undefined, 10_000), 'never arrived');
  return value!;
}

const UNIX_NOTE = ' (unix and unixgram only for the sockets this server lists in KILN_SYSLOG_SOCKETS)';

const parse = (raw: string): Received[] =>
  [...raw.matchAll(MESSAGE)].map((m) => ({ pri: Number(m[1]), appName: m[2]!, msgId: m[3]!, text: m[4]! }));

describe('an app\'s syslog_url', () => {
  let t: AgentSuite;
  let tcp: net.Server;
  let tcpPort: number;
  let tcpText = '';
  let udp: dgram.Socket;
  let udpPort: number;
  let udpText = '';
  const sockets = new Set<net.Socket>();

  const fnContainers = async (fnId: string) =>
    (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId);
  const setSyslog = async (url: string) => {
    const r = await call(t.srv.url, 'PUT', `/v2/apps/${t.appId}`, { syslog_url: url });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };

  before(async () => {
    t = await agentSuite('syslog', { KILN_LOG_FRAMES: 'true' }); // frames on: an app with a syslog_url still gets none
    tcp = net.createServer((s) => {
      sockets.add(s);
      s.setEncoding('utf8').on('data', (d: string) => (tcpText += d)).on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as net.AddressInfo).port;
    udp = dgram.createSocket('udp4');
    udp.on('message', (m) => (udpText += `${m.toString('utf8')}\n`));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    udpPort = udp.address().port;
  });

  after(async () => {
    await t?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => tcp?.close(r));
    udp?.close();
  });

  test('over TCP: stdout and stderr lines arrive tagged with the app and fn ids; the call log keeps them too', async () => {
    // The scheme in capitals, as Fn takes it: the engine is given it in lower case, as it wants.
    await setSyslog(`TCP://127.0.0.1:${tcpPort}`);
    const fn = await t.mkFn('tcp-logger');
    const r = await t.invoke(fn.id, { log: 'hello over tcp' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const tag = `app_id=${t.appId},fn_id=${fn.id}`;
    const got = await waitFor(() => {
      const lines = parse(tcpText).filter((m) => m.text === 'hello over tcp');
      return lines.length >= 2 ? lines : undefined;
    });
    for (const m of got) {
      assert.equal(m.appName, tag);
      assert.equal(m.msgId, tag);
    }
    // Facility user (1): stdout at info (6), stderr at err (3).
    assert.deepEqual(got.map((m) => m.pri).sort(), [11, 14]);
    const callId = r.headers.get('fn-call-id')!;
    assert.equal((await t.calls(fn.id))[0]?.id, callId); // the call's record (and log) written
    const log = await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${callId}/log`);
    assert.match(log.body.log, /hello over tcp\n.*hello over tcp/s);
    // No log frames: the engine would send them to the syslog too, where nothing takes them out.
    assert.equal((r.body as { env: Record<string, string> }).env.FN_LOGFRAME_NAME, undefined);
    assert.doesNotMatch(tcpText, /kiln_call=/);
  });

  test('changed to UDP: the next call runs in a new container that logs there', async () => {
    const fn = await t.mkFn('udp-logger');
    assert.equal((await t.invoke(fn.id, { log: 'before the change' })).status, 200);
    await setSyslog(`udp://127.0.0.1:${udpPort}`);
    const r = await t.invoke(fn.id, { log: 'hello over udp' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const got = await waitFor(() => parse(udpText).find((m) => m.text === 'hello over udp'));
    assert.equal(got.appName, `app_id=${t.appId},fn_id=${fn.id}`);
    assert.equal((r.body as { calls: number }).calls, 1, 'a fresh container took the call');
    assert.ok(!parse(tcpText).some((m) => m.text === 'hello over udp'), 'nothing went to the old destination');
  });

  test('a TCP syslog that refuses connections: the call fails with the engine\'s reason, nothing is left', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await setSyslog(`tcp://127.0.0.1:${port}`);
    const fn = await t.mkFn('refused-logger');
    const r = await t.invoke(fn.id, {});
    assert.equal(r.status, 502, JSON.stringify(r.body));
    // The fn's configuration is at fault, not the engine: a 502 naming it, not a 503 to retry.
    assert.match(r.body.message, /^container failed to start: the app's syslog_url cannot be used: failed to initialize logging driver: dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/);
    assert.equal(r.headers.get('retry-after'), null);
    // A trigger's caller, who may be anyone, is not told the internal log host and port.
    const trig = await call(t.srv.url, 'POST', '/v2/triggers', { name: 'refused-logger', app_id: t.appId, fn_id: fn.id, type: 'http', source: '/refused-logger' });
    assert.equal(trig.status, 200, JSON.stringify(trig.body));
    const pub = await fetch(`${t.srv.url}/t/syslog/refused-logger`);
    assert.equal(pub.status, 502);
    assert.deepEqual(await pub.json(), { message: 'container failed to start' });
    assert.deepEqual(await fnContainers(fn.id), []);
  });

  test('tls: the engine is given tcp+tls, and its TLS handshake reaches the receiver', async () => {
    // A receiver that reads the engine's first bytes and hangs up: the handshake fails, so the
    // call does, with the engine's reason, but what it sent shows it spoke TLS.
    const first: Buffer[] = [];
    const tlsPeer = net.createServer((s) => s.once('data', (d: Buffer) => (first.push(d), s.destroy())));
    await new Promise<void>((r) => tlsPeer.listen(0, '127.0.0.1', r));
    try {
      await setSyslog(`tls://127.0.0.1:${(tlsPeer.address() as net.AddressInfo).port}`);
      const fn = await t.mkFn('tls-logger');
      const r = await t.invoke(fn.id, {});
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.match(r.body.message, /^container failed to start: the app's syslog_url cannot be used: failed to initialize logging driver: /);
      // A TLS handshake record (0x16) carrying a ClientHello (1), not a syslog line.
      assert.equal(first[0]?.[0], 0x16, `got ${first[0]?.subarray(0, 16).toString('hex')}`);
      assert.equal(first[0]?.[5], 0x01);
      assert.deepEqual(await fnContainers(fn.id), []);
    } finally {
      await new Promise((r) => tlsPeer.close(r));
    }
  });

  // Stored before Kiln's checks, by Fn or an older Kiln: the agent holds them to today's rule and
  // never gives them to the engine. The app's fault, said as such, not an engine error to retry.
  const storeSyslog = async (url: string) => {
    const knex = rawKnex(t.db.url);
    try {
      await knex('apps').where({ id: t.appId }).update({ syslog_url: url });
    } finally {
      await knex.destroy();
    }
  };
  const stored: { name: string; url: string; why: string }[] = [
    { name: 'a unix socket (the engine\'s own)', url: 'unix:///var/run/docker.sock', why: ` invalid scheme, only [tcp, udp, tls, tcp+tls] are supported${UNIX_NOTE}` },
    { name: 'a unixgram socket', url: 'unixgram:///dev/log', why: ` invalid scheme, only [tcp, udp, tls, tcp+tls] are supported${UNIX_NOTE}` },
    { name: 'several URLs', url: 'tcp://127.0.0.1:6514,udp://127.0.0.1:514', why: ': it is not one URL' },
  ];
  for (const c of stored) {
    test(`a stored syslog URL Kiln refuses, ${c.name}: 502 naming syslog_url, no container, the call recorded`, async () => {
      await storeSyslog(c.url);
      const fn = await t.mkFn(`stored-${stored.indexOf(c)}`); // a write through the API: the cached app is dropped
      const r = await t.invoke(fn.id, {});
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.equal(r.body.message, `container failed to start: the app's syslog_url cannot be used: "${c.url}"${c.why}`);
      assert.equal(r.headers.get('retry-after'), null);
      assert.deepEqual(await fnContainers(fn.id), []);
      const [recorded] = await t.calls(fn.id);
      assert.equal(recorded?.status, 'error');
      // The app can still be read, and mended with a PUT.
      assert.equal((await call(t.srv.url, 'GET', `/v2/apps/${t.appId}`)).body.syslog_url, c.url);
    });
  }

  test('syslog_url removed: calls run without a log driver again', async () => {
    await setSyslog('');
    const fn = await t.mkFn('plain');
    const r = await t.invoke(fn.id, { log: 'plain line' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [c] = await fnContainers(fn.id);
    assert.ok(c);
    const info = await t.docker.getContainer(c.Id).inspect();
    assert.equal(info.HostConfig.LogConfig?.Type, 'none');
  });
});

// KILN_SYSLOG_SOCKETS: an operator may let apps log to a host socket they name (Fn's unix schemes).
describe('an app\'s syslog_url on a unix socket KILN_SYSLOG_SOCKETS lists', () => {
  let t: AgentSuite;
  let dir: string;
  let listener: net.Server;
  let text = '';
  const conns = new Set<net.Socket>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-syslog-'));
    const path = join(dir, 'log.sock');
    listener = net.createServer((s) => {
      conns.add(s);
      s.setEncoding('utf8').on('data', (d: string) => (text += d)).on('close', () => conns.delete(s));
    });
    await new Promise<void>((r) => listener.listen(path, r));
    t = await agentSuite('syslog-unix', { KILN_SYSLOG_SOCKETS: path });
  });

  after(async () => {
    await t?.close();
    for (const s of conns) s.destroy();
    await new Promise((r) => listener?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the listed socket takes the lines; another path is a 400 that changes nothing', async () => {
    const path = join(dir, 'log.sock');
    const other = await call(t.srv.url, 'PUT', `/v2/apps/${t.appId}`, { syslog_url: 'unix:///var/run/docker.sock' });
    assert.equal(other.status, 400);
    assert.match(other.body.message, /the socket \/var\/run\/docker\.sock is not one of those KILN_SYSLOG_SOCKETS lists/);
    assert.equal((await call(t.srv.url, 'GET', `/v2/apps/${t.appId}`)).body.syslog_url, undefined);

    const put = await call(t.srv.url, 'PUT', `/v2/apps/${t.appId}`, { syslog_url: `unix://${path}` });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const fn = await t.mkFn('unix-logger');
    const r = await t.invoke(fn.id, { log: 'hello over a unix socket' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const got = await waitFor(() => parse(text).find((m) => m.text === 'hello over a unix socket'));
    assert.equal(got.appName, `app_id=${t.appId},fn_id=${fn.id}`);
  });
});
