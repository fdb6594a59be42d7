import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slotKey } from '../../agent/slot-key.js';
import type { App, Fn } from '../../store/types.js';

const makeApp = (over: Partial<App> = {}): App => ({
  id: 'app-1',
  name: 'myapp',
  config: { DB_URL: 'postgres://db', LOG_LEVEL: 'info' },
  annotations: {},
  shape: 'GENERIC_X86',
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2024-01-01T00:00:00.000Z',
  ...over,
});

const makeFn = (over: Partial<Fn> = {}): Fn => ({
  id: 'fn-1',
  name: 'hello',
  app_id: 'app-1',
  image: 'example/hello:0.0.1',
  memory: 128,
  timeout: 30,
  idle_timeout: 30,
  format: 'http-stream',
  config: { GREETING: 'hi' },
  annotations: {},
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2024-01-01T00:00:00.000Z',
  ...over,
});

const base = { app: makeApp(), fn: makeFn(), cpus: 500 };
const baseKey = slotKey(base.app, base.fn, base.cpus);

test('slotKey: equal inputs give equal keys, also from distinct but equal objects', () => {
  assert.equal(slotKey(base.app, base.fn, base.cpus), baseKey);
  assert.equal(slotKey(makeApp(), makeFn(), 500), baseKey);
});

test('slotKey: is a short URL-safe string', () => {
  assert.match(baseKey, /^[A-Za-z0-9_-]{22}$/);
});

test('slotKey: cpus defaults to 0', () => {
  assert.equal(slotKey(base.app, base.fn), slotKey(base.app, base.fn, 0));
  assert.notEqual(slotKey(base.app, base.fn), baseKey);
});

// Things that do not shape the container: the key stays the same.
const sameCases: { name: string; app: App; fn: Fn; cpus: number }[] = [
  {
    name: 'app config in another order',
    app: makeApp({ config: { LOG_LEVEL: 'info', DB_URL: 'postgres://db' } }),
    fn: makeFn(),
    cpus: 500,
  },
  {
    name: 'fn config in another order',
    app: makeApp(),
    fn: makeFn({ config: { GREETING: 'hi' } }),
    cpus: 500,
  },
  {
    name: 'a key moved from the app config to the fn config with the same value',
    app: makeApp({ config: { DB_URL: 'postgres://db' } }),
    fn: makeFn({ config: { LOG_LEVEL: 'info', GREETING: 'hi' } }),
    cpus: 500,
  },
  {
    name: 'a fn key overriding an app key with the same value',
    app: makeApp(),
    fn: makeFn({ config: { GREETING: 'hi', LOG_LEVEL: 'info' } }),
    cpus: 500,
  },
  {
    name: 'all config in the app',
    app: makeApp({ config: { GREETING: 'hi', LOG_LEVEL: 'info', DB_URL: 'postgres://db' } }),
    fn: makeFn({ config: {} }),
    cpus: 500,
  },
  { name: 'another app name', app: makeApp({ name: 'renamed' }), fn: makeFn(), cpus: 500 },
  { name: 'another fn name', app: makeApp(), fn: makeFn({ name: 'renamed' }), cpus: 500 },
  { name: 'other annotations', app: makeApp({ annotations: { a: 1 } }), fn: makeFn({ annotations: { b: 2 } }), cpus: 500 },
  { name: 'another updated_at', app: makeApp({ updated_at: '2025-01-01T00:00:00.000Z' }), fn: makeFn({ updated_at: '2025-01-01T00:00:00.000Z' }), cpus: 500 },
  { name: 'a blank syslog URL (none)', app: makeApp({ syslog_url: '  ' }), fn: makeFn(), cpus: 500 },
];

for (const c of sameCases) {
  test(`slotKey: same key for ${c.name}`, () => {
    assert.equal(slotKey(c.app, c.fn, c.cpus), baseKey);
  });
}

test('slotKey: a fn config overriding an app key with the same value equals the app alone having it', () => {
  const appOnly = slotKey(makeApp({ config: { K: 'v' } }), makeFn({ config: {} }));
  const both = slotKey(makeApp({ config: { K: 'v' } }), makeFn({ config: { K: 'v' } }));
  const fnOnly = slotKey(makeApp({ config: {} }), makeFn({ config: { K: 'v' } }));
  assert.equal(both, appOnly);
  assert.equal(fnOnly, appOnly);
});

