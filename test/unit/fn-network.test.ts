// The network a fn asks for (agent/fn-network.ts): which annotation applies, what the operator
// allows, and the messages a refused value gets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allowedNetworks, askedNetwork, DEFAULT_ALLOWED_NETWORKS, NETWORK_ANNOTATION, networkNames, networkProblem,
} from '../../agent/fn-network.js';

const KEY = NETWORK_ANNOTATION;
const on = (value?: unknown) => ({ annotations: value === undefined ? {} : { [KEY]: value, other: 'x' } });

test('the annotation is kiln.io/network and bridge is allowed by default', () => {
  assert.equal(KEY, 'kiln.io/network');
  assert.deepEqual(DEFAULT_ALLOWED_NETWORKS, ['bridge']);
});

const askedCases: { name: string; app?: unknown; fn?: unknown; want: unknown }[] = [
  { name: 'neither asks', want: undefined },
  { name: 'the app asks', app: 'bridge', want: 'bridge' },
  { name: 'the fn asks', fn: 'fns', want: 'fns' },
  { name: 'the fn wins over the app', app: 'bridge', fn: 'fns', want: 'fns' },
  { name: 'a bad fn value wins too (it is refused, not skipped)', app: 'bridge', fn: 5, want: 5 },
];
for (const c of askedCases) {
  test(`askedNetwork: ${c.name}`, () => assert.deepEqual(askedNetwork(on(c.app), on(c.fn)), c.want));
}

const namesCases: { text: string | undefined; want: string[] }[] = [
  { text: undefined, want: [] },
  { text: '', want: [] },
  { text: '  ', want: [] },
  { text: 'bridge', want: ['bridge'] },
  { text: ' a, b  c,,a ', want: ['a', 'b', 'c'] },
];
for (const c of namesCases) {
  test(`networkNames ${JSON.stringify(c.text)}`, () => assert.deepEqual(networkNames(c.text), c.want));
}

const allowedCases: { name: string; askable: string[]; operators: string[]; want: string[] }[] = [
  { name: 'the default', askable: ['bridge'], operators: [], want: ['bridge'] },
  { name: 'FN_DOCKER_NETWORKS are always allowed', askable: ['bridge'], operators: ['fns', 'bridge'], want: ['bridge', 'fns'] },
  { name: 'empty asks, operators still allowed', askable: [], operators: ['fns'], want: ['fns'] },
  { name: 'nothing', askable: [], operators: [], want: [] },
  { name: 'host, none and container: are dropped even if listed', askable: ['host', 'none', 'container:abc', 'HOST', 'ok'], operators: ['host'], want: ['ok'] },
];
for (const c of allowedCases) {
  test(`allowedNetworks: ${c.name}`, () => assert.deepEqual(allowedNetworks(c.askable, c.operators), c.want));
}

const problemCases: { name: string; value: unknown; allowed: string[]; want: string | undefined }[] = [
  { name: 'an allowed name', value: 'bridge', allowed: ['bridge'], want: undefined },
  { name: 'another allowed name', value: 'fns', allowed: ['bridge', 'fns'], want: undefined },
  {
    name: 'a name not allowed', value: 'other', allowed: ['bridge', 'fns'],
    want: 'Invalid annotation "kiln.io/network": network "other" is not allowed on this server; networks allowed: bridge, fns',
  },
  {
    name: 'names are case-sensitive, as Docker\'s', value: 'Bridge', allowed: ['bridge'],
    want: 'Invalid annotation "kiln.io/network": network "Bridge" is not allowed on this server; networks allowed: bridge',
  },
  {
    name: 'a number', value: 5, allowed: ['bridge'],
    want: 'Invalid annotation "kiln.io/network": must be a Docker network name (a string), got 5; networks allowed: bridge',
  },
  {
    name: 'an object', value: { name: 'bridge' }, allowed: ['bridge'],
    want: 'Invalid annotation "kiln.io/network": must be a Docker network name (a string), got {"name":"bridge"}; networks allowed: bridge',
  },
  {
    name: 'host, even if allowed', value: 'host', allowed: ['host', 'bridge'],
    want: 'Invalid annotation "kiln.io/network": "host" is never allowed: it would give the fn the host\'s own network stack; networks allowed: host, bridge',
  },
  {
    name: 'container:<id>', value: 'container:abc', allowed: ['bridge'],
    want: 'Invalid annotation "kiln.io/network": "container:abc" is never allowed: it would give the fn another container\'s network stack; networks allowed: bridge',
  },
  {
    name: 'none', value: 'none', allowed: ['bridge'],
    want: 'Invalid annotation "kiln.io/network": "none" is not a network to ask for: leave the annotation out for no network; networks allowed: bridge',
  },
  {
    name: 'nothing allowed', value: 'bridge', allowed: [],
    want: 'Invalid annotation "kiln.io/network": network "bridge" is not allowed on this server; no network may be asked for on this server (KILN_ALLOWED_NETWORKS is empty)',
  },
];
for (const c of problemCases) {
  test(`networkProblem: ${c.name}`, () => assert.equal(networkProblem(c.value, c.allowed), c.want));
}
