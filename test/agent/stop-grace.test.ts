// What a SIGTERM's grace period covers besides calls on a container: an answer a slow reader is
// still taking (its call over), and calls waiting for their container (a cold start, capacity).
// Each is served within the grace and cut only at its end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { sqliteDb } from '../helpers/db.js';
import { docker as dockerClient, fixtureImage } from '../helpers/images.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';

const MiB = 1024 * 1024;

async function removeNodeContainers(docker: Docker, nodeId: string): Promise<void> {
  for (const c of await nodeContainers(docker, nodeId)) {
    await docker.getContainer(c.Id).remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
    });
  }
}

/** A server process with one fn of the tester image (`fields` on top of its defaults), and its clean-up. */
async function serverWithFn(env: Record<string, string>, fields: Record<string, unknown> = {}) {
  const docker = dockerClient();
  const tester = await fixtureImage('tester');
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const fullEnv = { FN_DB_URL: db.url, KILN_NODE_ID: uniqueNodeId(), FN_IOFS_PATH: iofs, KILN_DOCKER_PULL: 'false', ...env };
  let srv: ServerProcess | undefined;
  const cleanup = async () => {
    await srv?.stop('SIGKILL');
    await removeNodeContainers(docker, fullEnv.KILN_NODE_ID);
    rmSync(iofs, { recursive: true, force: true });
    await db.cleanup();
  };
  try {
    srv = await spawnServer(fullEnv);
    const app = (await call(srv.url, 'POST', '/v2/apps', { name: 'grace' })).body;
    const fn = (await call(srv.url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: tester, memory: 32, ...fields })).body;
    assert.ok(fn.id, JSON.stringify(fn));
    /** The fn's call records, read by a server started again on the same database (this one stopped). */
    const records = async (): Promise<{ status: string; error?: string }[]> => {
      const again = await spawnServer({ ...fullEnv, KILN_NODE_ID: `${fullEnv.KILN_NODE_ID}-b` });
      try {
        return ((await call(again.url, 'GET', `/v2/fns/${fn.id}/calls`)).body as { items: { status: string; error?: string }[] }).items;
      } finally {
        await again.stop('SIGTERM');
      }
    };
    return { srv, docker, nodeId: fullEnv.KILN_NODE_ID, fnId: fn.id as string, records, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** What a slow reader got of an HTTP/1.1 answer: its status, and its chunked body's bytes and whether it ended. */
interface SlowRead {
  status: number;
  bodyBytes: number;
  complete: boolean;
  /** Date.now() when the connection closed. */
  closedAt: number;
}

/** Decodes a chunked body as far as it goes. */
function chunked(body: Buffer): { bytes: number; complete: boolean } {
  let at = 0;
  let bytes = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) return { bytes, complete: false };
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return { bytes, complete: false };
    if (size === 0) return { bytes, complete: body.indexOf('\r\n', eol + 2) >= 0 };
    const end = eol + 2 + size;
    if (end + 2 > body.length) return { bytes: bytes + Math.max(0, body.length - eol - 2), complete: false };
    bytes += size;
    at = end + 2;
  }
}

/**
 * A caller that reads slowly, as the finding's: a socket with a 32 KiB receive buffer taking
 * 32 KiB every 50 ms (640 KiB/s). Node cannot set SO_RCVBUF, and without it the kernel's
 * buffers on loopback grow to take a whole answer at once: so Python, writing what it got to
 * stdout, and a line to stderr once the answer has begun.
 */
const SLOW_READER = `import socket, sys, time
host, port, path, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
s.connect((host, port))
s.sendall(b'POST %s HTTP/1.1\\r\\nHost: %s:%d\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n' % (path.encode(), host.encode(), port, len(body)) + body)
first = True
while True:
    try:
        d = s.recv(32768)
    except ConnectionResetError:
        break
    if not d:
        break
    sys.stdout.buffer.write(d)
    if first:
        sys.stderr.write('began\\n')
        sys.stderr.flush()
        first = False
    time.sleep(0.05)
`;

