import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentFailed, deliverEvent, MAX_EXTENSIONS, parkAgent, registerAgent, type AgentState, type EventType } from '../../runtime/extension-agent.js';
import { LambdaApiError } from '../../runtime/errors.js';
import { shutdownShares } from '../../runtime/shutdown-shares.js';

const ctx = { external: true, open: true, alreadyRegistered: false, registeredCount: 0 };

const registerCases: { name: string; events: EventType[]; over?: Partial<typeof ctx>; errorType?: string }[] = [
  { name: 'an external extension may ask for both events', events: ['INVOKE', 'SHUTDOWN'] },
  { name: 'an internal one for INVOKE', events: ['INVOKE'], over: { external: false } },
  { name: 'no events at all', events: [] },
  { name: 'an internal one may not ask for SHUTDOWN', events: ['SHUTDOWN'], over: { external: false }, errorType: 'Extension.InvalidEventType' },
  { name: 'a second registration of a name', events: [], over: { alreadyRegistered: true }, errorType: 'Extension.InvalidExtensionState' },
  { name: 'after the runtime is ready', events: [], over: { open: false }, errorType: 'Extension.RegistrationClosed' },
  { name: `the ${MAX_EXTENSIONS + 1}th`, events: [], over: { registeredCount: MAX_EXTENSIONS }, errorType: 'Extension.TooManyExtensions' },
];

for (const c of registerCases) {
  test(`register: ${c.name}`, () => {
    const run = () => registerAgent('ext', c.events, { ...ctx, ...c.over });
    if (!c.errorType) {
      const a = run();
      assert.equal(a.state, 'Registered');
      assert.deepEqual([...a.events], c.events);
      assert.match(a.id, /^[0-9a-f-]{36}$/);
      return;
    }
    assert.throws(run, (e: unknown) => e instanceof LambdaApiError && e.status === 403 && e.errorType === c.errorType);
  });
}

test('next parks until an event; an event delivered before next waits for it', async () => {
  const a = registerAgent('ext', ['INVOKE'], ctx);
  const next = parkAgent(a);
  assert.equal(a.state, 'Ready');
  deliverEvent(a, { eventType: 'INVOKE' });
  assert.deepEqual(await next, { eventType: 'INVOKE' });
  assert.equal(a.state, 'Running');
  deliverEvent(a, { eventType: 'SHUTDOWN' });
  assert.equal(a.state, 'Running', 'queued, not parked');
  assert.deepEqual(await parkAgent(a), { eventType: 'SHUTDOWN' });
});

const errorCases: { from: AgentState; which: 'init' | 'exit'; ok: boolean }[] = [
  { from: 'Registered', which: 'init', ok: true },
  { from: 'Ready', which: 'init', ok: false },
  { from: 'Registered', which: 'exit', ok: true },
  { from: 'Ready', which: 'exit', ok: true },
  { from: 'Running', which: 'exit', ok: true },
  { from: 'InitError', which: 'exit', ok: false },
];

for (const c of errorCases) {
  test(`${c.which}/error from ${c.from}: ${c.ok ? 'accepted' : '403'}`, () => {
    const a = registerAgent('ext', [], ctx);
    a.state = c.from;
    if (c.ok) {
      assert.equal(agentFailed(a, c.which), c.which === 'init' ? 'Extension.InitError' : 'Extension.ExitError');
      assert.throws(() => parkAgent(a), (e: unknown) => e instanceof LambdaApiError && e.errorType === 'Extension.InvalidExtensionState');
    } else {
      assert.throws(() => agentFailed(a, c.which), (e: unknown) => e instanceof LambdaApiError && e.status === 403);
    }
  });
}

test("the shutdown phase's bounds, as the service's: none, internal only, external (with an internal one)", () => {
  const ext = { external: true };
  const int = { external: false };
  const cases: Array<[Array<{ external: boolean }>, number, { budgetMs: number; runtimeMs: number }]> = [
    [[], 2000, { budgetMs: 0, runtimeMs: 0 }],
    [[int], 2000, { budgetMs: 500, runtimeMs: 500 }],
    [[int, int], 300, { budgetMs: 300, runtimeMs: 300 }],
    [[ext], 2000, { budgetMs: 2000, runtimeMs: 300 }],
    [[ext, ext], 2000, { budgetMs: 2000, runtimeMs: 300 }],
    [[ext, int], 2000, { budgetMs: 2000, runtimeMs: 500 }],
    [[ext], 200, { budgetMs: 200, runtimeMs: 200 }],
  ];
  for (const [agents, budget, want] of cases) assert.deepEqual(shutdownShares(agents, budget), want, JSON.stringify([agents, budget]));
});
