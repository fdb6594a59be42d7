// The daemon's process starts: what it starts is the kernel's first choice at an out-of-memory,
// and a spawn that hits the process limit says so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROCESS_LIMIT_HINT, SpawnError, start, type ProcessSpec } from '../../runtime/processes.js';

const oomScoreAdj = (pid: number): number => Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim());

test('a started process, and what it starts, get oom_score_adj 1000; the daemon keeps its own', { skip: process.platform !== 'linux' }, async () => {
  const own = oomScoreAdj(process.pid);
  const lines: string[] = [];
  // The shell prints its child's pid once that child runs: the child was forked after the write.
  const spec: ProcessSpec = { name: 'runtime', kind: 'runtime', command: '/bin/sh', args: ['-c', 'sleep 30 & echo $!; wait'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/' };
  const m = await start(spec, { line: (_k, _n, text) => lines.push(text), exited: () => {} });
  try {
    for (let i = 0; i < 100 && lines.length === 0; i++) await sleep(20);
    const grandchild = Number(lines[0]);
    assert.ok(grandchild > 0, `the shell printed its child's pid: ${lines.join('|')}`);
    assert.equal(oomScoreAdj(grandchild), 1000, 'what the runtime starts inherits it');
    const shell = Number(readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    assert.equal(oomScoreAdj(shell), 1000, 'the process the daemon started');
    assert.equal(oomScoreAdj(process.pid), own, "the daemon's own is unchanged");
  } finally {
    m.signal('SIGKILL');
    await m.exited;
  }
});

test('a spawn refused with EAGAIN names the process limit; other codes are as they came', () => {
  const spec: ProcessSpec = { name: 'runtime', kind: 'runtime', command: '/usr/local/bin/node', args: [], env: {}, cwd: '/' };
  const e = new SpawnError(spec, 'EAGAIN', 'spawn /usr/local/bin/node EAGAIN');
  assert.equal(e.message, `spawn /usr/local/bin/node EAGAIN: ${PROCESS_LIMIT_HINT}`);
  assert.match(e.message, /process limit/);
  assert.equal(new SpawnError(spec, 'ENOENT', 'spawn x ENOENT').message, 'spawn x ENOENT');
});
