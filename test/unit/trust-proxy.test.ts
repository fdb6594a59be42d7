import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import express from 'express';
import { callerAddress, forwardedFor, parseTrustProxy, TrustProxyError, unmapped, type TrustFn, type TrustProxy } from '../../api/trust-proxy.js';

/** The trust function Express compiles for a `trust proxy` value: the one the server uses. */
const trustOf = (v: TrustProxy): TrustFn => express().set('trust proxy', v).get('trust proxy fn') as TrustFn;

const req = (remoteAddress: string | undefined, xff?: string): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

const cases: { name: string; trust: TrustProxy; peer: string | undefined; xff?: string; address: string | undefined; forwarded: string | undefined }[] = [
  { name: 'no proxy: the socket, whatever the header says', trust: false, peer: '172.17.0.1', xff: '6.6.6.6', address: '172.17.0.1', forwarded: '6.6.6.6, 172.17.0.1' },
  { name: 'no proxy, no header', trust: false, peer: '172.17.0.1', address: '172.17.0.1', forwarded: '172.17.0.1' },
  { name: 'an IPv4 peer of a server on :: is shown as IPv4, as AWS shows it', trust: false, peer: '::ffff:10.1.2.3', xff: '6.6.6.6', address: '10.1.2.3', forwarded: '6.6.6.6, 10.1.2.3' },
  { name: 'an IPv6 peer as it is', trust: false, peer: '2001:db8::1', address: '2001:db8::1', forwarded: '2001:db8::1' },
  { name: 'a trusted proxy: the address it added', trust: ['loopback'], peer: '127.0.0.1', xff: '203.0.113.7', address: '203.0.113.7', forwarded: '203.0.113.7' },
  { name: 'a trusted proxy, a spoofed entry before: the right-most untrusted', trust: ['loopback'], peer: '127.0.0.1', xff: '6.6.6.6, 203.0.113.7', address: '203.0.113.7', forwarded: '6.6.6.6, 203.0.113.7' },
  { name: 'two trusted hops', trust: ['loopback', '10.0.0.0/8'], peer: '127.0.0.1', xff: '6.6.6.6, 203.0.113.7, 10.0.0.5', address: '203.0.113.7', forwarded: '6.6.6.6, 203.0.113.7' },
  { name: 'an untrusted peer: its header is not believed', trust: ['loopback'], peer: '172.17.0.1', xff: '203.0.113.7', address: '172.17.0.1', forwarded: '203.0.113.7, 172.17.0.1' },
  { name: 'IPv4-mapped peer matches an IPv4 subnet', trust: ['loopback'], peer: '::ffff:127.0.0.1', xff: '203.0.113.7', address: '203.0.113.7', forwarded: '203.0.113.7' },
  { name: 'a hop count of 1', trust: 1, peer: '172.17.0.1', xff: '6.6.6.6, 203.0.113.7', address: '203.0.113.7', forwarded: '6.6.6.6, 203.0.113.7' },
  { name: 'true: the left-most entry', trust: true, peer: '172.17.0.1', xff: '6.6.6.6, 203.0.113.7', address: '6.6.6.6', forwarded: '6.6.6.6' },
  { name: 'the socket gone', trust: false, peer: undefined, xff: '6.6.6.6', address: undefined, forwarded: undefined },
];
for (const c of cases) {
  test(`callerAddress, forwardedFor: ${c.name}`, () => {
    const trust = trustOf(c.trust);
    assert.equal(callerAddress(req(c.peer, c.xff), trust), c.address);
    assert.equal(forwardedFor(req(c.peer, c.xff), trust), c.forwarded);
  });
}

test('callerAddress agrees with express req.ip', () => {
  // Express's own getter, on the same request shape: the doors outside express must match it
  // (but for the IPv4-mapped form, which AWS never shows).
  for (const c of cases.filter((x) => x.peer !== undefined)) {
    const app = express().set('trust proxy', c.trust);
    const r = Object.assign(Object.create(app.request) as object, { socket: { remoteAddress: c.peer }, headers: c.xff === undefined ? {} : { 'x-forwarded-for': c.xff } });
    assert.equal(unmapped((r as unknown as { ip: string }).ip), callerAddress(req(c.peer, c.xff), trustOf(c.trust)), c.name);
  }
});

const parseCases: { raw: string; want: TrustProxy | RegExp }[] = [
  { raw: 'false', want: false },
  { raw: 'False', want: false },
  { raw: 'true', want: true },
  { raw: '2', want: 2 },
  { raw: 'loopback', want: ['loopback'] },
  { raw: ' loopback , uniquelocal,fe80::/10 ', want: ['loopback', 'uniquelocal', 'fe80::/10'] },
  { raw: '10.0.0.0/255.0.0.0', want: ['10.0.0.0/255.0.0.0'] },
  { raw: 'yes', want: /invalid IP address: yes/ },
  { raw: 'loopback,,10.0.0.1', want: /empty entry/ },
  { raw: '10.0.0.0/40', want: /invalid range on address/ },
  { raw: '300.1.1.1', want: /invalid IP address/ },
  { raw: '12345678901234567890', want: /too large/ },
];
for (const c of parseCases) {
  test(`parseTrustProxy "${c.raw}"`, () => {
    if (c.want instanceof RegExp) {
      const want = c.want;
      assert.throws(() => parseTrustProxy(c.raw), (err: unknown) => err instanceof TrustProxyError && want.test(err.message));
    } else assert.deepEqual(parseTrustProxy(c.raw), c.want);
  });
}
