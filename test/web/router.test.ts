// The web view's hash routes: parsing, building, and the two agreeing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoute, routeHash, type Route } from '../../web/router.js';

const APP = '01JAPP0000000000000000000A';
const FN = '01JFN00000000000000000000B';
const CALL = '01JCALL000000000000000000C';

test('parseRoute', () => {
  const cases: [string, Route][] = [
    ['', { view: 'apps' }],
    ['#', { view: 'apps' }],
    ['#/', { view: 'apps' }],
    ['#/apps', { view: 'apps' }],
    ['#/apps/', { view: 'apps' }],
    ['#/?cursor=abc', { view: 'apps', cursor: 'abc' }],
    ['#/apps?cursor=abc', { view: 'apps', cursor: 'abc' }],
    ['#/?cursor=', { view: 'apps' }],
    [`#/apps/${APP}`, { view: 'app', appId: APP }],
    [`#/apps/${APP}/`, { view: 'app', appId: APP }],
    [`/apps/${APP}`, { view: 'app', appId: APP }],
    [`#/fns/${FN}`, { view: 'fn', fnId: FN }],
    [`#/fns/${FN}?cursor=MDFK`, { view: 'fn', fnId: FN, cursor: 'MDFK' }],
    [`#/fns/${FN}?other=1`, { view: 'fn', fnId: FN }],
    [`#/fns/${FN}/calls/${CALL}`, { view: 'call', fnId: FN, callId: CALL }],
    ['#/apps/a%2Fb', { view: 'app', appId: 'a/b' }],
    ['#/apps/%3Cimg%3E', { view: 'app', appId: '<img>' }],
    ['#/bogus', { view: 'notFound', path: '/bogus' }],
    [`#/fns/${FN}/calls`, { view: 'notFound', path: `/fns/${FN}/calls` }],
    [`#/fns/${FN}/logs/${CALL}`, { view: 'notFound', path: `/fns/${FN}/logs/${CALL}` }],
    [`#/fns/${FN}/calls/${CALL}/more`, { view: 'notFound', path: `/fns/${FN}/calls/${CALL}/more` }],
    ['#/fns//calls/x', { view: 'notFound', path: '/fns//calls/x' }],
    ['#/apps/%E0%A4%A', { view: 'notFound', path: '/apps/%E0%A4%A' }],
  ];
  for (const [hash, want] of cases) assert.deepEqual(parseRoute(hash), want, hash);
});

test('routeHash', () => {
  const cases: [Route, string][] = [
    [{ view: 'apps' }, '#/'],
    [{ view: 'apps', cursor: 'a+b/c=' }, '#/?cursor=a%2Bb%2Fc%3D'],
    [{ view: 'app', appId: APP }, `#/apps/${APP}`],
    [{ view: 'app', appId: 'a/b?c#d' }, '#/apps/a%2Fb%3Fc%23d'],
    [{ view: 'fn', fnId: FN }, `#/fns/${FN}`],
    [{ view: 'fn', fnId: FN, cursor: 'MDFK' }, `#/fns/${FN}?cursor=MDFK`],
    [{ view: 'call', fnId: FN, callId: CALL }, `#/fns/${FN}/calls/${CALL}`],
  ];
  for (const [route, want] of cases) assert.equal(routeHash(route), want, JSON.stringify(route));
});

test('parseRoute(routeHash(r)) is r, for awkward ids and cursors too', () => {
  const routes: Route[] = [
    { view: 'apps' },
    { view: 'apps', cursor: 'MDFKWjAwMDAwMDAwMDAwMDAwMDAwMDAwMDA' },
    { view: 'apps', cursor: 'a+b/c=&d' },
    { view: 'app', appId: 'a/b?c#d%e f' },
    { view: 'fn', fnId: FN, cursor: '?#&=' },
    { view: 'call', fnId: 'x/y', callId: '../..' },
  ];
  for (const r of routes) assert.deepEqual(parseRoute(routeHash(r)), r, JSON.stringify(r));
});
