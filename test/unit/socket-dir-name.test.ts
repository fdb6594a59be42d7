import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { isSocketDirName, nodeTag, SOCKET_DIR_PLACEHOLDER, socketDirPrefix, socketDirTag } from '../../agent/socket-dir-name.js';

test('nodeTag: 8 hex digits of sha256(node id), the same for the same id, different for others', () => {
  const cases: { nodeId: string; tag: string }[] = [
    { nodeId: 'host-1', tag: createHash('sha256').update('host-1').digest('hex').slice(0, 8) },
    { nodeId: 'a', tag: 'ca978112' },
    { nodeId: 'x'.repeat(64), tag: createHash('sha256').update('x'.repeat(64)).digest('hex').slice(0, 8) },
  ];
  for (const c of cases) {
    assert.equal(nodeTag(c.nodeId), c.tag, c.nodeId);
    assert.match(nodeTag(c.nodeId), /^[0-9a-f]{8}$/);
  }
  assert.notEqual(nodeTag('node-a'), nodeTag('node-b'));
});

test('socketDirPrefix: `c`, the tag and a dash, as long as the placeholder less mkdtemp\'s six', () => {
  assert.equal(socketDirPrefix('a'), 'cca978112-');
  assert.equal(socketDirPrefix('anything').length + 6, SOCKET_DIR_PLACEHOLDER.length);
});

test('isSocketDirName and socketDirTag: tagged names carry their tag; names from before tags are socket directories with none', () => {
  const cases: { name: string; socketDir: boolean; tag?: string }[] = [
    { name: 'cca978112-AbC123', socketDir: true, tag: 'ca978112' },
    { name: `${socketDirPrefix('host-1')}z9Z9z9`, socketDir: true, tag: nodeTag('host-1') },
    { name: 'cAbC123', socketDir: true },
    { name: 'c0123abc', socketDir: false }, // seven after c
    { name: 'cCA978112-AbC123', socketDir: false }, // a tag is lower-case hex
    { name: 'cca97811-AbC123', socketDir: false }, // seven digits
    { name: 'cca978112-AbC12', socketDir: false }, // five after the dash
    { name: 'cca978112-AbC1234', socketDir: false },
    { name: 'cca978112_AbC123', socketDir: false },
    { name: 'probe-AbC123', socketDir: false },
    { name: 'kiln-runtime-0123456789abcdef', socketDir: false },
    { name: '', socketDir: false },
    { name: '../cAbC123', socketDir: false },
  ];
  for (const c of cases) {
    assert.equal(isSocketDirName(c.name), c.socketDir, c.name);
    assert.equal(socketDirTag(c.name), c.tag, c.name);
  }
});
