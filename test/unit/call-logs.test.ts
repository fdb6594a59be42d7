import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallLogs, MAX_HELD_BYTES } from '../../agent/call-logs.js';
import { LOG_TAIL_BYTES, LogBuffer } from '../../agent/log-buffer.js';

/**
 * A container's output, step by step: `out`/`err` a chunk on stdout/stderr, `begin` a call,
 * `at` its answer's offset (null: an answer without one), `end` it, `close` the container.
 */
type Step = ['begin', string] | ['out', string] | ['err', string] | ['at', number | null] | ['end'] | ['close'];

interface Case {
  name: string;
  byOffset: boolean;
  /** The log frame name (http-stream with frames on). */
  frames?: string;
  steps: Step[];
  /** Each call's log as it ends up. */
  logs: Record<string, string>;
  init?: string;
  /** The late stores, in order: [callId, the whole log stored]. */
  late?: [string, string][];
}

// Offsets count stdout bytes from the container's start: 'aaa' is 0-2, the next chunk starts at 3.
const cases: Case[] = [
  {
    name: 'http-stream: what arrives while a call runs is its own; what came before any call heads the first one\'s',
    byOffset: false,
    steps: [['out', 'boot\n'], ['begin', 'A'], ['out', 'a1\n'], ['err', 'a2\n'], ['end']],
    logs: { A: 'boot\na1\na2\n' },
    init: 'boot\n',
  },
  {
    name: 'lambda: what the init printed before the first call heads that call\'s log (not the next one\'s)',
    byOffset: true,
    steps: [
      ['out', 'registered\n'], ['begin', 'A'], ['out', 'START A\n'], ['at', 11], ['end'],
      ['begin', 'B'], ['out', 'START B\n'], ['at', 19], ['end'],
    ],
    logs: { A: 'registered\nSTART A\n', B: 'START B\n' },
    init: 'registered\n',
  },
  {
    name: 'http-stream: output after the answer is the last call\'s, stored again; the next call takes what comes while it runs',
    byOffset: false,
    steps: [['begin', 'A'], ['out', 'a\n'], ['end'], ['out', 'late\n'], ['begin', 'B'], ['out', 'b\n'], ['end'], ['close']],
    logs: { A: 'a\nlate\n', B: 'b\n' },
    late: [['A', 'a\nlate\n']],
  },
  {
    name: 'lambda: the next call\'s output is held until its answer says where it begins, then cut there',
    byOffset: true,
    steps: [
      ['begin', 'A'], ['out', 'START A\n'], ['at', 0], ['end'],
      // A's extension finishes (7 bytes from 8), then B starts at 15, in one chunk and the next.
      ['begin', 'B'], ['out', 'a-late\nSTART B\n'], ['out', 'b\n'], ['at', 15], ['end'], ['close'],
    ],
    logs: { A: 'START A\na-late\n', B: 'START B\nb\n' },
    late: [['A', 'START A\na-late\n']],
  },
  {
    name: 'lambda: the last call\'s lines that arrive after the next call ended are still its own',
    byOffset: true,
    steps: [
      ['begin', 'A'], ['out', 'A\n'], ['at', 0], ['end'],
      ['begin', 'B'], ['at', 7], ['end'],
      ['out', 'late\n'], ['out', 'B\n'], ['close'],
    ],
    logs: { A: 'A\nlate\n', B: 'B\n' },
    late: [['A', 'A\nlate\n'], ['B', 'B\n']],
  },
  {
    name: 'lambda: a quiet call (its offset where the stream stands) takes nothing of the last call\'s tail',
    byOffset: true,
    steps: [['begin', 'A'], ['at', 0], ['end'], ['begin', 'B'], ['out', 'tail\n'], ['at', 5], ['end'], ['close']],
    logs: { A: 'tail\n', B: '' },
    late: [['A', 'tail\n']],
  },
  {
    name: 'lambda: an answer without an offset gives the call all it held, as without the cut',
    byOffset: true,
    steps: [['begin', 'A'], ['at', 0], ['end'], ['begin', 'B'], ['out', 'x\n'], ['err', 'e\n'], ['at', null], ['end']],
    logs: { A: '', B: 'x\ne\n' },
  },
  {
    name: 'lambda: a call that ends unanswered (a broken connection) keeps what it held',
    byOffset: true,
    steps: [['begin', 'A'], ['out', 'x\n'], ['end'], ['out', 'y\n'], ['close']],
    logs: { A: 'x\ny\n' },
    late: [['A', 'x\ny\n']],
  },
  {
    name: 'lambda: stderr (no offsets) goes to the newest call, held with the rest',
    byOffset: true,
    steps: [['begin', 'A'], ['at', 0], ['end'], ['begin', 'B'], ['err', 'daemon\n'], ['out', 'a\n'], ['at', 2], ['end']],
    logs: { A: 'a\n', B: 'daemon\n' },
  },
  {
    name: 'only the last call and the running one are kept: older late lines go to the oldest kept',
    byOffset: true,
    steps: [
      ['begin', 'A'], ['at', 0], ['end'], ['begin', 'B'], ['at', 0], ['end'],
      ['begin', 'C'], ['at', 4], ['out', 'old\n'], ['end'], ['close'],
    ],
    logs: { A: '', B: 'old\n', C: '' },
    late: [['B', 'old\n']],
  },
  {
    name: 'a call that printed nothing late is never stored again',
    byOffset: false,
    steps: [['begin', 'A'], ['out', 'a\n'], ['end'], ['begin', 'B'], ['end'], ['close']],
    logs: { A: 'a\n', B: '' },
    late: [],
  },
  {
    name: 'frames: output after the answer stays its call\'s while the next call runs, on both streams, frames taken out',
    byOffset: false, frames: 'kc',
    steps: [
      ['begin', 'A'], ['out', '\nkc=A\na1\n'], ['err', '\nkc=A\ne1\n'], ['end'],
      ['begin', 'B'], ['out', 'a-last\n\nkc=B\nb1\n'], ['err', 'e-last\n'], ['err', '\nkc=B\ne2\n'], ['end'], ['close'],
    ],
    logs: { A: 'a1\ne1\na-last\ne-last\n', B: 'b1\ne2\n' },
    late: [['A', 'a1\ne1\na-last\ne-last\n']],
  },
  {
    name: 'frames: a call\'s frame and output that arrive after the next call began are still its own',
    byOffset: false, frames: 'kc',
    steps: [
      ['begin', 'A'], ['end'], ['begin', 'B'], ['out', '\nkc=A\na\n\nkc=B\nb\n'], ['end'],
      ['begin', 'C'], ['end'], ['begin', 'D'], ['out', '\nkc=C\nc\n'], ['end'], ['close'],
    ],
    logs: { A: 'a\n', B: 'b\n', C: 'c\n', D: '' },
  },
  {
    name: 'frames: a function that prints none is cut by arrival, as without frames',
    byOffset: false, frames: 'kc',
    steps: [['out', 'boot\n'], ['begin', 'A'], ['out', 'a\n'], ['end'], ['out', 'late\n'], ['begin', 'B'], ['err', 'b\n'], ['end'], ['close']],
    logs: { A: 'boot\na\nlate\n', B: 'b\n' },
    init: 'boot\n',
    late: [['A', 'boot\na\nlate\n']],
  },
  {
    name: 'frames: a frame naming no kept call is left in the output, and what follows goes by arrival',
    byOffset: false, frames: 'kc',
    steps: [['begin', 'A'], ['out', '\nkc=A\na\n'], ['end'], ['begin', 'B'], ['out', '\nkc=Z\nz\n'], ['end']],
    logs: { A: 'a\n', B: '\nkc=Z\nz\n' },
  },
  {
    name: 'frames: a frame split across chunks; a held start that is not one goes on at the close',
    byOffset: false, frames: 'kc',
    steps: [['begin', 'A'], ['out', 'x\n\nk'], ['out', 'c=A\na\n\nk'], ['end'], ['close']],
    logs: { A: 'x\na\n\nk' },
  },
  {
    name: 'frames: four calls are kept; output framed to one no longer kept goes by arrival',
    byOffset: false, frames: 'kc',
    steps: [
      ['begin', 'A'], ['out', '\nkc=A\na\n'], ['end'], ['begin', 'B'], ['end'], ['begin', 'C'], ['end'], ['begin', 'D'], ['end'],
      ['begin', 'E'], ['out', 'after\n'], ['end'],
    ],
    logs: { A: 'a\n', B: '', C: '', D: '', E: 'after\n' },
  },
  {
    name: 'lambda: frames are not looked for',
    byOffset: true, frames: 'kc',
    steps: [['begin', 'A'], ['out', '\nkc=A\n'], ['at', 0], ['end']],
    logs: { A: '\nkc=A\n' },
  },
];

