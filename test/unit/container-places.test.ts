// Where the agent places a new container: CPU pinning for small Lambda sandboxes, network spreading
// for fns that ask for none, each given back once; pinning off for good once Docker refuses it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ContainerPlaces, cpusetRefused, type PlaceRequest, type PlacesOptions } from '../../agent/container-places.js';
import { ContainerConfigError, DriverError } from '../../drivers/errors.js';

function places(opts: Partial<PlacesOptions> = {}, lines: string[] = []): ContainerPlaces {
  return new ContainerPlaces({
    cpus: [0, 1],
    cpusShared: false,
    pinnedElsewhere: () => Promise.resolve([]),
    networks: [],
    log: pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) }),
    ...opts,
  });
}

const lambda = (memoryMb = 128): PlaceRequest => ({ lambda: true, memoryMb, network: undefined });
const stream: PlaceRequest = { lambda: false, memoryMb: 128, network: undefined };

const takeCases: { name: string; opts: Partial<PlacesOptions>; req: PlaceRequest; taken: object }[] = [
  { name: 'a small Lambda sandbox is pinned', opts: {}, req: lambda(), taken: { cpu: 0 } },
  { name: 'one over 1769 MB is not (Lambda gives it more than a vCPU)', opts: {}, req: lambda(2048), taken: {} },
  { name: 'an http-stream container is not', opts: {}, req: stream, taken: {} },
  { name: 'no pinning with one CPU', opts: { cpus: [3] }, req: lambda(), taken: {} },
  { name: 'no pinning when unset', opts: { cpus: undefined }, req: lambda(), taken: {} },
  { name: 'a fn asking for no network is spread', opts: { networks: ['a', 'b'] }, req: stream, taken: { network: 'a' } },
  { name: "a fn's own network is not replaced", opts: { networks: ['a', 'b'] }, req: { ...stream, network: 'mine' }, taken: {} },
  { name: 'both for a Lambda sandbox', opts: { networks: ['a'] }, req: lambda(), taken: { cpu: 0, network: 'a' } },
  { name: "other nodes' pinned containers count when shared", opts: { cpusShared: true, pinnedElsewhere: () => Promise.resolve([0]) }, req: lambda(), taken: { cpu: 1 } },
  { name: "and do not when not shared", opts: { cpusShared: false, pinnedElsewhere: () => Promise.resolve([0]) }, req: lambda(), taken: { cpu: 0 } },
];
for (const c of takeCases) {
  test(`take: ${c.name}`, async () => assert.deepEqual(await places(c.opts).take(c.req), c.taken));
}

test('the engine is not asked for pinned CPUs when nothing is pinned', async () => {
  let asked = 0;
  const p = places({ cpusShared: true, pinnedElsewhere: () => Promise.resolve([++asked]) });
  await p.take(stream);
  await p.take(lambda(4096));
  assert.equal(asked, 0);
});

test('each next container goes to the least used place; a given-back one frees its place once', async () => {
  const p = places({ networks: ['a', 'b'] });
  const held = [{}, {}, {}];
  const taken = [];
  for (const c of held) {
    const t = await p.take(lambda());
    p.hold(c, t);
    taken.push(t);
  }
  assert.deepEqual(taken, [{ cpu: 0, network: 'a' }, { cpu: 1, network: 'b' }, { cpu: 0, network: 'a' }]);
  // CPU 0 and network a hold two, then one: given back twice, they would hold none.
  p.giveBack(held[0]!);
  p.giveBack(held[0]!);
  assert.deepEqual(await p.take(lambda()), { cpu: 0, network: 'a' });
  assert.deepEqual(await p.take(lambda()), { cpu: 1, network: 'b' });
});

test('a start that did not happen releases what it took', async () => {
  const p = places();
  p.release(await p.take(lambda()));
  assert.deepEqual(await p.take(lambda()), { cpu: 0 });
});

test('a refused cpuset turns pinning off for good, said once', async () => {
  const lines: string[] = [];
  const p = places({}, lines);
  const refused = new DriverError('could not start', { cause: new Error('Requested CPUs are not available - requested 0, available: 1') });
  p.pinningRefused(refused, 0);
  p.pinningRefused(refused, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /pinning is off until restart/);
  assert.deepEqual(await p.take(lambda()), {});
});

const refusalCases: { name: string; err: unknown; refused: boolean }[] = [
  { name: "the engine's cpuset error", err: new DriverError('x', { cause: new Error('invalid cpuset: 7') }), refused: true },
  { name: "the engine's unavailable CPUs", err: new DriverError('x', { cause: new Error('Requested CPUs are not available - requested 9') }), refused: true },
  { name: 'a config error that names no cpuset', err: new ContainerConfigError('bad mount'), refused: false },
  { name: "an image name that says cpuset is not the engine's words", err: new DriverError('no such image: cpuset', { cause: new Error('not found') }), refused: false },
  { name: 'not a driver error', err: new Error('cpuset'), refused: false },
];
for (const c of refusalCases) {
  test(`cpusetRefused: ${c.name}`, () => assert.equal(cpusetRefused(c.err), c.refused));
}
