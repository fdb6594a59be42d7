// cli/printable.ts, and the CLI's tables and errors that use it: text from the server shown, never obeyed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError } from '../../cli/errors.js';
import { table } from '../../cli/output.js';
import { printable, printableLines } from '../../cli/printable.js';

const cases: { name: string; text: string; line: string; lines: string }[] = [
  { name: 'plain text', text: 'hello, wörld ✓', line: 'hello, wörld ✓', lines: 'hello, wörld ✓' },
  { name: 'a window title and a screen clear', text: '\u001b]0;PWNED\u0007\u001b[2J', line: '\\x1b]0;PWNED\\x07\\x1b[2J', lines: '\\x1b]0;PWNED\\x07\\x1b[2J' },
  { name: 'a forged row', text: 'x\r\n01FAKE   success', line: 'x\\x0d\\x0a01FAKE   success', lines: 'x\\x0d\n01FAKE   success' },
  { name: 'a tab', text: 'a\tb', line: 'a\\x09b', lines: 'a\tb' },
  { name: 'DEL and the C1 CSI', text: '\u007f\u009b31m', line: '\\x7f\\x9b31m', lines: '\\x7f\\x9b31m' },
  { name: 'NUL', text: 'a\u0000b', line: 'a\\x00b', lines: 'a\\x00b' },
];
for (const c of cases) {
  test(`printable: ${c.name}`, () => {
    assert.equal(printable(c.text), c.line);
    assert.equal(printableLines(c.text), c.lines);
  });
}

test('a table cell with escapes and line breaks stays one cell of one row, aligned by what is shown', () => {
  const out = table(['NAME', 'SOURCE'], [['t1', '/e\u001b[31mx\r\nX'], ['t2', '/ok']]);
  assert.equal(out, 'NAME   SOURCE\nt1     /e\\x1b[31mx\\x0d\\x0aX\nt2     /ok\n');
});

test("an error's message (a server's, holding what a function printed) is printed with its lines, its escapes shown", () => {
  const { text } = describeError(new Error('Container failed to initialize: exited with code 1:\n\u001b[2Jboom'));
  assert.equal(text, 'Error: Container failed to initialize: exited with code 1:\n\\x1b[2Jboom');
});
