// The fn number ranges the CLI checks (func.yaml, --memory ...) are the server's own: for every
// field, the values around each edge are refused by the CLI's check exactly when the server's
// create and update refuse them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FN_LIMITS, fnInputProblem, type FnLimitField } from '../../api/contract/fn-limits.js';
import { mergeFn, newFn } from '../../api/models/fn.js';
import { parseFuncYaml } from '../../images/func-yaml.js';
import type { Fn } from '../../store/types.js';

const NOW = '2024-06-01T12:00:00.000Z';
const base = { name: 'f', app_id: 'a', image: 'i:1' };
const stored: Fn = newFn(base, '01ARZ3NDEKTSV4RRFFQ69G5FAV', NOW, []);
const serverTakes = (make: () => unknown): boolean => {
  try {
    make();
    return true;
  } catch {
    return false;
  }
};

for (const field of Object.keys(FN_LIMITS) as FnLimitField[]) {
  const { max } = FN_LIMITS[field];
  for (const value of [-1, 0, 1, max - 1, max, max + 1, 100_000]) {
    test(`${field} ${value}: the CLI refuses it exactly when the server does`, () => {
      const created = serverTakes(() => newFn({ ...base, [field]: value }, 'x', NOW, []));
      const updated = serverTakes(() => mergeFn(stored, { [field]: value }, NOW, []));
      assert.equal(updated, created);
      assert.equal(fnInputProblem(field, value) === undefined, created);
    });
  }
}

const refused: Array<[string, RegExp]> = [
  ['timeout: 900', /^f\.yaml: timeout 900 is out of range: it must be 1 to 300 seconds \(0 counts as not given; the default is 30\)$/],
  ['memory: 8193', /^f\.yaml: memory 8193 is out of range: it must be 1 to 8192 MB/],
  ['idle_timeout: 3601', /^f\.yaml: idle_timeout 3601 is out of range: it must be 1 to 3600 seconds/],
];
for (const [text, re] of refused) test(`func.yaml ${text} is refused naming the file, field, value and range`, () => assert.throws(() => parseFuncYaml(`${text}\n`, 'f.yaml'), { message: re }));

test('func.yaml: 0 and each maximum are taken', () => {
  const f = parseFuncYaml('memory: 8192\ntimeout: 300\nidle_timeout: 0\n');
  assert.deepEqual([f.memory, f.timeout, f.idle_timeout], [8192, 300, 0]);
});
