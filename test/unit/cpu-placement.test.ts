// CPU lists and the placement of Lambda containers on CPUs (agent/cpu-placement.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CpuListError, CpuPlacement, cpusAllowed, LAMBDA_ONE_VCPU_MAX_MB, lambdaPlacement, MAX_CPU, parseCpuList, pinsToOneCpu,
} from '../../agent/cpu-placement.js';

const parsed: { text: string; cpus: number[] }[] = [
  { text: '2', cpus: [2] },
  { text: '0', cpus: [0] },
  { text: '0-3', cpus: [0, 1, 2, 3] },
  { text: '0-3,6', cpus: [0, 1, 2, 3, 6] },
  { text: ' 0-1 ', cpus: [0, 1] },
  { text: '0-1\n', cpus: [0, 1] },
  { text: '0 - 1, 4', cpus: [0, 1, 4] },
  { text: '5-5', cpus: [5] },
  { text: '6,0-2', cpus: [0, 1, 2, 6] },
  { text: '1,1,0-1', cpus: [0, 1] },
  { text: '007', cpus: [7] },
  { text: `${MAX_CPU}`, cpus: [MAX_CPU] },
];
for (const c of parsed) {
  test(`parseCpuList(${JSON.stringify(c.text)}) = ${JSON.stringify(c.cpus)}`, () => {
    assert.deepEqual(parseCpuList(c.text), c.cpus);
  });
}

const garbage = ['', '   ', 'abc', 'auto', '1,,2', ',1', '1,', '0-', '-1', '3-1', '1-2-3', '1.5', '0x2', '1 2', '0-3:2', `0-${MAX_CPU + 1}`, '99999999999'];
for (const text of garbage) {
  test(`parseCpuList rejects ${JSON.stringify(text)} with a CpuListError naming it`, () => {
    assert.throws(() => parseCpuList(text), (err: unknown) => {
      assert.ok(err instanceof CpuListError, String(err));
      assert.equal(err.text, text);
      assert.ok(err.message.includes(JSON.stringify(text)), err.message);
      return true;
    });
  });
}

const statuses: { name: string; text: string; cpus: number[] | undefined }[] = [
  { name: 'a range', text: 'Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n', cpus: [0, 1] },
  { name: 'a list', text: 'Cpus_allowed_list:\t0,2-3\n', cpus: [0, 2, 3] },
  { name: 'the last line, no newline', text: 'Name:\tnode\nCpus_allowed_list:\t4', cpus: [4] },
  { name: 'no such line', text: 'Name:\tnode\nCpus_allowed:\t3\n', cpus: undefined },
  { name: 'an empty value', text: 'Cpus_allowed_list:\t\nX:\t1\n', cpus: undefined },
  { name: 'a garbled value', text: 'Cpus_allowed_list:\tzz\n', cpus: undefined },
  { name: 'empty text', text: '', cpus: undefined },
];
for (const c of statuses) {
  test(`cpusAllowed: ${c.name}`, () => assert.deepEqual(cpusAllowed(c.text), c.cpus));
}

const memory: { memoryMb: number; pinned: boolean }[] = [
  { memoryMb: 128, pinned: true },
  { memoryMb: LAMBDA_ONE_VCPU_MAX_MB, pinned: true },
  { memoryMb: LAMBDA_ONE_VCPU_MAX_MB + 1, pinned: false },
  { memoryMb: 2048, pinned: false },
];
test('Lambda gives one vCPU up to 1769 MB', () => assert.equal(LAMBDA_ONE_VCPU_MAX_MB, 1769));
for (const c of memory) {
  test(`pinsToOneCpu(${c.memoryMb}) = ${c.pinned}`, () => assert.equal(pinsToOneCpu(c.memoryMb), c.pinned));
}

const placements: { cpus: number[] | undefined; placed: number[] | undefined }[] = [
  { cpus: undefined, placed: undefined },
  { cpus: [], placed: undefined },
  { cpus: [3], placed: undefined },
  { cpus: [3, 3], placed: undefined },
  { cpus: [0, 1], placed: [0, 1] },
  { cpus: [2, 0, 2], placed: [2, 0] },
];
for (const c of placements) {
  test(`lambdaPlacement(${JSON.stringify(c.cpus)}): ${c.placed ? `over ${JSON.stringify(c.placed)}` : 'no pinning'}`, () => {
    assert.deepEqual(lambdaPlacement(c.cpus)?.cpus, c.placed);
  });
}

