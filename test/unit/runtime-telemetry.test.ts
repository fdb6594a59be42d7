// runtime/telemetry.ts parseSubscription: the Telemetry and Logs APIs' subscription bodies,
// their ranges, defaults, schema versions, types and destinations (HTTP and TCP); and
// delivery to real listeners (an HTTP server, a TCP server reading NDJSON).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { LambdaApiError } from '../../runtime/errors.js';
import { parseSubscription, Telemetry, type Destination } from '../../runtime/telemetry.js';
import { freePort, startTcpSink, until, withTcpSink, type TcpSink } from '../helpers/daemon.js';

type Api = 'telemetry' | 'logs';
type Body = Record<string, unknown>;

const base = (over: Body = {}): Body => ({
  destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/events' },
  types: ['platform', 'function'],
  ...over,
});
const buffering = (b: Body): Body => base({ buffering: b });

/** A body as an extension sends it: the Telemetry API requires a schemaVersion (the Logs API defaults it). */
const versioned = (api: Api, body: unknown): unknown =>
  api === 'telemetry' && typeof body === 'object' && body !== null && !Array.isArray(body) && !('schemaVersion' in body) ? { schemaVersion: '2022-12-13', ...body } : body;

const parse = (api: Api, extension: string, body: unknown, apiPort?: number) => parseSubscription(api, extension, versioned(api, body), apiPort);

