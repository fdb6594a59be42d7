// agent/lambda-bundle.ts: a bundle that could not be prepared is tried again, at most every retryMs,
// and the log says why by the cause (a missing daemon build, or the host's error).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { LambdaBundle } from '../../agent/lambda-bundle.js';
import type { LambdaRuntime } from '../../agent/lambda.js';

const RT: LambdaRuntime = { hostDir: '/b', mount: '/kiln', command: ['/kiln/node'], hostsFile: '/b/hosts' };
const DAEMON = '/x/dist/runtime/daemon.cjs';

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ... '${path}'`), { code, path });
}

function world(fail: () => Error | undefined, retryMs: number) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
  let tries = 0;
  let ready = 0;
  const bundle = new LambdaBundle(async () => {
    tries++;
    const err = fail();
    if (err) throw err;
    return RT;
  }, DAEMON, log, () => void ready++, retryMs);
  return { bundle, lines, tries: () => tries, ready: () => ready };
}

test('a host error: missing is host, the log names no build, a try within retryMs is not made, a later one is, and once ready it stays', async () => {
  let full = true;
  const w = world(() => (full ? errno('ENOSPC', '/usr/bin/node') : undefined), 300);
  assert.equal(await w.bundle.get(), undefined);
  assert.equal(w.bundle.missing, 'host');
  assert.equal(await w.bundle.get(), undefined);
  assert.equal(w.tries(), 1, 'not tried again within retryMs');
  assert.equal(w.lines.length, 1);
  assert.doesNotMatch(w.lines[0]!.msg, /npm run build/);
  assert.match(w.lines[0]!.msg, /host error.*503/);
  full = false;
  await sleep(350);
  assert.deepEqual(await w.bundle.get(), RT);
  assert.equal(w.bundle.missing, undefined);
  assert.equal(w.ready(), 1);
  assert.ok(w.lines.some((l) => /ready now/.test(l.msg)));
  assert.deepEqual(await w.bundle.get(), RT);
  assert.equal(w.tries(), 2);
});

test('no daemon build: missing is build, and the log says to build it', async () => {
  const w = world(() => errno('ENOENT', DAEMON), 10_000);
  assert.equal(await w.bundle.get(), undefined);
  assert.equal(w.bundle.missing, 'build');
  assert.match(w.lines[0]!.msg, /run `npm run build`.*501/);
});

test('calls at once share one try', async () => {
  const w = world(() => undefined, 10_000);
  const all = await Promise.all([w.bundle.get(), w.bundle.get(), w.bundle.get()]);
  assert.deepEqual(all, [RT, RT, RT]);
  assert.equal(w.tries(), 1);
});
