import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { crossSiteRefusal } from '../../api/cross-site.js';

const cases: { name: string; method: string; path: string; headers: IncomingHttpHeaders; publicUrl?: string; refused: string | undefined }[] = [
  { name: 'a CLI or SDK (no browser headers)', method: 'POST', path: '/v2/apps', headers: { host: 'localhost:8080' }, refused: undefined },
  { name: 'the web view (same origin)', method: 'PUT', path: '/v2/apps/x', headers: { host: 'localhost:8080', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:8080' }, refused: undefined },
  { name: 'typed in the address bar', method: 'POST', path: '/invoke/x', headers: { 'sec-fetch-site': 'none' }, refused: undefined },
  { name: 'a page elsewhere, by Sec-Fetch-Site', method: 'POST', path: '/v2/apps', headers: { host: 'localhost:8080', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, refused: 'Sec-Fetch-Site: cross-site' },
  { name: 'another port of the same host (same site, not same origin)', method: 'POST', path: '/invoke/x', headers: { host: 'localhost:8080', 'sec-fetch-site': 'same-site' }, refused: 'Sec-Fetch-Site: same-site' },
  { name: 'the Lambda Invoke API from elsewhere', method: 'POST', path: '/2015-03-31/functions/f/invocations', headers: { 'sec-fetch-site': 'cross-site' }, refused: 'Sec-Fetch-Site: cross-site' },
  { name: 'a DELETE from elsewhere', method: 'DELETE', path: '/v2/fns/x', headers: { 'sec-fetch-site': 'cross-site' }, refused: 'Sec-Fetch-Site: cross-site' },
  { name: 'an older browser: Origin of another host', method: 'POST', path: '/v2/apps', headers: { host: 'localhost:8080', origin: 'https://evil.example' }, refused: 'Origin: https://evil.example' },
  { name: 'an older browser: Origin of another port', method: 'POST', path: '/v2/apps', headers: { host: 'localhost:8080', origin: 'http://localhost:9999' }, refused: 'Origin: http://localhost:9999' },
  { name: 'an older browser: its own Origin', method: 'POST', path: '/v2/apps', headers: { host: 'localhost:8080', origin: 'http://localhost:8080' }, refused: undefined },
  { name: 'plain HTTP to a host name (no Sec-Fetch-*): its own Origin, default port written out in Host', method: 'POST', path: '/invoke/x', headers: { host: 'kiln.lan:80', origin: 'http://kiln.lan' }, refused: undefined },
  { name: 'https default port written out in Host', method: 'POST', path: '/invoke/x', headers: { host: 'kiln.example:443', origin: 'https://kiln.example' }, refused: undefined },
  { name: 'Host case differs', method: 'POST', path: '/invoke/x', headers: { host: 'Kiln.LAN', origin: 'http://kiln.lan' }, refused: undefined },
  { name: 'behind a proxy that rewrites Host: X-Forwarded-Host', method: 'POST', path: '/invoke/x', headers: { host: '127.0.0.1:8080', 'x-forwarded-host': 'kiln.example', origin: 'https://kiln.example' }, refused: undefined },
  { name: 'behind a proxy that rewrites Host: Forwarded', method: 'POST', path: '/invoke/x', headers: { host: '127.0.0.1:8080', forwarded: 'for=10.0.0.1;proto=https;host=kiln.example', origin: 'https://kiln.example' }, refused: undefined },
  { name: 'a forwarded host that is not the Origin', method: 'POST', path: '/invoke/x', headers: { host: '127.0.0.1:8080', 'x-forwarded-host': 'kiln.example', origin: 'https://evil.example' }, refused: 'Origin: https://evil.example' },
  { name: 'a proxy that says nothing (Host rewritten): FN_PUBLIC_LB_URL names the origin', method: 'POST', path: '/invoke/x', headers: { host: '127.0.0.1:8080', origin: 'http://kiln.lan:8081' }, publicUrl: 'http://kiln.lan:8081', refused: undefined },
  { name: 'FN_PUBLIC_LB_URL is another origin', method: 'POST', path: '/invoke/x', headers: { host: '127.0.0.1:8080', origin: 'http://evil.example' }, publicUrl: 'http://kiln.lan:8081', refused: 'Origin: http://evil.example' },
  { name: 'Origin null (sandboxed or file: page)', method: 'POST', path: '/v2/apps', headers: { host: 'localhost:8080', origin: 'null' }, refused: 'Origin: null' },
  { name: 'a trigger from anywhere', method: 'POST', path: '/t/shop/pay', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://shop.example' }, refused: undefined },
  { name: 'a GET from anywhere (reads change nothing)', method: 'GET', path: '/v2/apps', headers: { 'sec-fetch-site': 'cross-site' }, refused: undefined },
  { name: 'HEAD and OPTIONS from anywhere', method: 'OPTIONS', path: '/v2/apps', headers: { 'sec-fetch-site': 'cross-site' }, refused: undefined },
];

for (const c of cases) {
  test(`crossSiteRefusal: ${c.name}`, () => {
    assert.equal(crossSiteRefusal(c.method, c.path, c.headers, c.publicUrl)?.why, c.refused);
  });
}