/** Invokes with the slow reader. `started` resolves once the answer has begun. */
function slowInvoke(url: string, fnId: string, body: string): { started: Promise<void>; done: Promise<SlowRead> } {
  const { hostname, port } = new URL(url);
  const py = spawn('python3', ['-c', SLOW_READER, hostname, port, `/invoke/${fnId}`, body], { stdio: ['ignore', 'pipe', 'pipe'] });
  const got: Buffer[] = [];
  py.stdout.on('data', (d: Buffer) => got.push(d));
  let err = '';
  const started = new Promise<void>((resolve) => {
    py.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('began')) resolve();
    });
  });
  const done = new Promise<SlowRead>((resolve, reject) => {
    py.once('error', reject);
    py.once('close', (code) => {
      const closedAt = Date.now();
      if (code !== 0) return reject(new Error(`the slow reader exited with ${code}: ${err}`));
      const all = Buffer.concat(got);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd < 0) return reject(new Error(`no answer head: ${all.toString('latin1')}`));
      const head = all.subarray(0, headEnd).toString('latin1');
      if (!/\r\ntransfer-encoding: chunked/i.test(head)) return reject(new Error(`not chunked: ${head}`));
      const { bytes, complete } = chunked(all.subarray(headEnd + 4));
      resolve({ status: Number(head.split(' ')[1]), bodyBytes: bytes, complete, closedAt });
    });
  });
  return { started, done };
}

const ANSWER_BYTES = 6_000_000;

test('an answer a slow reader is still taking at SIGTERM is sent whole within the grace period; the server then stops', { timeout: 90_000 }, async () => {
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '30000' }, { timeout: 60 });
  try {
    const read = slowInvoke(s.srv.url, s.fnId, JSON.stringify({ bytes: ANSWER_BYTES }));
    await read.started;
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    const code = await s.srv.stop('SIGTERM');
    const exitedAt = Date.now();
    const r = await read.done;
    assert.equal(code, 0);
    assert.equal(r.status, 200);
    assert.deepEqual({ bytes: r.bodyBytes, complete: r.complete }, { bytes: ANSWER_BYTES, complete: true }, 'the whole answer, its chunked body ended');
    // Not the whole grace period: once the answer was all sent.
    assert.ok(exitedAt - t0 < 25_000, `the server stopped once the answer was sent (${exitedAt - t0} ms)`);
    assert.match(s.srv.output(), /"responses":1,"msg":"stopping: waiting, within KILN_SHUTDOWN_GRACE_MSECS, for answers still being sent"/);
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), []);
  } finally {
    await s.cleanup();
  }
});

test('an answer still being taken when the grace period ends is cut then, and the server stops', { timeout: 90_000 }, async () => {
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '1500' }, { timeout: 60 });
  try {
    const read = slowInvoke(s.srv.url, s.fnId, JSON.stringify({ bytes: ANSWER_BYTES }));
    await read.started;
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const code = await s.srv.stop('SIGTERM');
    const took = Date.now() - t0;
    const r = await read.done;
    assert.equal(code, 0);
    assert.equal(r.status, 200);
    assert.equal(r.complete, false, `the answer was cut (${r.bodyBytes} bytes)`);
    // 2 s in, the reader has taken some 1.3 MB; the server's buffers hold at most 4 MB more.
    assert.ok(took >= 1400 && took < 8000, `the stop waited out the grace period, not more (${took} ms)`);
    assert.match(s.srv.output(), /"responses":1,"msg":"stopping: KILN_SHUTDOWN_GRACE_MSECS ran out: cutting answers still being sent"/);
  } finally {
    await s.cleanup();
  }
});

