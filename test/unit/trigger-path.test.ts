// The path that reaches an HTTP trigger (api/contract/trigger-path.ts): Fn's annotation for a plain
// source, encoded only where a URL would read the source otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { triggerPath } from '../../api/contract/trigger-path.js';

const cases: [source: string, path: string][] = [
  ['/hello', '/t/app/hello'],
  ['/a/b/c', '/t/app/a/b/c'],
  ['/', '/t/app/'],
  // Fn trims exactly one leading slash.
  ['//a', '/t/app//a'],
  ['/a/', '/t/app/a/'],
  // What a path segment may hold stays as it is (RFC 3986 pchar), as in Fn's annotation.
  ['/v1/items:batch', '/t/app/v1/items:batch'],
  ['/a@b/c+d/e,f;g=h/i$j&k', '/t/app/a@b/c+d/e,f;g=h/i$j&k'],
  ["/x!y'(z)*~-_.", "/t/app/x!y'(z)*~-_."],
  // What a URL would read otherwise is encoded.
  ['/h#frag', '/t/app/h%23frag'],
  ['/q?x=1', '/t/app/q%3Fx=1'],
  ['/pct%41', '/t/app/pct%2541'],
  ['/sp ace', '/t/app/sp%20ace'],
  ['/ünï', '/t/app/%C3%BCn%C3%AF'],
  // A source written without its slash (the CLI takes one).
  ['hello', '/t/app/hello'],
];

for (const [source, path] of cases) {
  test(`triggerPath("app", ${JSON.stringify(source)}) is ${path}`, () => assert.equal(triggerPath('app', source), path));
}
