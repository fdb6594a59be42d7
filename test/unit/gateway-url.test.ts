import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayUrl } from '../../api/gateway-url.js';

// As Fn's reqURL(): scheme, the Host header, then the request target unchanged.
const cases: { name: string; tls: boolean; host: string | undefined; target: string; want: string }[] = [
  { name: 'plain HTTP with a port', tls: false, host: 'localhost:8080', target: '/t/app/path', want: 'http://localhost:8080/t/app/path' },
  { name: 'the query is kept', tls: false, host: 'example.com', target: '/t/app/p?q=1&r=two', want: 'http://example.com/t/app/p?q=1&r=two' },
  { name: 'TLS gives https', tls: true, host: 'example.com', target: '/t/app/p', want: 'https://example.com/t/app/p' },
  { name: 'percent-encoding stays as sent', tls: false, host: 'h', target: '/t/app/a%20b?x=%2F', want: 'http://h/t/app/a%20b?x=%2F' },
  { name: 'an IPv6 host', tls: false, host: '[::1]:8080', target: '/t/a/b', want: 'http://[::1]:8080/t/a/b' },
  { name: 'no Host header (HTTP/1.0): an empty host, as Go gives', tls: false, host: undefined, target: '/t/a/b', want: 'http:///t/a/b' },
  { name: 'an absolute-form target keeps its own scheme and host', tls: false, host: 'other', target: 'http://proxied:81/t/a/b?c', want: 'http://proxied:81/t/a/b?c' },
];
for (const c of cases) {
  test(`gatewayUrl: ${c.name}`, () => assert.equal(gatewayUrl(c.tls, c.host, c.target), c.want));
}
