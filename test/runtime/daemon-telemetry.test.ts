// Telemetry delivery around the container's lifecycle, against the daemon as a process: a freeze
// (simulated by SIGSTOP of the daemon and everything it started, as `docker pause` stops them
// all) does not cut a delivery in flight, the idle gate waits for one, a shutdown delivers what
// is queued (a failed call's records before SHUTDOWN); and extensions' output: a late backlog
// stays its call's, the eleventh extension fails the init.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertAccepted, assertFailure, bashRuntime, freePort, invoke, register, subscribeTelemetry, until, withDaemon, type Daemon, type Json } from '../helpers/daemon.js';
import { LOG_FROM_HEADER } from '../../runtime/wire.js';

interface Batch {
  events: Json[];
  receivedAt: number;
  /** When the listener answered it. */
  ackedAt?: number;
}

/** A Telemetry API listener in the test: `hold` decides when each batch is answered 200. */
async function listener(hold: (b: Batch) => Promise<void>) {
  const port = await freePort();
  const batches: Batch[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const b: Batch = { events: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json[], receivedAt: Date.now() };
      batches.push(b);
      void hold(b).then(() => {
        b.ackedAt = Date.now();
        res.writeHead(200).end();
      });
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const events = () => batches.flatMap((b) => b.events);
  return {
    port, batches, events,
    count: (type: string) => events().filter((e) => e.type === type).length,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Registers as the launched extension `name`, subscribes `types` to the listener, parks in next. */
async function subscribe(d: Daemon, name: string, port: number, types: string[], events: string[] = []): Promise<{ next: Promise<unknown> }> {
  const id = await register(d, name, events);
  await subscribeTelemetry(d, id, port, types);
  return { next: d.eventNext(id) };
}

/** The daemon and everything it started, stopped and continued as `docker pause`/`unpause` do. */
function signalAll(d: Daemon, sig: 'SIGSTOP' | 'SIGCONT'): void {
  for (const pid of [d.child.pid!, ...d.descendants()]) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

/** A launched extension the test registers for (it only sleeps). */
const sleeper = { sub: '#!/bin/sh\nexec sleep 1001\n' };

describe('Telemetry delivery and freezing', () => {
  test('a container frozen while a delivery waits for its 200: the batch counts once, not sent again on the thaw', async () => {
    let d: Daemon | undefined;
    let frozen = false;
    const l = await listener(async (b) => {
      if (frozen || !b.events.some((e) => e.type === 'platform.report')) return;
      // The freeze comes while the subscriber works on the batch: longer than the delivery's
      // 5 s bound, and the subscriber answers only once thawed, as it was frozen too.
      frozen = true;
      signalAll(d!, 'SIGSTOP');
      await sleep(5300);
      signalAll(d!, 'SIGCONT');
      await sleep(100);
    });
    try {
      await withDaemon({ extensions: sleeper }, async (daemon) => {
        d = daemon;
        await subscribe(daemon, 'sub', l.port, ['platform']);
        const inv = await invoke(daemon, { 'fn-call-id': 'frozen' });
        assertAccepted(await daemon.post(inv.id, 'response', '"ok"'));
        void daemon.next();
        assert.equal((await inv.answer).status, 200);
        await until(() => l.batches.some((b) => b.ackedAt !== undefined && b.events.some((e) => e.type === 'platform.report')), 9000, () => 'no report acknowledged');
        await sleep(700);
        // Before, the delivery's wall-clock timeout fired on the thaw, before the 200 was read,
        // and the batch went again (each report arrived two to three times).
        assert.equal(l.count('platform.report'), 1, `platform.report arrived ${l.count('platform.report')} times`);
        assert.equal(l.count('platform.logsDropped'), 0);
      });
    } finally {
      l.close();
    }
  });

  test('/.kiln/idle (the freeze gate) waits for a delivery in flight', async () => {
    const l = await listener(async (b) => {
      if (b.events.some((e) => e.type === 'platform.report')) await sleep(400);
    });
    try {
      await withDaemon({ extensions: sleeper }, async (d) => {
        await subscribe(d, 'sub', l.port, ['platform']);
        const inv = await invoke(d, { 'fn-call-id': 'gate' });
        assertAccepted(await d.post(inv.id, 'response', '"ok"'));
        void d.next();
        assert.equal((await inv.answer).status, 200);
        await until(() => l.batches.some((b) => b.events.some((e) => e.type === 'platform.report')), 3000, () => 'no report');
        assert.equal((await d.idle()).status, 200);
        const idleAt = Date.now();
        const report = l.batches.find((b) => b.events.some((e) => e.type === 'platform.report'))!;
        // Before, it answered at once: the agent froze the container under the delivery.
        assert.ok(report.ackedAt !== undefined && report.ackedAt <= idleAt, `idle answered ${idleAt - report.receivedAt} ms after the batch came, before its 200`);
      });
    } finally {
      l.close();
    }
  });
});

describe('Telemetry at shutdown', () => {
  test('a crash reset: the failed call\'s records reach the subscriber before SHUTDOWN does', async () => {
    const l = await listener(() => sleep(300));
    try {
      await withDaemon({ extensions: sleeper }, async (d) => {
        const shutdown = (await subscribe(d, 'sub', l.port, ['platform'], ['SHUTDOWN'])).next.then(() => Date.now());
        const inv = await invoke(d, { 'fn-call-id': 'crash' });
        const runtime = d.descendants().find((pid) => /^sleep 1000 /.test(cmdline(pid)));
        assert.ok(runtime, 'the runtime process');
        process.kill(runtime, 'SIGKILL');
        assertFailure(await inv.answer, 502, 'Runtime.ExitError');
        const shutdownAt = await shutdown;
        const report = l.batches.find((b) => b.events.some((e) => e.type === 'platform.report'));
        // Before, they went out together: an extension exiting on SHUTDOWN never had them.
        assert.ok(report?.ackedAt !== undefined && report.ackedAt <= shutdownAt, `the report's batch was not acknowledged before SHUTDOWN (${report ? 'it came' : 'none came'})`);
      });
    } finally {
      l.close();
    }
  });

  test('a runtime that dies after posting its answer: runtimeDone and report both say Runtime.ExitError', async () => {
    const l = await listener(async () => undefined);
    try {
      await withDaemon({ extensions: sleeper }, async (d) => {
        await subscribe(d, 'sub', l.port, ['platform']);
        const inv = await invoke(d, { 'fn-call-id': 'dies-after' });
        assertAccepted(await d.post(inv.id, 'response', '"ok"'));
        assert.equal((await inv.answer).status, 200, 'the caller has its answer');
        const runtime = d.descendants().find((pid) => /^sleep 1000 /.test(cmdline(pid)));
        assert.ok(runtime, 'the runtime process');
        process.kill(runtime, 'SIGKILL');
        await until(() => l.count('platform.report') === 1, 5000, () => 'no report');
        const record = (type: string) => l.events().find((e) => e.type === type)?.record as Json;
        // Before, the report said success while runtimeDone, the log and the reset said the runtime died.
        for (const type of ['platform.runtimeDone', 'platform.report']) {
          assert.equal(record(type).status, 'error', type);
          assert.equal(record(type).errorType, 'Runtime.ExitError', type);
        }
      });
    } finally {
      l.close();
    }
  });

  test('a retirement delivers what is queued behind the batch in flight, within the SHUTDOWN budget', async () => {
    const l = await listener(() => sleep(200));
    try {
      // 1,800 lines: with a small batch in flight as they come, all fit in the queue (2,000).
      await withDaemon({ extensions: sleeper, shutdownMs: 4000, command: ['bash', '-c', bashRuntime('seq -f "line %g" 1 1800')] }, async (d) => {
        await subscribe(d, 'sub', l.port, ['platform', 'function']);
        await until(() => l.batches.every((b) => b.ackedAt !== undefined) && l.count('platform.initReport') === 1, 3000, () => 'init\'s batches not acknowledged');
        const before = l.batches.length;
        assert.equal((await d.call('{}')).status, 200);
        // A batch in flight, the rest queued: then the retirement.
        await until(() => l.batches.length > before, 3000, () => 'no batch');
        assert.equal((await d.shutdown('spindown')).status, 200);
        await d.exited;
        // Before, nothing went out while a batch was in flight, and the queue went with the daemon.
        assert.equal(l.count('function'), 1800, `${l.count('function')} of 1,800 lines: ${JSON.stringify(l.batches.map((b) => [b.events.length, b.events[0]?.type, b.receivedAt, b.ackedAt]))}`);
        assert.equal(l.count('platform.report'), 1);
        assert.doesNotMatch(d.output(), /not delivered before the shutdown/);
      });
    } finally {
      l.close();
    }
  });
});

/** Lines an extension prints a call: past a pipe's capacity, so some wait in the extension itself. */
const LINES = 3000;

/** An extension (Node, so its stdout is asynchronous) that prints `n` lines of 110 bytes for each INVOKE, then asks for the next. */
const printer = (n: number): string => `#!${process.execPath}
const http = require('node:http');
const call = (method, path, headers, body) => new Promise((resolve, reject) => {
  const r = http.request('http://' + process.env.AWS_LAMBDA_RUNTIME_API + path, { method, headers }, (m) => {
    let s = '';
    m.on('data', (c) => (s += c));
    m.on('end', () => resolve({ headers: m.headers, body: s }));
  });
  r.on('error', reject);
  r.end(body);
});
(async () => {
  const reg = await call('POST', '/2020-01-01/extension/register', { 'lambda-extension-name': 'printer' }, JSON.stringify({ events: ['INVOKE'] }));
  const id = reg.headers['lambda-extension-identifier'];
  for (;;) {
    const ev = JSON.parse((await call('GET', '/2020-01-01/extension/event/next', { 'lambda-extension-identifier': id })).body);
    for (let i = 0; i < ${n}; i++) console.log('ext ' + ev.requestId + ' ' + String(i).padStart(5, '0') + ' ' + 'x'.repeat(96 - ev.requestId.length));
  }
})();
`;

/** An extension that registers for INVOKE and, parked in next, prints a 1,000-byte line every 20 ms. */
const steadyLogger = `#!${process.execPath}
const http = require('node:http');
setInterval(() => console.log('steady ' + 'y'.repeat(992)), 20);
const call = (method, path, headers, body) => new Promise((resolve, reject) => {
  const r = http.request('http://' + process.env.AWS_LAMBDA_RUNTIME_API + path, { method, headers }, (m) => {
    m.resume();
    m.on('end', () => resolve(m.headers));
  });
  r.on('error', reject);
  r.end(body);
});
(async () => {
  const reg = await call('POST', '/2020-01-01/extension/register', { 'lambda-extension-name': 'steady' }, JSON.stringify({ events: ['INVOKE'] }));
  for (;;) await call('GET', '/2020-01-01/extension/event/next', { 'lambda-extension-identifier': reg['lambda-extension-identifier'] });
})();
`;

describe("extensions' output", () => {
  test("what an extension prints for a call after its answer is that call's, whole lines, even when the next call comes at once", () =>
    withDaemon({ extensions: { printer: printer(LINES) }, command: ['bash', '-c', bashRuntime('')] }, async (d) => {
      const ids = ['c1', 'c2', 'c3', 'c4'];
      const froms: number[] = [];
      for (const id of ids) {
        const a = await d.call('{}', { 'fn-call-id': id });
        assert.equal(a.status, 200, a.text);
        froms.push(Number(a.headers[LOG_FROM_HEADER]));
      }
      await d.idle();
      await until(() => d.stdout().toString('utf8').split(`ext ${ids.at(-1)} `).length - 1 === LINES, 5000, () => 'the last call\'s lines');
      const log = d.stdout();
      for (let k = 0; k < ids.length - 1; k++) {
        const region = log.subarray(froms[k], froms[k + 1]).toString('utf8');
        const lines = region.split('\n').filter((x) => x.startsWith('ext ') || /x{20}/.test(x));
        for (const line of lines) assert.match(line, /^ext c\d \d{5} x{94}$/, `a whole line in ${ids[k]}'s log`);
        // Before, a call's log began with the last call's late lines.
        const others = lines.filter((x) => !x.startsWith(`ext ${ids[k]} `));
        assert.deepEqual(others.slice(0, 3), [], `${others.length} lines of other calls in ${ids[k]}'s log`);
        assert.equal(lines.length, LINES, `${ids[k]}'s log has its ${LINES} lines`);
      }
    }));

  test("an extension that logs all the time, parked in next between calls, does not hold each call's start", () =>
    withDaemon({ extensions: { steady: steadyLogger }, command: ['bash', '-c', bashRuntime('')] }, async (d) => {
      const took: number[] = [];
      for (let i = 0; i < 5; i++) {
        await sleep(400);
        const t0 = performance.now();
        const a = await d.call('{}', { 'fn-call-id': `s${i}` });
        took.push(performance.now() - t0);
        assert.equal(a.status, 200, a.text);
      }
      // Before, each call waited the whole 250 ms for the extension's output to stop, which it never does.
      const median = [...took].sort((x, y) => x - y)[2]!;
      assert.ok(median < 200, `calls took ${took.map((t) => t.toFixed(0)).join(', ')} ms`);
    }));

  test('an eleventh executable in /opt/extensions fails the init: Extension.LaunchError naming the eleventh by name order', () => {
    const ext = `#!/bin/sh
H=$(mktemp)
curl -sS -D "$H" -o /dev/null -XPOST "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/register" -H "Lambda-Extension-Name: $(basename "$0")" -d '{"events":[]}'
ID=$(grep -Fi Lambda-Extension-Identifier "$H" | tr -d '[:space:]' | cut -d: -f2)
[ -n "$ID" ] || exit 1
exec curl -sS -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/event/next" -H "Lambda-Extension-Identifier: $ID"
`;
    const extensions = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`e${String(i + 1).padStart(2, '0')}`, ext]));
    return withDaemon({ extensions, command: ['bash', '-c', bashRuntime('')] }, async (d) => {
      for (let i = 0; i < 2; i++) {
        // Before: 502 Extension.Crash for whichever registered last, and a re-init every call.
        const body = assertFailure(await d.call('{}'), 502, 'Extension.LaunchError');
        assert.match(String(body.errorMessage), /\be11: TooManyExtensions/);
      }
    });
  });
});
