// `npm run up`'s last step (scripts/up.ts): deploys examples/hello and invokes it. Run once
// here with its own database, port and node id; it must answer and leave no container.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeContainers } from '../helpers/containers.js';
import { docker } from '../helpers/images.js';
import { uniqueNodeId } from '../helpers/server.js';

/** scripts/up.js with a database, port and node id of its own (in `work`). */
function spawnUp(work: string, nodeId: string, extra: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [fileURLToPath(new URL('../../scripts/up.js', import.meta.url))], {
    env: {
      PATH: process.env.PATH ?? '', FN_PORT: '0', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'warn',
      FN_DB_URL: `sqlite3://${join(work, 'fn.db')}`, FN_IOFS_PATH: join(work, 'iofs'), KILN_NODE_ID: nodeId,
      KILN_DOCKER_PULL: 'false', ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('the up script deploys the demo, invokes it and prints where to try it', async () => {
  const work = mkdtempSync(join(tmpdir(), 'kiln-up-'));
  const nodeId = uniqueNodeId();
  try {
    const child = spawnUp(work, nodeId, { KILN_UP_ONCE: '1' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, out);
    assert.match(out, /deployed app "demo", fn "hello"/);
    assert.match(out, /POST \/invoke\/[0-9A-Z]{26} -> 200 \{"message":"Hello Kiln"\}/);
    assert.match(out, /curl -s http:\/\/127\.0\.0\.1:\d+\/t\/demo\/hello/);
    assert.match(out, /open http:\/\/127\.0\.0\.1:\d+\/ui\/ in a browser/);
    assert.deepEqual(await nodeContainers(docker(), nodeId), []);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('Ctrl-C during the demo stops the server as api/main.ts does: its containers removed, exit 0', async () => {
  const work = mkdtempSync(join(tmpdir(), 'kiln-up-'));
  const nodeId = uniqueNodeId();
  try {
    const child = spawnUp(work, nodeId);
    let out = '';
    let signalled = false;
    const exited = once(child, 'exit');
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    // The deploy's last line: the demo's invoke (and its container's start) begins right after it.
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!signalled && /deployed app "demo"/.test(out)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.ok(signalled, out);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, out);
    assert.doesNotMatch(out, /the demo failed/, 'the stop is not the demo\'s failure');
    assert.doesNotMatch(out, /Kiln is running on/, 'nothing more is offered once stopping');
    assert.deepEqual(await nodeContainers(docker(), nodeId), [], 'no container of its node is left');
  } finally {
    // What a failing run left: this test's node only.
    for (const c of await nodeContainers(docker(), nodeId)) await docker().getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
});

test('the up script on a port in use says so in one line, naming FN_PORT, with no stack', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const work = mkdtempSync(join(tmpdir(), 'kiln-up-'));
  try {
    const { port } = taken.address() as AddressInfo;
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../scripts/up.js', import.meta.url))], {
      env: {
        PATH: process.env.PATH ?? '', FN_PORT: String(port), FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'warn',
        FN_DB_URL: `sqlite3://${join(work, 'fn.db')}`, FN_IOFS_PATH: join(work, 'iofs'), KILN_NODE_ID: uniqueNodeId(),
        KILN_DOCKER_PULL: 'false', KILN_UP_ONCE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1, err);
    assert.match(err, new RegExp(`^kiln: failed to start: port ${port} on 127\\.0\\.0\\.1 is already in use: set FN_PORT to a free one`));
    assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
  } finally {
    taken.close();
    rmSync(work, { recursive: true, force: true });
  }
});
