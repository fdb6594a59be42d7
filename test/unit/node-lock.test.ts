// The node id's lock (agent/node-lock.ts): held against a live other process, taken over from one
// that is gone, from a pid reused by another process, from a broken file and from this process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lockNodeId, nodeLockPath, NodeIdInUseError, processStarted } from '../../agent/node-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-nodelock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A process that runs until killed, as another server would. */
async function otherProcess(): Promise<{ pid: number; kill: () => Promise<void> }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return {
    pid: child.pid!,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

test('held by this process until released; the release removes only its own file', async () => {
  const path = nodeLockPath(dir, 'n1');
  const release = await lockNodeId(dir, 'n1', 8080);
  const held = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; started: string; port: number };
  assert.deepEqual(held, { pid: process.pid, started: await processStarted(process.pid), port: 8080 });
  assert.match(held.started, /^\d+$/);
  // Started again in this process (as tests do): taken over, not refused.
  const again = await lockNodeId(dir, 'n1', 8081);
  await release();
  assert.ok(existsSync(path), "the first release leaves the second holder's file");
  await again();
  assert.ok(!existsSync(path));
});

test('a live other process holds it: refused, naming its pid and port; once it is gone the file is taken over', async () => {
  const other = await otherProcess();
  try {
    const path = nodeLockPath(dir, 'n2');
    writeFileSync(path, JSON.stringify({ pid: other.pid, started: await processStarted(other.pid), port: 9090 }));
    await assert.rejects(lockNodeId(dir, 'n2', 8080), (err: NodeIdInUseError) => {
      assert.ok(err instanceof NodeIdInUseError);
      assert.equal(err.message, `another Kiln server (pid ${other.pid}, port 9090) is running with node id "n2" on this machine, and this one would remove its containers: give each server its own KILN_NODE_ID (or stop the other one first)`);
      return true;
    });
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, other.pid, 'its file is left alone');
    await other.kill();
    const release = await lockNodeId(dir, 'n2', 8080);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    await release();
  } finally {
    await other.kill();
  }
});

test('a pid now used by another process (its start time differs), and a broken file, are taken over', async () => {
  const other = await otherProcess();
  try {
    for (const [id, text] of [['n3', JSON.stringify({ pid: other.pid, started: '1', port: 1 })], ['n4', 'not json'], ['n5', '{"pid":"1"}']] as const) {
      writeFileSync(nodeLockPath(dir, id), text);
      const release = await lockNodeId(dir, id, 1);
      assert.equal(JSON.parse(readFileSync(nodeLockPath(dir, id), 'utf8')).pid, process.pid, id);
      await release();
    }
  } finally {
    await other.kill();
  }
});

test('node ids are told apart by the file name, a hash of the id', () => {
  assert.notEqual(nodeLockPath(dir, 'kiln-1'), nodeLockPath(dir, 'kiln-2'));
  assert.match(nodeLockPath('/base', 'any id'), /^\/base\/node-[0-9a-f]{16}\.pid$/);
});
