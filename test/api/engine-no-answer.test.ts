// A server whose container engine takes connections and never answers (a deadlocked dockerd):
// its start-up sweep is bounded like every engine request (60 s), so it listens, warns what it
// could not sweep, serves the REST API, and a SIGTERM sent while it started stops it once up.
// (Before, the sweep's list waited for ever: it never listened, and the SIGTERM went unheeded.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sqliteDb } from '../helpers/db.js';
import { spawnServer } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../api/main.js', import.meta.url));

/** A unix socket that takes every connection and never says a word. */
async function silentEngine(sock: string): Promise<{ close(): Promise<void> }> {
  const held = new Set<net.Socket>();
  const server = net.createServer((s) => void held.add(s.on('error', () => {})));
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    close: async () => {
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('an engine that never answers: the server listens after the sweep’s bound, warns, serves the API, and a SIGTERM during start-up stops it', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-silent-'));
  const engine = await silentEngine(join(dir, 'engine.sock'));
  const dbs = [await sqliteDb(), await sqliteDb()];
  const env = (i: number, nodeId: string) => ({
    FN_DB_URL: dbs[i]!.url, FN_IOFS_PATH: join(dir, `iofs${i}`), KILN_NODE_ID: nodeId, KILN_DOCKER_PULL: 'false',
    DOCKER_HOST: `unix://${join(dir, 'engine.sock')}`, KILN_SHUTDOWN_GRACE_MSECS: '0', TMPDIR: tmpdir(),
  });
  // The second server is sent SIGTERM during its start-up (once it holds its node id, so after
  // it listens for signals, and before its sweep); it must stop once it is up.
  const early = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', FN_PORT: '0', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'info', ...env(1, uniqueNodeId()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let earlyOut = '';
  early.stdout!.on('data', (d: Buffer) => void (earlyOut += d.toString()));
  early.stderr!.on('data', (d: Buffer) => void (earlyOut += d.toString()));
  const earlyExit = once(early, 'exit');
  const earlyIofs = join(dir, 'iofs1');
  void (async () => {
    for (let i = 0; i < 300 && early.exitCode === null; i++) {
      const held = (() => {
        try {
          return readdirSync(earlyIofs).some((name) => name.startsWith('node-'));
        } catch {
          return false; // not made yet
        }
      })();
      if (held) return void early.kill('SIGTERM');
      await sleep(100);
    }
  })().catch(() => {});
  const nodeId = uniqueNodeId();
  let srv: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    const t0 = Date.now();
    srv = await spawnServer(env(0, nodeId), { startMs: 120_000 });
    const took = Date.now() - t0;
    assert.ok(took >= 55_000, `listening once the sweep's request was given up, not before (${took} ms)`);
    const lines = srv.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; node?: string; err?: { message: string } });
    const warned = lines.find((l) => l.level === 40 && /container engine unreachable or not answering/.test(l.msg));
    assert.ok(warned, srv.output());
    assert.equal(warned.node, nodeId);
    assert.match(warned.msg, new RegExp(`the containers an earlier run of node ${nodeId} left, and their socket directories, were not removed`));
    assert.match(warned.err?.message ?? '', new RegExp(`listing the containers of node ${nodeId}: the container engine did not answer within 60000 ms`));
    // The REST API works without an engine.
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'no-engine' });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    // The early one came up too, and its SIGTERM stopped it: with an engine that answers no
    // removal, by the stop's own bound (nothing done for 15 s past the grace).
    let timer: NodeJS.Timeout | undefined;
    const [code] = (await Promise.race([earlyExit, new Promise((r) => (timer = setTimeout(r, 60_000, ['still running'])))])) as [unknown];
    clearTimeout(timer);
    assert.notEqual(code, 'still running', earlyOut);
    assert.match(earlyOut, /kiln listening on http/);
    assert.match(earlyOut, /kiln: still stopping \d+ ms after SIGTERM/);
  } finally {
    if (early.exitCode === null && early.signalCode === null) {
      early.kill('SIGKILL');
      await earlyExit;
    }
    await srv?.stop('SIGKILL');
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
    for (const db of dbs) await db.cleanup();
  }
});
