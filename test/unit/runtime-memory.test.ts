// runtime/memory.ts: the cgroup peak-memory reader behind REPORT's Max Memory Used.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openPeakMemory } from '../../runtime/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-memory-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('openPeakMemory', () => {
  const cases: { name: string; files: () => string[]; mb: number | undefined }[] = [
    { name: 'bytes rounded up to MB', files: () => [file('v2-a', '10485761\n')], mb: 11 },
    { name: 'exactly 1 MB', files: () => [file('v2-b', '1048576\n')], mb: 1 },
    { name: 'the first file that opens (v2 missing, v1 there)', files: () => [join(dir, 'absent'), file('v1', '2097152\n')], mb: 2 },
    { name: 'no file at all', files: () => [join(dir, 'absent-1'), join(dir, 'absent-2')], mb: undefined },
    { name: 'not a number', files: () => [file('junk', 'max\n')], mb: undefined },
    { name: 'zero', files: () => [file('zero', '0\n')], mb: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const peak = openPeakMemory(c.files());
      try {
        assert.equal(peak.read(), c.mb);
      } finally {
        peak.close();
      }
    });
  }

  test('each read sees the file as it is now (the fd is re-read from offset 0)', () => {
    const p = file('moving', '1048576\n');
    const peak = openPeakMemory([p]);
    try {
      assert.equal(peak.read(), 1);
      writeFileSync(p, '5242880\n');
      assert.equal(peak.read(), 5);
      assert.equal(peak.read(), 5);
    } finally {
      peak.close();
    }
    assert.equal(peak.read(), undefined, 'closed');
  });
});
