// runtime/telemetry.ts parseSubscription: the Telemetry and Logs APIs' subscription bodies,
// their ranges, defaults, schema versions, types and destinations.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { LambdaApiError } from '../../runtime/errors.js';
import { parseSubscription, Telemetry } from '../../runtime/telemetry.js';
import { freePort } from '../helpers/daemon.js';

type Api = 'telemetry' | 'logs';
type Body = Record<string, unknown>;

const base = (over: Body = {}): Body => ({
  destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/events' },
  types: ['platform', 'function'],
  ...over,
});
const buffering = (b: Body): Body => base({ buffering: b });

function assertValidation(api: Api, body: unknown, message?: RegExp): void {
  assert.throws(() => parseSubscription(api, 'ext', body), (err: unknown) => {
    assert.ok(err instanceof LambdaApiError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.errorType, 'ValidationError');
    assert.match(err.message, api === 'telemetry' ? /^Telemetry API: / : /^Logs API: /);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('parseSubscription: buffering', () => {
  test('defaults: maxItems 10000, maxBytes 262144, timeoutMs 1000', () => {
    const s = parseSubscription('telemetry', 'ext', base());
    assert.deepEqual({ maxItems: s.maxItems, maxBytes: s.maxBytes, timeoutMs: s.timeoutMs }, { maxItems: 10000, maxBytes: 262144, timeoutMs: 1000 });
    const empty = parseSubscription('telemetry', 'ext', buffering({}));
    assert.equal(empty.maxItems, 10000);
  });

  const ranges: { field: string; ok: unknown[]; bad: unknown[] }[] = [
    { field: 'maxItems', ok: [1000, 5000, 10000], bad: [0, 5, 999, 10001, 1000.5, '1000', null, -1] },
    { field: 'maxBytes', ok: [262144, 500000, 1048576], bad: [262143, 1048577, 0, '262144', 300000.5] },
    { field: 'timeoutMs', ok: [25, 100, 30000], bad: [24, 30001, 0, -25, '100', 99.9] },
  ];
  for (const { field, ok, bad } of ranges) {
    for (const v of ok) {
      test(`${field} ${JSON.stringify(v)} is taken`, () => {
        const s = parseSubscription('telemetry', 'ext', buffering({ [field]: v }));
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
    { api: 'telemetry', version: undefined, ok: true },
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
  ];
  for (const c of cases) {
    test(`${c.api} ${String(c.version)}: ${c.ok ? 'accepted' : '400'}`, () => {
      const body = c.version === undefined ? base() : base({ schemaVersion: c.version });
      if (c.ok) assert.equal(parseSubscription(c.api, 'ext', body).api, c.api);
      else assertValidation(c.api, body, /schemaVersion/);
    });
  }
});

describe('parseSubscription: types', () => {
  test('platform, function and extension, duplicates folded', () => {
    const s = parseSubscription('telemetry', 'ext', base({ types: ['platform', 'function', 'extension', 'platform'] }));
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
  const ok: { uri: string; port: number; path: string }[] = [
    { uri: 'http://sandbox.localdomain:4243/events', port: 4243, path: '/events' },
    { uri: 'http://sandbox:8080/', port: 8080, path: '/' },
    { uri: 'http://sandbox.localdomain:1234/a/b?x=1', port: 1234, path: '/a/b?x=1' },
    { uri: 'http://sandbox.localdomain/', port: 80, path: '/' },
  ];
  for (const c of ok) {
    test(`${c.uri} → 127.0.0.1:${c.port}${c.path}`, () => {
      const s = parseSubscription('logs', 'my-ext', base({ destination: { protocol: 'HTTP', URI: c.uri } }));
      assert.deepEqual({ host: s.host, port: s.port, path: s.path, extension: s.extension, api: s.api }, { host: '127.0.0.1', port: c.port, path: c.path, extension: 'my-ext', api: 'logs' });
    });
  }
  const bad: { name: string; destination: unknown }[] = [
    { name: 'missing', destination: undefined },
    { name: 'null', destination: null },
    { name: 'another host', destination: { protocol: 'HTTP', URI: 'http://example.com:4243/' } },
    { name: 'localhost', destination: { protocol: 'HTTP', URI: 'http://localhost:4243/' } },
    { name: 'an IP', destination: { protocol: 'HTTP', URI: 'http://127.0.0.1:4243/' } },
    { name: 'https', destination: { protocol: 'HTTP', URI: 'https://sandbox.localdomain:4243/' } },
    { name: 'not a URL', destination: { protocol: 'HTTP', URI: 'sandbox.localdomain:4243' } },
    { name: 'no URI', destination: { protocol: 'HTTP' } },
    { name: 'TCP (not supported)', destination: { protocol: 'TCP', port: 4243 } },
    { name: 'no protocol', destination: { URI: 'http://sandbox.localdomain:4243/' } },
  ];
  for (const c of bad) {
    test(`destination ${c.name}: 400`, () => {
      const body = base();
      if (c.destination === undefined) delete body.destination;
      else body.destination = c.destination;
      assertValidation('telemetry', body, /destination/);
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
    // Holds each request, then refuses it: the first attempt is in flight when the reset comes.
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      setTimeout(() => res.writeHead(500).end(), 300);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    try {
      const t = new Telemetry();
      t.subscribe(parseSubscription('telemetry', 'ext', base({ destination: { protocol: 'HTTP', URI: `http://sandbox:${port}/` }, buffering: { timeoutMs: 25 } })));
      t.emit('platform.start', { requestId: 'old' });
      await sleep(150);
      t.reopen();
      await sleep(1200);
      assert.equal(requests, 1);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