test('CpuPlacement needs a CPU', () => assert.throws(() => new CpuPlacement([]), RangeError));

/** One step: take (expecting that CPU) or give a CPU back. */
type Step = { take: number } | { give: number };
const sequences: { name: string; cpus: number[]; steps: Step[]; counts: [number, number][] }[] = [
  {
    name: 'takes spread round the list, in its order',
    cpus: [0, 1, 2],
    steps: [{ take: 0 }, { take: 1 }, { take: 2 }, { take: 0 }, { take: 1 }, { take: 2 }, { take: 0 }],
    counts: [[0, 3], [1, 2], [2, 2]],
  },
  {
    name: 'ties go to the earliest position, not the lowest number',
    cpus: [3, 1, 2],
    steps: [{ take: 3 }, { take: 1 }, { take: 2 }, { take: 3 }],
    counts: [[3, 2], [1, 1], [2, 1]],
  },
  {
    name: 'a CPU given back is the next taken',
    cpus: [0, 1, 2],
    steps: [{ take: 0 }, { take: 1 }, { take: 2 }, { give: 1 }, { take: 1 }, { take: 0 }],
    counts: [[0, 2], [1, 1], [2, 1]],
  },
  {
    name: 'the least loaded wins over the earliest',
    cpus: [0, 1],
    steps: [{ take: 0 }, { take: 1 }, { take: 0 }, { take: 1 }, { give: 1 }, { give: 1 }, { take: 1 }, { take: 1 }, { take: 0 }],
    counts: [[0, 3], [1, 2]],
  },
  {
    name: 'interleaved: every give frees one place',
    cpus: [0, 1],
    steps: [{ take: 0 }, { give: 0 }, { take: 0 }, { take: 1 }, { give: 0 }, { take: 0 }, { give: 1 }, { give: 0 }, { take: 0 }],
    counts: [[0, 1], [1, 0]],
  },
  {
    name: 'giving back an unknown CPU is a no-op',
    cpus: [0, 1],
    steps: [{ take: 0 }, { give: 7 }, { give: -1 }, { take: 1 }, { take: 0 }],
    counts: [[0, 2], [1, 1]],
  },
  {
    name: 'giving back a CPU with none placed is a no-op (it cannot go below zero)',
    cpus: [0, 1],
    steps: [{ give: 1 }, { give: 1 }, { take: 0 }, { take: 1 }, { take: 0 }],
    counts: [[0, 2], [1, 1]],
  },
  {
    name: 'a CPU listed twice counts once',
    cpus: [1, 0, 1],
    steps: [{ take: 1 }, { take: 0 }, { take: 1 }],
    counts: [[1, 2], [0, 1]],
  },
];
for (const c of sequences) {
  test(`CpuPlacement over ${JSON.stringify(c.cpus)}: ${c.name}`, () => {
    const p = new CpuPlacement(c.cpus);
    c.steps.forEach((step, i) => {
      if ('take' in step) assert.equal(p.take(), step.take, `step ${i}: take`);
      else p.give(step.give);
    });
    assert.deepEqual([...p.counts()], c.counts);
  });
}

test('counts() is a copy', () => {
  const p = new CpuPlacement([0, 1]);
  p.counts().set(0, 9);
  assert.equal(p.take(), 0);
});

test("take(elsewhere): others' containers count in the choice, not in this node's counts", () => {
  const p = new CpuPlacement([0, 1, 2]);
  assert.equal(p.take([0, 0, 1]), 2, 'the CPU no one uses');
  assert.equal(p.take([0, 0, 1]), 1, 'then one of 1 (others) against 0 + 2 and 1 (mine) + 0');
  assert.deepEqual([...p.counts()], [[0, 0], [1, 1], [2, 1]], 'only what this node took is counted');
  assert.equal(p.take([5, 7]), 0, 'a CPU not in the list is ignored');
});