function run(c: Pick<Case, 'byOffset' | 'steps' | 'frames'>, lateDelayMs = 60_000): { logs: Record<string, LogBuffer>; init: LogBuffer; late: [string, string][] } {
  const init = new LogBuffer(1024);
  const late: [string, string][] = [];
  const logs: Record<string, LogBuffer> = {};
  const router = new CallLogs({ initLog: init, byOffset: c.byOffset, frames: c.frames, late: (id, log) => late.push([id, log]), lateDelayMs });
  for (const s of c.steps) {
    if (s[0] === 'begin') router.begin(s[1], (logs[s[1]] = new LogBuffer(4 * 1024 * 1024)));
    else if (s[0] === 'out') router.write(Buffer.from(s[1]), 'stdout');
    else if (s[0] === 'err') router.write(Buffer.from(s[1]), 'stderr');
    else if (s[0] === 'at') router.located(s[1] ?? undefined);
    else if (s[0] === 'end') router.end();
    else router.close();
  }
  return { logs, init, late };
}

for (const c of cases) {
  test(c.name, () => {
    const r = run(c);
    assert.deepEqual(Object.fromEntries(Object.entries(r.logs).map(([id, l]) => [id, l.toString()])), c.logs);
    assert.equal(r.init.toString(), c.init ?? '');
    if (c.late) assert.deepEqual(r.late, c.late);
  });
}