// Each changes one thing that shapes the container: the key must change.
const differentCases: { name: string; app: App; fn: Fn; cpus: number }[] = [
  { name: 'app id', app: makeApp({ id: 'app-2' }), fn: makeFn(), cpus: 500 },
  { name: 'fn id', app: makeApp(), fn: makeFn({ id: 'fn-2' }), cpus: 500 },
  { name: 'image', app: makeApp(), fn: makeFn({ image: 'example/hello:0.0.2' }), cpus: 500 },
  { name: 'memory', app: makeApp(), fn: makeFn({ memory: 256 }), cpus: 500 },
  { name: 'cpus', app: makeApp(), fn: makeFn(), cpus: 1000 },
  { name: 'cpus to 0', app: makeApp(), fn: makeFn(), cpus: 0 },
  { name: 'timeout', app: makeApp(), fn: makeFn({ timeout: 60 }), cpus: 500 },
  { name: 'idle_timeout', app: makeApp(), fn: makeFn({ idle_timeout: 120 }), cpus: 500 },
  { name: 'format', app: makeApp(), fn: makeFn({ format: 'lambda' }), cpus: 500 },
  { name: 'an app config value', app: makeApp({ config: { DB_URL: 'postgres://other', LOG_LEVEL: 'info' } }), fn: makeFn(), cpus: 500 },
  { name: 'an app config key added', app: makeApp({ config: { DB_URL: 'postgres://db', LOG_LEVEL: 'info', NEW: 'x' } }), fn: makeFn(), cpus: 500 },
  { name: 'an app config key removed', app: makeApp({ config: { DB_URL: 'postgres://db' } }), fn: makeFn(), cpus: 500 },
  { name: 'a fn config value', app: makeApp(), fn: makeFn({ config: { GREETING: 'hello' } }), cpus: 500 },
  { name: 'a fn config key removed', app: makeApp(), fn: makeFn({ config: {} }), cpus: 500 },
  { name: 'a fn config overriding an app value', app: makeApp(), fn: makeFn({ config: { GREETING: 'hi', LOG_LEVEL: 'debug' } }), cpus: 500 },
  { name: 'a config key renamed, value kept', app: makeApp({ config: { DB_URL: 'postgres://db', LOG_LEVL: 'info' } }), fn: makeFn(), cpus: 500 },
  { name: 'a syslog URL set', app: makeApp({ syslog_url: 'tcp://logs:514' }), fn: makeFn(), cpus: 500 },
  { name: 'a syslog URL with another port', app: makeApp({ syslog_url: 'tcp://logs:601' }), fn: makeFn(), cpus: 500 },
  { name: 'a network asked by the fn', app: makeApp(), fn: makeFn({ annotations: { 'kiln.io/network': 'bridge' } }), cpus: 500 },
  { name: 'a network asked by the app', app: makeApp({ annotations: { 'kiln.io/network': 'fns' } }), fn: makeFn(), cpus: 500 },
  { name: 'a config value moved into the key', app: makeApp({ config: { DB_URL: 'postgres://db', LOG_LEVEL: 'info' } }), fn: makeFn({ config: { 'GREETING=hi': '' } }), cpus: 500 },
];

for (const c of differentCases) {
  test(`slotKey: another key when ${c.name} changes`, () => {
    assert.notEqual(slotKey(c.app, c.fn, c.cpus), baseKey);
  });
}

test('slotKey: all the changed variants differ from each other', () => {
  const keys = differentCases.map((c) => slotKey(c.app, c.fn, c.cpus));
  assert.equal(new Set([...keys, baseKey]).size, keys.length + 1);
});

test('slotKey: the network asked for counts, not where it was asked', () => {
  const net = (app?: string, fn?: string) => slotKey(
    makeApp({ annotations: app === undefined ? {} : { 'kiln.io/network': app } }),
    makeFn({ annotations: fn === undefined ? {} : { 'kiln.io/network': fn } }),
  );
  assert.equal(net('bridge'), net(undefined, 'bridge'));
  assert.equal(net('bridge', 'fns'), net(undefined, 'fns'), 'the fn\'s wins');
  assert.notEqual(net('bridge', 'fns'), net('bridge'));
});

test('slotKey: does not modify the app or fn', () => {
  const app = makeApp();
  const fn = makeFn({ config: { LOG_LEVEL: 'debug' } });
  const appCopy = structuredClone(app);
  const fnCopy = structuredClone(fn);
  slotKey(app, fn, 100);
  assert.deepEqual(app, appCopy);
  assert.deepEqual(fn, fnCopy);
});
