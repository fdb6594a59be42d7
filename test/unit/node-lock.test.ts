// The node id's lock (agent/node-lock.ts): held against a live other process, taken over from one
// that is gone, from a pid reused by another process, from a broken file and from this process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { liveStartTime, lockNodeId, nodeLockPath, NodeIdInUseError, processStarted } from '../../agent/node-lock.js';

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

test('held by this process until released; started again in it, even on the same port, each release removes only its own file', async () => {
  const path = nodeLockPath(dir, 'n1');
  const release = await lockNodeId(dir, 'n1', 8080);
  const held = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; started: string; port: number; token: string };
  assert.deepEqual({ ...held, token: undefined }, { pid: process.pid, started: await processStarted(process.pid), port: 8080, token: undefined });
  assert.match(held.token, /^[0-9a-f-]{36}$/);
  assert.match(held.started, /^\d+$/);
  // Started again in this process (as tests do), on the same port: taken over, not refused; its
  // own token keeps the first release off its file.
  const again = await lockNodeId(dir, 'n1', 8080);
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

test('a server that died and is not yet reaped (a zombie) holds nothing: its file is taken over', async () => {
  // sh starts `sleep 0` and execs into `sleep 60`, which never reaps it: a zombie for a minute.
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const pid = Number(line.toString().trim());
    let stat = '';
    for (let i = 0; i < 200 && !/\) Z /.test(stat); i++) {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(stat, /\) Z /, 'the child is a zombie');
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(nodeLockPath(dir, 'n6'), JSON.stringify({ pid, started, port: 7070 }));
    // Before, its stat file and start time made it a live holder until its parent reaped it.
    const release = await lockNodeId(dir, 'n6', 8080);
    assert.equal(JSON.parse(readFileSync(nodeLockPath(dir, 'n6'), 'utf8')).pid, process.pid);
    await release();
  } finally {
    parent.kill('SIGKILL');
  }
});

test('liveStartTime reads field 22 of a live process, and none of a dead one', () => {
  const rest = '1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10';
  const rows: [string, string | undefined][] = [
    [`123 (node) S ${rest}`, '4242'],
    [`123 (node) R ${rest}`, '4242'],
    [`123 (node) D ${rest}`, '4242'],
    [`123 (node) T ${rest}`, '4242'],
    [`123 (kiln (x) y) S ${rest}`, '4242'],
    [`123 (node) Z ${rest}`, undefined],
    [`123 (node) X ${rest}`, undefined],
  ];
  for (const [stat, want] of rows) assert.equal(liveStartTime(stat), want, stat);
});

test('two servers taking over the same stale files at once: one of them holds each, the other is refused', async () => {
  const ids = Array.from({ length: 60 }, (_, i) => `race-${i}`);
  // A pid that no longer runs.
  const gone = spawn('true');
  await once(gone, 'exit');
  for (const id of ids) writeFileSync(nodeLockPath(dir, id), JSON.stringify({ pid: gone.pid, started: '1', port: 1 }));
  const lockModule = new URL('../../agent/node-lock.js', import.meta.url).href;
  const at = Date.now() + 700;
  // Each contender: wait for the same moment, try every id, print what it got, stay alive to be asked.
  const script = `
    const { lockNodeId } = await import(${JSON.stringify(lockModule)});
    while (Date.now() < ${at}) {}
    const got = await Promise.all(${JSON.stringify(ids)}.map((id) => lockNodeId(${JSON.stringify(dir)}, id, process.pid).then(() => 'held', (e) => e.name)));
    console.log(JSON.stringify(got));
    setTimeout(() => {}, 3000);`;
  const contender = () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const line = new Promise<string[]>((resolve) => {
      const check = setInterval(() => {
        if (out.includes('\n')) {
          clearInterval(check);
          resolve(JSON.parse(out) as string[]);
        }
      }, 20);
    });
    return { child, line };
  };
  const a = contender();
  const b = contender();
  try {
    const [ga, gb] = await Promise.all([a.line, b.line]);
    for (let i = 0; i < ids.length; i++) {
      assert.deepEqual([ga[i], gb[i]].sort(), ['NodeIdInUseError', 'held'], `${ids[i]}: ${ga[i]} / ${gb[i]}`);
    }
  } finally {
    a.child.kill();
    b.child.kill();
  }
});

test('node ids are told apart by the file name, a hash of the id', () => {
  assert.notEqual(nodeLockPath(dir, 'kiln-1'), nodeLockPath(dir, 'kiln-2'));
  assert.match(nodeLockPath('/base', 'any id'), /^\/base\/node-[0-9a-f]{16}\.pid$/);
});