test('late output is stored again once it has gathered for the delay, once for a burst', async () => {
  const r = run({ byOffset: false, steps: [['begin', 'A'], ['out', 'a\n'], ['end'], ['out', 'l1\n'], ['out', 'l2\n']] }, 30);
  assert.deepEqual(r.late, [], 'not at once');
  await sleep(80);
  assert.deepEqual(r.late, [['A', 'a\nl1\nl2\n']]);
});

test("lambda: an init log over its cap heads the first call's log with its start and its end, the gap counted", () => {
  const init = new LogBuffer(8);
  const router = new CallLogs({ initLog: init, byOffset: true, late: () => {}, lateDelayMs: 60_000 });
  router.write(Buffer.from('first\n'), 'stdout');
  router.write(Buffer.from('x'.repeat(LOG_TAIL_BYTES + 50)), 'stdout');
  router.write(Buffer.from('\nfatal: the telling line\n'), 'stdout');
  const log = new LogBuffer(1024 * 1024);
  router.begin('A', log);
  const text = log.toString();
  assert.ok(text.startsWith('first\nxx\n[kiln: '), text.slice(0, 40));
  assert.ok(text.endsWith('\nfatal: the telling line\n'), 'the end of the init output is kept');
  const gap = Number(/\[kiln: (\d+) bytes of output dropped here\]/.exec(text)?.[1]);
  assert.equal(8 + gap + LOG_TAIL_BYTES, init.written, 'kept start, counted gap and kept end add up to all of it');
  router.close();
});