/** 400, `ValidationError` (the Logs API's `Logs.ValidationError`, as documented); `raw`: the body as given. */
function assertValidation(api: Api, body: unknown, message?: RegExp, raw = false): void {
  assert.throws(() => parseSubscription(api, 'ext', raw ? body : versioned(api, body)), (err: unknown) => {
    assert.ok(err instanceof LambdaApiError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.errorType, api === 'telemetry' ? 'ValidationError' : 'Logs.ValidationError');
    assert.match(err.message, api === 'telemetry' ? /^Telemetry API: / : /^Logs API: /);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('parseSubscription: buffering', () => {
  test('defaults, as each API documents them: maxItems 1000 (Telemetry) or 10000 (Logs), maxBytes 262144, timeoutMs 1000', () => {
    const s = parse('telemetry', 'ext', base());
    assert.deepEqual({ maxItems: s.maxItems, maxBytes: s.maxBytes, timeoutMs: s.timeoutMs }, { maxItems: 1000, maxBytes: 262144, timeoutMs: 1000 });
    const empty = parse('telemetry', 'ext', buffering({}));
    assert.equal(empty.maxItems, 1000);
    const logs = parse('logs', 'ext', versioned('logs', { types: ['platform'], destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:8080/' } }));
    assert.deepEqual({ maxItems: logs.maxItems, maxBytes: logs.maxBytes, timeoutMs: logs.timeoutMs }, { maxItems: 10000, maxBytes: 262144, timeoutMs: 1000 });
  });

  const ranges: { field: string; ok: unknown[]; bad: unknown[] }[] = [
    { field: 'maxItems', ok: [1000, 5000, 10000], bad: [0, 5, 999, 10001, 1000.5, '1000', null, -1] },
    { field: 'maxBytes', ok: [262144, 500000, 1048576], bad: [262143, 1048577, 0, '262144', 300000.5] },
    { field: 'timeoutMs', ok: [25, 100, 30000], bad: [24, 30001, 0, -25, '100', 99.9] },
  ];
  for (const { field, ok, bad } of ranges) {
    for (const v of ok) {
      test(`${field} ${JSON.stringify(v)} is taken`, () => {
        const s = parse('telemetry', 'ext', buffering({ [field]: v }));
        assert.equal((s as unknown as Record<string, unknown>)[field], v);
      });
    }
    for (const v of bad) {
      test(`${field} ${JSON.stringify(v)}: 400 ValidationError`, () => {
        assertValidation('telemetry', buffering({ [field]: v }), new RegExp(`buffering\\.${field}`));
        assertValidation('logs', buffering({ [field]: v }), new RegExp(`buffering\\.${field}`));
      });
    }
  }
});

describe('parseSubscription: schema versions', () => {
  const cases: { api: Api; version: unknown; ok: boolean }[] = [
    { api: 'telemetry', version: undefined, ok: false },
    { api: 'telemetry', version: '2022-07-01', ok: true },
    { api: 'telemetry', version: '2022-12-13', ok: true },
    { api: 'telemetry', version: '2025-01-29', ok: true },
    { api: 'telemetry', version: '2020-08-15', ok: false },
    { api: 'telemetry', version: '2021-03-18', ok: false },
    { api: 'telemetry', version: 'latest', ok: false },
    { api: 'logs', version: undefined, ok: true },
    { api: 'logs', version: '2020-08-15', ok: true },
    { api: 'logs', version: '2021-03-18', ok: true },
    { api: 'logs', version: '2022-12-13', ok: false },
    // Not strings: String() of these threw (a toString field) or overflowed the stack (a 100,000-deep array).
    { api: 'telemetry', version: { toString: 1 }, ok: false },
    { api: 'logs', version: JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown, ok: false },
    { api: 'telemetry', version: ['2022-12-13'], ok: false },
  ];
  for (const c of cases) {
    test(`${c.api} ${typeof c.version === 'object' ? 'non-string' : String(c.version)}: ${c.ok ? 'accepted' : '400'}`, () => {
      const body = c.version === undefined ? base() : base({ schemaVersion: c.version });
      if (c.ok) assert.equal(parseSubscription(c.api, 'ext', body).api, c.api);
      else assertValidation(c.api, body, /schemaVersion/, true);
    });
  }
});

describe('parseSubscription: types', () => {
  test('platform, function and extension, duplicates folded', () => {
    const s = parse('telemetry', 'ext', base({ types: ['platform', 'function', 'extension', 'platform'] }));
    assert.deepEqual(s.types, ['platform', 'function', 'extension']);
  });
  for (const types of [[], ['platform', 'bogus'], ['PLATFORM'], 'platform', undefined, null]) {
    test(`types ${JSON.stringify(types)}: 400`, () => {
      const body = base();
      if (types === undefined) delete body.types;
      else body.types = types;
      assertValidation('telemetry', body, /types/);
    });
  }
});

describe('parseSubscription: destinations', () => {
  // Telemetry API (telemetry-api.md, "Specifying a destination protocol") and Logs API
  // (runtimes-logs-api.md, "Destination protocols"): HTTP to sandbox.localdomain, or TCP to
  // a port, both inside the execution environment; here, 127.0.0.1.
  const ok: { name: string; destination: Body; want: Destination }[] = [
    { name: 'HTTP sandbox.localdomain', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/events' }, want: { protocol: 'HTTP', host: '127.0.0.1', port: 4243, path: '/events' } },
    { name: 'HTTP sandbox', destination: { protocol: 'HTTP', URI: 'http://sandbox:8080/' }, want: { protocol: 'HTTP', host: '127.0.0.1', port: 8080, path: '/' } },
    // The URL parser drops http's default port; it was given all the same.
    { name: 'HTTP with an explicit :80', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:80/x' }, want: { protocol: 'HTTP', host: '127.0.0.1', port: 80, path: '/x' } },
    { name: 'HTTP with a query', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:1234/a/b?x=1' }, want: { protocol: 'HTTP', host: '127.0.0.1', port: 1234, path: '/a/b?x=1' } },
    { name: 'HTTP with method and encoding (the Logs API samples send them)', destination: { protocol: 'HTTP', URI: 'http://sandbox:9/', method: 'PUT', encoding: 'JSON' }, want: { protocol: 'HTTP', host: '127.0.0.1', port: 9, path: '/' } },
    { name: 'TCP 4243', destination: { protocol: 'TCP', port: 4243 }, want: { protocol: 'TCP', host: '127.0.0.1', port: 4243 } },
    { name: 'TCP 1', destination: { protocol: 'TCP', port: 1 }, want: { protocol: 'TCP', host: '127.0.0.1', port: 1 } },
    { name: 'TCP 65535', destination: { protocol: 'TCP', port: 65535 }, want: { protocol: 'TCP', host: '127.0.0.1', port: 65535 } },
    { name: 'TCP with a URI too (ignored)', destination: { protocol: 'TCP', port: 4243, URI: 'http://example.com:1/' }, want: { protocol: 'TCP', host: '127.0.0.1', port: 4243 } },
  ];
  for (const c of ok) {
    for (const api of ['telemetry', 'logs'] as const) {
      test(`${api}: ${c.name} → ${c.want.protocol} 127.0.0.1:${c.want.port}`, () => {
        const s = parse(api, 'my-ext', base({ destination: c.destination }));
        assert.deepEqual({ destination: s.destination, extension: s.extension, api: s.api }, { destination: c.want, extension: 'my-ext', api });
      });
    }
  }
  const bad: { name: string; destination: unknown; message: RegExp }[] = [
    { name: 'missing', destination: undefined, message: /destination is required/ },
    { name: 'null', destination: null, message: /destination is required/ },
    { name: 'another host', destination: { protocol: 'HTTP', URI: 'http://example.com:4243/' }, message: /destination\.URI/ },
    { name: 'localhost', destination: { protocol: 'HTTP', URI: 'http://localhost:4243/' }, message: /destination\.URI/ },
    { name: 'an IP', destination: { protocol: 'HTTP', URI: 'http://127.0.0.1:4243/' }, message: /destination\.URI/ },
    { name: 'https', destination: { protocol: 'HTTP', URI: 'https://sandbox.localdomain:4243/' }, message: /destination\.URI/ },
    { name: 'not a URL', destination: { protocol: 'HTTP', URI: 'sandbox.localdomain:4243' }, message: /destination\.URI/ },
    { name: 'no URI', destination: { protocol: 'HTTP' }, message: /destination\.URI/ },
    { name: 'HTTP with only a port', destination: { protocol: 'HTTP', port: 4243 }, message: /destination\.URI/ },
    { name: 'no protocol', destination: { URI: 'http://sandbox.localdomain:4243/' }, message: /destination\.protocol/ },
    { name: 'protocol tcp (the service takes HTTP or TCP, as spelled)', destination: { protocol: 'tcp', port: 4243 }, message: /destination\.protocol/ },
    { name: 'protocol UDP', destination: { protocol: 'UDP', port: 4243 }, message: /destination\.protocol/ },
    { name: 'TCP without a port', destination: { protocol: 'TCP' }, message: /destination\.port/ },
    { name: 'TCP with only a URI', destination: { protocol: 'TCP', URI: 'http://sandbox.localdomain:4243/' }, message: /destination\.port/ },
    { name: 'TCP port 0', destination: { protocol: 'TCP', port: 0 }, message: /destination\.port/ },
    { name: 'TCP port 65536', destination: { protocol: 'TCP', port: 65536 }, message: /destination\.port/ },
    { name: 'TCP port -1', destination: { protocol: 'TCP', port: -1 }, message: /destination\.port/ },
    { name: 'TCP port 4243.5', destination: { protocol: 'TCP', port: 4243.5 }, message: /destination\.port/ },
    { name: 'TCP port "4243"', destination: { protocol: 'TCP', port: '4243' }, message: /destination\.port/ },
    { name: 'TCP port null', destination: { protocol: 'TCP', port: null }, message: /destination\.port/ },
    // node:http takes port 0 for 80.
    { name: 'HTTP port 0', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:0/' }, message: /URI port is not provided/ },
    // The documented error: nothing listens on 80 in the sandbox.
    { name: 'HTTP without a port', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain/' }, message: /URI port is not provided/ },
    { name: 'a URI that is not a string', destination: { protocol: 'HTTP', URI: ['http://sandbox:1/'] }, message: /destination\.URI/ },
  ];
  for (const c of bad) {
    test(`destination ${c.name}: 400`, () => {
      const body = base();
      if (c.destination === undefined) delete body.destination;
      else body.destination = c.destination;
      assertValidation('telemetry', body, c.message);
      assertValidation('logs', body, c.message);
    });
  }
});

describe('parseSubscription: the Lambda APIs\' own port is reserved', () => {
  for (const destination of [{ protocol: 'HTTP', URI: 'http://sandbox.localdomain:9001/' }, { protocol: 'TCP', port: 9001 }]) {
    test(`${destination.protocol} to 9001: 400 (another port is taken)`, () => {
      for (const api of ['telemetry', 'logs'] as const) {
        assert.throws(() => parse(api, 'ext', base({ destination }), 9001), /port 9001 is reserved/);
        assert.equal(parse(api, 'ext', base({ destination }), 9002).destination.port, 9001);
      }
    });
  }
});

describe('parseSubscription: buffering that is not an object', () => {
  for (const b of [5, 'fast', [1000], null, true]) {
    test(`buffering ${JSON.stringify(b)}: 400`, () => {
      assertValidation('telemetry', base({ buffering: b }), /buffering must be an object/);
      assertValidation('logs', base({ buffering: b }), /buffering must be an object/);
    });
  }
});

describe('parseSubscription: the body', () => {
  for (const body of [null, [], 'x', 42]) {
    test(`${JSON.stringify(body)}: 400`, () => assertValidation('telemetry', body, /JSON object/));
  }
});

describe('Telemetry: delivery across a reset', () => {
  test('a batch whose delivery fails after the sandbox reset is not retried (the next generation may listen there)', async () => {
    const port = await freePort();
    let requests = 0;
    let refuse: (() => void) | undefined;
    // Holds each request until the test refuses it: the first attempt is in flight when the
    // reset comes (waited for, not timed: a loaded machine may send it late).
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      refuse = () => res.writeHead(500).end();
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    try {
      const t = new Telemetry();
      t.subscribe(parse('telemetry', 'ext', base({ destination: { protocol: 'HTTP', URI: `http://sandbox:${port}/` }, buffering: { timeoutMs: 25 } })));
      t.emit('platform.start', { requestId: 'old' });
      await until(() => requests === 1, 5000, () => 'no first attempt');
      t.reopen();
      refuse!();
      await sleep(1200);
      assert.equal(requests, 1);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('Telemetry: TCP delivery', () => {
  // Real sockets: a Telemetry instance writing to a listener on 127.0.0.1.
  const tcpSub = (port: number, buf: Body = { timeoutMs: 25 }, api: Api = 'telemetry', over: Body = {}) =>
    parse(api, 'ext', base({ destination: { protocol: 'TCP', port }, buffering: buf, ...over }));

  /** A fresh Telemetry with one TCP subscriber; reopen() (a reset) closes it at the end. */
  async function withTcp(sink: TcpSink, buf: Body | undefined, fn: (t: Telemetry) => Promise<void>): Promise<void> {
    const t = new Telemetry();
    t.subscribe(tcpSub(sink.port, buf));
    try {
      await fn(t);
    } finally {
      t.reopen();
    }
  }

  test('each event is one line of JSON, newline-ended; batches share one kept connection', () =>
    withTcpSink((sink) =>
      withTcp(sink, { timeoutMs: 25 }, async (t) => {
        t.emit('platform.start', { requestId: 'a' });
        await sink.waitFor('platform.start');
        t.closeSubscriptions();
        // A record with a newline of its own stays on its line (JSON escapes it).
        t.emit('function', 'two\nlines\n');
        await sink.waitFor('function');
        assert.equal(sink.sockets.length, 1, 'one connection for every batch');
        assert.ok(sink.received[0]!.endsWith('\n'));
        const events = sink.events();
        assert.deepEqual(events.map((e) => e.type), ['platform.telemetrySubscription', 'platform.start', 'function']);
        for (const e of events) assert.deepEqual(Object.keys(e).sort(), ['record', 'time', 'type']);
        assert.equal(events[2]!.record, 'two\nlines\n');
      }),
    ));

  test('buffering: a batch waits timeoutMs before it is written', () =>
    withTcpSink((sink) =>
      withTcp(sink, { timeoutMs: 500 }, async (t) => {
        t.emit('platform.start', { requestId: 'a' });
        await sleep(250);
        assert.equal(sink.events().length, 0, 'nothing before timeoutMs');
        await sink.waitFor('platform.start', 2000);
        assert.deepEqual(sink.events().map((e) => e.type), ['platform.telemetrySubscription', 'platform.start']);
      }),
    ));

  test('buffering: maxItems events go at once, without waiting for timeoutMs', () =>
    withTcpSink((sink) =>
      withTcp(sink, { maxItems: 1000, timeoutMs: 30000 }, async (t) => {
        // With the subscription's own event, this makes 1000.
        for (let i = 0; i < 999; i++) t.emit('platform.start', { requestId: `r${i}` });
        await until(() => sink.events().length === 1000, 3000, () => `${sink.events().length} lines`);
      }),
    ));

  test('drain (shutdown) writes what is buffered now, and leaves nothing undelivered', () =>
    withTcpSink((sink) =>
      withTcp(sink, { timeoutMs: 30000 }, async (t) => {
        t.emit('platform.start', { requestId: 'a' });
        await t.drain(Date.now() + 2000);
        await sink.waitFor('platform.start', 2000);
        assert.deepEqual(t.undelivered(), []);
      }),
    ));

  /** A subscriber whose listener is not up yet: `before` runs, then the listener comes up, then `fn`. */
  async function withLateSink(before: (t: Telemetry) => Promise<void>, fn: (sink: TcpSink, t: Telemetry) => Promise<void>): Promise<void> {
    const port = await freePort();
    const t = new Telemetry();
    t.subscribe(tcpSub(port));
    await before(t);
    const sink = await startTcpSink(port);
    try {
      await fn(sink, t);
    } finally {
      t.reopen();
      await sink.close();
    }
  }

  test('a listener that comes up late gets the events: connects are retried with backoff', () =>
    withLateSink(
      async (t) => {
        t.emit('platform.initStart', { phase: 'init' });
        // Refused twice by now (at about 25 and 125 ms); the next try is at about 325 ms.
        await sleep(250);
      },
      async (sink) => {
        await sink.waitFor('platform.initStart', 3000);
        assert.deepEqual(sink.events().map((e) => e.type), ['platform.telemetrySubscription', 'platform.initStart']);
        assert.equal(sink.sockets.length, 1);
      },
    ));

  test('a listener that never comes up: the batch is dropped after the retries, and the next delivery reports platform.logsDropped', () =>
    withLateSink(
      async (t) => {
        t.emit('platform.start', { requestId: 'lost' });
        // 1 try and 5 retries, 100 to 1000 ms apart: given up at about 2.5 s.
        await sleep(3500);
      },
      async (sink, t) => {
        t.emit('platform.report', { requestId: 'later' });
        await sink.waitFor('platform.report', 3000);
        const events = sink.events();
        assert.deepEqual(events.map((e) => e.type), ['platform.logsDropped', 'platform.report']);
        assert.equal(events[0]!.record.droppedRecords, 2);
        assert.ok(events[0]!.record.droppedBytes > 0);
      },
    ));

  test('a consumer that closes the connection: the next batch goes on a new one', () =>
    withTcpSink((sink) =>
      withTcp(sink, { timeoutMs: 25 }, async (t) => {
        await sink.waitFor('platform.telemetrySubscription');
        sink.sockets[0]!.destroy();
        await sleep(100);
        t.emit('platform.start', { requestId: 'b' });
        await sink.waitFor('platform.start');
        assert.equal(sink.sockets.length, 2);
        assert.match(sink.received[1]!, /"platform\.start"/);
      }),
    ));

  test('reopen (a reset) ends the connection', () =>
    withTcpSink(async (sink) => {
      const t = new Telemetry();
      t.subscribe(tcpSub(sink.port));
      await sink.waitFor('platform.telemetrySubscription');
      let ended = false;
      sink.sockets[0]!.once('end', () => (ended = true));
      t.reopen();
      await until(() => ended, 2000, () => 'the connection did not end');
    }));

  test('a retry pending at the reset does not reach a listener that comes up after it', () =>
    withLateSink(
      async (t) => {
        t.emit('platform.start', { requestId: 'old' });
        await sleep(150);
        t.reopen();
      },
      async (sink) => {
        await sleep(1200);
        assert.equal(sink.sockets.length, 0);
      },
    ));

  test('Logs API over TCP: the Logs API\'s records (platform.logsSubscription)', () =>
    withTcpSink(async (sink) => {
      const t = new Telemetry();
      t.subscribe(tcpSub(sink.port, { timeoutMs: 25 }, 'logs', { schemaVersion: '2021-03-18' }));
      try {
        await sink.waitFor('platform.logsSubscription');
        assert.deepEqual(sink.events()[0]!.record, { name: 'ext', state: 'Subscribed', types: ['platform', 'function'] });
      } finally {
        t.reopen();
      }
    }));
});

describe('Telemetry: a re-init after a failed one', () => {
  test('the new generation\'s subscribers get none of the failed init\'s events', () =>
    withTcpSink(async (sink) => {
      const t = new Telemetry();
      // A failed init: its events are buffered for subscribers that never came; then a reset.
      t.emit('platform.initStart', { phase: 'init', instanceId: 'old' });
      t.emit('function', 'old generation line');
      t.reopen();
      t.emit('platform.initStart', { phase: 'invoke', instanceId: 'new' });
      t.subscribe(parseSubscription('telemetry', 'ext', base({ schemaVersion: '2022-12-13', destination: { protocol: 'TCP', port: sink.port }, buffering: { timeoutMs: 25 } })));
      try {
        await sink.waitFor('platform.telemetrySubscription');
        await sleep(100);
        const events = sink.events();
        assert.deepEqual(events.map((e) => e.type), ['platform.initStart', 'platform.telemetrySubscription']);
        assert.equal(events[0]!.record.instanceId, 'new');
      } finally {
        t.reopen();
      }
    }));
});

/** An HTTP listener on a free port: `answer` handles each batch (its events, parsed). */
async function slowListener(answer: (events: { time: string; type: string; record: unknown }[], res: ServerResponse) => void) {
  const port = await freePort();
  const batches: { time: string; type: string; record: unknown }[][] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { time: string; type: string; record: unknown }[];
      batches.push(events);
      answer(events, res);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port, batches,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

const httpSub = (port: number, types: string[], timeoutMs = 25) =>
  parseSubscription('telemetry', 'ext', base({ schemaVersion: '2022-12-13', types, destination: { protocol: 'HTTP', URI: `http://sandbox:${port}/` }, buffering: { maxItems: 1000, timeoutMs } }));

describe('Telemetry: HTTP delivery', () => {
  test('a 200 whose body trickles a byte a second counts as delivered: the next batch goes out at once', async () => {
    const trickles: NodeJS.Timeout[] = [];
    const l = await slowListener((_events, res) => {
      res.writeHead(200, { 'content-length': '100' });
      trickles.push(setInterval(() => res.write('x'), 1000));
    });
    const t = new Telemetry();
    try {
      t.subscribe(httpSub(l.port, ['platform']));
      t.closeSubscriptions();
      await until(() => l.batches.length === 1, 3000, () => `${l.batches.length} batches`);
      t.emit('platform.start', { requestId: 'second' });
      // Before, the trickled body held the one delivery in flight for good: nothing went out again.
      await until(() => l.batches.length === 2, 2000, () => `${l.batches.length} batches`);
      assert.deepEqual(l.batches[1]!.map((e) => e.type), ['platform.start'], 'the first batch was not sent again');
    } finally {
      for (const i of trickles) clearInterval(i);
      t.reopen();
      l.close();
    }
  });

  test('a shutdown drain delivers what is queued behind the batch in flight, batch after batch', async () => {
    const l = await slowListener((_events, res) => setTimeout(() => res.writeHead(200).end(), 200));
    const t = new Telemetry();
    try {
      t.subscribe(httpSub(l.port, ['function'], 30000));
      t.closeSubscriptions();
      // 1,000 go out at once (in flight for 200 ms); 1,500 wait behind them.
      for (let i = 0; i < 2500; i++) t.emit('function', `line ${i}`);
      await until(() => l.batches.length === 1, 2000, () => `${l.batches.length} batches`);
      await t.drain(Date.now() + 2000);
      // Before, the flush at shutdown did nothing while a batch was in flight, and the queue was discarded.
      assert.equal(l.batches.flat().filter((e) => e.type === 'function').length, 2500);
      assert.deepEqual(t.undelivered(), []);
    } finally {
      t.reopen();
      l.close();
    }
  });

  test('a drain cut short by its deadline says what was not delivered', async () => {
    const l = await slowListener((_events, res) => setTimeout(() => res.writeHead(200).end(), 1000));
    const t = new Telemetry();
    try {
      t.subscribe(httpSub(l.port, ['function'], 30000));
      t.closeSubscriptions();
      for (let i = 0; i < 1500; i++) t.emit('function', `line ${i}`);
      await t.drain(Date.now() + 300);
      const left = t.undelivered();
      assert.equal(left.length, 1);
      assert.equal(left[0]!.extension, 'ext');
      assert.ok(left[0]!.records >= 500, `${left[0]!.records} records left`);
    } finally {
      t.reopen();
      l.close();
    }
  });
});

describe('Telemetry: platform.logsDropped', () => {
  test('a consumer that falls behind gets the notice first in its next batch, ahead of the events queued before the drops', async () => {
    const port = await freePort();
    const batches: { time: string; type: string }[][] = [];
    // Slow: each batch is acknowledged 300 ms after it arrives.
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { time: string; type: string }[]);
        setTimeout(() => res.writeHead(200).end(), 300);
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const t = new Telemetry();
    try {
      t.subscribe(parseSubscription('telemetry', 'ext', base({ schemaVersion: '2022-12-13', types: ['function'], destination: { protocol: 'HTTP', URI: `http://sandbox:${port}/` }, buffering: { maxItems: 1000, timeoutMs: 25 } })));
      t.closeSubscriptions();
      // 1,000 go out at once; 2,000 more are queued while that batch waits; the rest are dropped.
      for (let i = 0; i < 3500; i++) t.emit('function', `line ${i}`);
      // Once the first batch is acknowledged (300 ms after it came), there is room again: the
      // second batch goes out then. Waited for, not timed: on a loaded machine the
      // acknowledgement may come later than 400 ms, and these would be dropped too.
      await until(() => batches.length >= 2, 5000, () => `${batches.length} batches`);
      for (let i = 0; i < 5; i++) t.emit('function', `after ${i}`);
      await until(() => batches.flat().some((e) => e.type === 'platform.logsDropped') && batches.flat().length >= 3006, 5000, () => `got ${batches.flat().length} events`);
      // As the service sends it: at the head of the batch after the drops, not batches later
      // behind everything queued before them.
      assert.equal(batches[1]![0]!.type, 'platform.logsDropped', `the second batch begins ${batches[1]![0]!.type}`);
      assert.equal(batches.flat().filter((e) => e.type === 'platform.logsDropped').length, 1);
      const record = (batches[1]![0] as unknown as { record: { droppedRecords: number } }).record;
      assert.ok(record.droppedRecords >= 500, `${record.droppedRecords} dropped`);
    } finally {
      t.reopen();
      server.close();
      server.closeAllConnections();
    }
  });
});
