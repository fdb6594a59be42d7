// The agent-daemon contract (runtime/wire.ts) as both sides use it: every header in it is listed,
// and those on an answer's head or on a call are stripped by the agent both ways (a new daemon
// header cannot leak to callers, nor a caller forge one; trailers the agent relays none of), the daemon's defaults are the ones the agent counts on, and the one place outside
// the agent that restates a contract value (the driver's mount, which may import nothing of
// ours) agrees with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCallerResponse, toContainerHeaders, type CallContext } from '../../agent/headers.js';
import { LAMBDA_SHUTDOWN_WAIT_MS, lambdaEnv } from '../../agent/lambda.js';
import { IOFS_MOUNT } from '../../drivers/docker/create-options.js';
import { loadDaemonConfig } from '../../runtime/config.js';
import * as wire from '../../runtime/wire.js';
import type { App, Fn } from '../../store/types.js';

/** Every header (or trailer) name the module holds: its string constants named *_HEADER or *_TRAILER. */
const wireHeaders: string[] = Object.entries(wire).flatMap(([name, v]) => (/_(HEADER|TRAILER)$/.test(name) && typeof v === 'string' ? [v] : []));

const app = { id: 'a1', name: 'app', config: {}, annotations: {} } as unknown as App;
const fn = { id: 'f1', name: 'hello', app_id: 'a1', image: 'img', memory: 128, timeout: 30, idle_timeout: 30, config: {}, format: 'lambda' } as unknown as Fn;
const daemonEnv = (): Record<string, string> => lambdaEnv(app, fn, { entrypoint: [], cmd: ['/bootstrap'], workingDir: '', env: {} }, 1000);

const ctx: CallContext = { callId: 'C', deadline: '2024-01-02T03:04:05.678Z' };
const gatewayCtx: CallContext = { ...ctx, gateway: { method: 'GET', url: 'http://h/t/a/p' }, lambda: true };

test('the module names some headers, all Kiln\'s, each listed as the daemon\'s or the agent\'s', () => {
  assert.ok(wireHeaders.length >= 10, wireHeaders.join(', '));
  const listed = new Set<string>([...wire.DAEMON_ANSWER_HEADERS, ...wire.AGENT_CALL_HEADERS, ...wire.DAEMON_TRAILERS]);
  for (const h of wireHeaders) {
    assert.match(h, /^kiln-[a-z-]+$/);
    assert.ok(listed.has(h), `${h} is in none of DAEMON_ANSWER_HEADERS, AGENT_CALL_HEADERS, DAEMON_TRAILERS`);
  }
});

for (const h of [...wire.DAEMON_ANSWER_HEADERS, ...wire.AGENT_CALL_HEADERS]) {
  test(`${h} never reaches a caller, in any case, plain or wrapped through a trigger`, () => {
    for (const name of [h, h.toUpperCase()]) {
      assert.deepEqual(toCallerResponse({ [name]: '1', 'x-keep': 'k' }, false).headers, { 'x-keep': 'k' });
      assert.deepEqual(toCallerResponse({ [`fn-http-h-${name}`]: '1', 'fn-http-h-x-keep': 'k' }, true).headers, { 'x-keep': 'k' });
    }
  });

  test(`a caller's ${h} never reaches the container, plain or wrapped`, () => {
    for (const c of [ctx, gatewayCtx]) {
      const sent = Object.keys(toContainerHeaders({ [h]: 'forged' }, c, 0)).map((k) => k.toLowerCase());
      assert.ok(!sent.includes(h) && !sent.includes(`fn-http-h-${h}`), sent.join(', '));
    }
  });
}

test('the agent sends its own call headers under the module\'s names', () => {
  const sent = toContainerHeaders({}, { ...ctx, sourceIp: '172.17.0.1', qualifier: '$LATEST' }, 0);
  const lower = Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(lower[wire.SOURCE_IP_HEADER], '172.17.0.1');
  assert.equal(lower[wire.QUALIFIER_HEADER], '$LATEST');
});

test("the agent's shutdown wait outlasts the daemon's whole shutdown sequence as the agent starts it", () => {
  const env = daemonEnv();
  // The agent leaves the budget to the daemon's default: that default is what it must outlast.
  assert.equal(env[wire.DAEMON_ENV.shutdownMs], undefined);
  const daemon = loadDaemonConfig(env);
  assert.equal(daemon.shutdownMs, wire.DAEMON_SHUTDOWN_MS);
  assert.ok(LAMBDA_SHUTDOWN_WAIT_MS > wire.SHUTDOWN_OUTPUT_MS + daemon.shutdownMs, `${LAMBDA_SHUTDOWN_WAIT_MS} ms`);
  assert.equal(daemon.initTimeoutMs, wire.INIT_TIMEOUT_MS, 'the init bound the agent sends is the one the daemon reads');
});

test('every daemon setting the agent sends is one the module names', () => {
  const env = daemonEnv();
  const known = new Set<string>(Object.values(wire.DAEMON_ENV));
  for (const k of Object.keys(env).filter((k) => k.startsWith(wire.DAEMON_ENV_PREFIX))) assert.ok(known.has(k), k);
});

test("the daemon's default listener is the socket the driver mounts", () => {
  assert.equal(wire.IOFS_DIR, IOFS_MOUNT);
  assert.equal(loadDaemonConfig({}).listener, wire.IOFS_LISTENER);
});