test('a log at its cap is not stored again for output it drops; at the end, once, with the note', async () => {
  const late: [string, string][] = [];
  const router = new CallLogs({ initLog: new LogBuffer(64), byOffset: false, late: (id, log) => late.push([id, log]), lateDelayMs: 20 });
  const log = new LogBuffer(4);
  router.begin('A', log);
  router.write(Buffer.from('abcd'), 'stdout');
  router.end();
  router.write(Buffer.from('dropped\n'), 'stdout');
  await sleep(60);
  assert.deepEqual(late, [], 'nothing it keeps came');
  router.close();
  assert.deepEqual(late, [['A', 'abcd\n[kiln: 8 more bytes of output dropped]\n']]);
});

test('output that keeps coming after the answer is stored again less and less often (each wait twice the last)', async () => {
  const stored: number[] = [];
  const t0 = performance.now();
  const router = new CallLogs({ initLog: new LogBuffer(64), byOffset: false, late: () => stored.push(performance.now() - t0), lateDelayMs: 40 });
  router.begin('A', new LogBuffer(1 << 20));
  router.end();
  // A line every 10 ms for 600 ms: at a fixed 40 ms, about 15 stores; doubling (40, 80, 160, 320), four.
  for (let i = 0; i < 60; i++) {
    router.write(Buffer.from(`line ${i}\n`), 'stdout');
    await sleep(10);
  }
  assert.ok(stored.length >= 3 && stored.length <= 6, `stored ${stored.length} times: ${stored.map((x) => x.toFixed(0)).join(', ')}`);
  for (let i = 2; i < stored.length; i++) assert.ok(stored[i]! - stored[i - 1]! >= 1.5 * (stored[i - 1]! - stored[i - 2]!) - 15, 'each wait is longer');
  // Once the last store of A's output is done, a new call begins: its late output is stored
  // after the first delay again.
  await sleep(700);
  router.begin('B', new LogBuffer(1 << 10));
  router.end();
  const before = stored.length;
  router.write(Buffer.from('late of B\n'), 'stdout');
  await sleep(100);
  assert.equal(stored.length, before + 1);
  router.close();
});

test('a new call, or output after a pause longer than the last wait, is stored again after the first delay', async () => {
  const stored: [string, number][] = [];
  const t0 = performance.now();
  const router = new CallLogs({ initLog: new LogBuffer(64), byOffset: false, late: (id) => stored.push([id, performance.now() - t0]), lateDelayMs: 40 });
  router.begin('A', new LogBuffer(1 << 20));
  router.end();
  const trickle = async (n: number) => {
    for (let i = 0; i < n; i++) {
      router.write(Buffer.from(`line ${i}\n`), 'stdout');
      await sleep(10);
    }
  };
  // Waits of 40, 80, 160, then one of 320 ms is pending when B begins: A's output is stored at
  // once, and B's late line 40 ms after it.
  await trickle(35);
  const at = performance.now() - t0;
  router.begin('B', new LogBuffer(1 << 10));
  assert.deepEqual(stored.at(-1)?.[0], 'A', "A's pending output is stored as B begins");
  router.end();
  router.write(Buffer.from('late of B\n'), 'stdout');
  await sleep(100);
  const b = stored.find(([id, when]) => id === 'B' && when > at);
  assert.ok(b && b[1] - at < 90, `B's late line stored ${b ? (b[1] - at).toFixed(0) : 'never'} ms after B began`);
  // Output again after a pause longer than the last wait: the first delay again.
  await trickle(20);
  await sleep(700);
  const before = stored.length;
  const t1 = performance.now() - t0;
  router.write(Buffer.from('after a pause\n'), 'stdout');
  await sleep(90);
  assert.equal(stored.length, before + 1, 'stored after the first delay');
  assert.ok(stored.at(-1)![1] - t1 < 80);
  router.close();
});

test('a call that holds more than MAX_HELD_BYTES before its answer gives up the cut: all it held is its own', () => {
  const big = 'x'.repeat(MAX_HELD_BYTES);
  const r = run({ byOffset: true, steps: [['begin', 'A'], ['at', 0], ['end'], ['begin', 'B'], ['out', 'a\n'], ['out', big], ['out', 'b\n'], ['at', 2], ['end']] });
  assert.equal(r.logs.A!.toString(), '');
  assert.equal(r.logs.B!.toString(), `a\n${big}b\n`);
});
