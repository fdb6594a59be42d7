// Requests' metrics labels: a fixed set of routes and methods, whatever the path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { methodLabel, REQUEST_ROUTES, routeOf } from '../../api/request-route.js';

const cases: [string | undefined, string][] = [
  ['/invoke/01J0000000000000000000000X', 'invoke'],
  ['/t/app/any/tenant/path?x=1', 'trigger'],
  ['/v2/apps?per_page=5', 'rest'],
  ['/v2/fns/01J0000000000000000000000X/calls', 'rest'],
  ['/2015-03-31/functions/hello/invocations', 'lambda'],
  ['/2021-11-15/functions/hello/response-streaming-invocations', 'lambda'],
  ['/metrics', 'metrics'],
  ['/metrics?x', 'metrics'],
  ['/health', 'health'],
  ['/version', 'health'],
  ['/', 'health'],
  ['/ui/', 'ui'],
  ['/ui/app.js', 'ui'],
  ['/bogus', 'other'],
  ['/metricsx', 'other'],
  ['*', 'other'],
  [undefined, 'other'],
  // Absolute form, as the server is sent it before boot.ts rewrites it.
  ['http://kiln.example/invoke/01J0000000000000000000000X', 'invoke'],
  ['http://kiln.example/t/app/p', 'trigger'],
];
for (const [target, want] of cases) {
  test(`routeOf ${String(target)} is ${want}`, () => assert.equal(routeOf(target), want));
}

test('every route is one of the documented set', () => {
  for (const [target] of cases) assert.ok(REQUEST_ROUTES.includes(routeOf(target)));
});

test('methods Kiln serves are themselves; any other (a trigger takes any) is `other`', () => {
  assert.equal(methodLabel('GET'), 'GET');
  assert.equal(methodLabel('DELETE'), 'DELETE');
  assert.equal(methodLabel('PROPFIND'), 'other');
  assert.equal(methodLabel(undefined), 'other');
});