test('a call whose container is still starting at SIGTERM is served within the grace period', { timeout: 60_000 }, async () => {
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '10000' }, { config: { MODE: 'slowstart', STARTUP_MS: '2500' } });
  try {
    const answer = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, {});
    assert.ok(await eventually(async () => (await fetch(`${s.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="starting"} 1'), 10_000));
    assert.equal(await s.srv.stop('SIGTERM'), 0);
    const r = await answer;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), [], 'the container it started is removed by the stop');
    assert.deepEqual((await s.records()).map((c) => c.status), ['success']);
  } finally {
    await s.cleanup();
  }
});

test('a call queued for capacity at SIGTERM is served within the grace period', { timeout: 60_000 }, async () => {
  // Room for one container: the second call waits for the first one's.
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '10000', FN_MAX_TOTAL_MEMORY_BYTES: String(48 * MiB), FN_FREEZE_IDLE_MSECS: '-1' });
  try {
    const first = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, { sleepMs: 2000 });
    assert.ok(await eventually(async () => (await fetch(`${s.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="busy"} 1'), 10_000));
    const second = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, {});
    assert.ok(await eventually(async () => /^kiln_calls_queued 1$/m.test(await fetch(`${s.srv.url}/metrics`).then((r) => r.text())), 5000), 'the second call waits');
    assert.equal(await s.srv.stop('SIGTERM'), 0);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), []);
  } finally {
    await s.cleanup();
  }
});

test('a call still waiting for its container when the grace period ends gets 503 and is recorded as cancelled; the container starting for it is removed', { timeout: 60_000 }, async () => {
  const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '1000' }, { config: { MODE: 'slowstart', STARTUP_MS: '4000' } });
  try {
    const answer = call(s.srv.url, 'POST', `/invoke/${s.fnId}`, {});
    assert.ok(await eventually(async () => (await fetch(`${s.srv.url}/metrics`).then((r) => r.text())).includes('kiln_containers{state="starting"} 1'), 10_000));
    const t0 = Date.now();
    assert.equal(await s.srv.stop('SIGTERM'), 0);
    const r = await answer;
    const message = 'Server is shutting down: the call was still waiting for a container when KILN_SHUTDOWN_GRACE_MSECS ran out';
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal((r.body as { message: string }).message, message);
    assert.equal(r.headers.get('retry-after'), '15');
    assert.ok(Date.now() - t0 >= 900, 'not before the grace period ended');
    assert.deepEqual(await nodeContainers(s.docker, s.nodeId), [], 'nothing left running');
    assert.deepEqual((await s.records()).map((c) => [c.status, c.error]), [['cancelled', message]]);
  } finally {
    await s.cleanup();
  }
});

/**
 * A POST whose head is sent now and whose body (`body`) waits until `rest()` is called: the
 * server has taken the request and is reading it. `answer` resolves with the status line's code.
 */
function slowUpload(url: string, path: string, body: string): { rest: () => void; answer: Promise<number> } {
  const { hostname, port } = new URL(url);
  const sock = connect(Number(port), hostname);
  sock.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 1)}`);
  let got = '';
  sock.on('data', (d: Buffer) => {
    got += d.toString('latin1');
  });
  const answer = new Promise<number>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('close', () => (got ? resolve(Number(got.split(' ')[1])) : reject(new Error('no answer'))));
  });
  return { rest: () => void sock.write(body.slice(1)), answer };
}

for (const door of [
  { name: '/invoke', path: (fnId: string) => `/invoke/${fnId}` },
  { name: "the Lambda Invoke API's", path: (fnId: string) => `/2015-03-31/functions/${fnId}/invocations` },
]) {
  test(`a call on ${door.name} path whose body is still arriving at SIGTERM is served within the grace period, as Go's Shutdown finishes a request begun`, { timeout: 60_000 }, async () => {
    const s = await serverWithFn({ KILN_SHUTDOWN_GRACE_MSECS: '10000' });
    try {
      const upload = slowUpload(s.srv.url, door.path(s.fnId), '{"n":1}');
      // The request is in the server (its head read, its body not all there) before the stop.
      await new Promise((r) => setTimeout(r, 300));
      const stopped = s.srv.stop('SIGTERM');
      assert.ok(await eventually(async () => s.srv.output().includes('stopping: no new calls'), 5000), 'the stop has begun');
      upload.rest();
      assert.equal(await upload.answer, 200);
      assert.equal(await stopped, 0);
      assert.deepEqual(await nodeContainers(s.docker, s.nodeId), []);
      assert.deepEqual((await s.records()).map((c) => c.status), ['success']);
    } finally {
      await s.cleanup();
    }
  });
}
