// The bound on a streamed answer: KILN_MAX_STREAMED_RESPONSE_SIZE, never tighter than
// FN_MAX_RESPONSE_SIZE, and no limit when either says none (0).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamedBound } from '../../agent/hot-container.js';

const MiB = 1024 * 1024;
const rows: [buffered: number, streamed: number, want: number][] = [
  [6 * MiB, 200 * MiB, 200 * MiB],
  [300 * MiB, 200 * MiB, 300 * MiB],
  [0, 200 * MiB, 0],
  [6 * MiB, 0, 0],
  [0, 0, 0],
  [4096, 65536, 65536],
];
for (const [buffered, streamed, want] of rows) {
  test(`streamedBound(${buffered}, ${streamed}) = ${want}`, () => assert.equal(streamedBound(buffered, streamed), want));
}
