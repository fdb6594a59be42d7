// An extension as the Extensions API sees it, and its transitions: registration rules,
// parking in `next`, event delivery, and the error calls. The sandbox adds the waking and
// the fatal-error bookkeeping around them.
import { deferred, type Deferred } from './deferred.js';
import { LambdaApiError } from './errors.js';
import { newId } from './trace.js';

export type AgentState = 'Registered' | 'Ready' | 'Running' | 'InitError' | 'ExitError';
export type EventType = 'INVOKE' | 'SHUTDOWN';

export const MAX_EXTENSIONS = 10;

export interface ExtensionAgent {
  id: string;
  name: string;
  /** Launched from /opt/extensions (else it is internal, a thread of the runtime). */
  external: boolean;
  events: Set<EventType>;
  state: AgentState;
  /** Its `next` call, waiting for an event. */
  parked?: Deferred<object>;
  /** Events that came while it was not in `next`. */
  pending: object[];
}

export interface RegistrationContext {
  /** Launched from /opt/extensions under this name. */
  external: boolean;
  /** Registration is open until the runtime's first `next`. */
  open: boolean;
  alreadyRegistered: boolean;
  registeredCount: number;
}

/** A new agent, or the service's 403 for a registration it refuses. */
export function registerAgent(name: string, events: EventType[], ctx: RegistrationContext): ExtensionAgent {
  if (ctx.alreadyRegistered) throw new LambdaApiError(403, 'Extension.InvalidExtensionState', `Extension ${name} is already registered`);
  if (!ctx.open) throw new LambdaApiError(403, 'Extension.RegistrationClosed', 'Extension registration is closed');
  if (!ctx.external && events.includes('SHUTDOWN')) {
    throw new LambdaApiError(403, 'Extension.InvalidEventType', 'Internal extensions cannot subscribe to the SHUTDOWN event');
  }
  if (ctx.registeredCount >= MAX_EXTENSIONS) throw new LambdaApiError(403, 'Extension.TooManyExtensions', `At most ${MAX_EXTENSIONS} extensions can register`);
  return { id: newId(), name, external: ctx.external, events: new Set(events), state: 'Registered', pending: [] };
}

/** The service's answer to an extension's illegal transition (the runtime's is InvalidStateTransition). */
const invalidState = (agent: ExtensionAgent, to: string): LambdaApiError =>
  new LambdaApiError(403, 'Extension.InvalidExtensionState', `State transition from ${agent.state} to ${to} failed for extension ${agent.id}. Error: State transition is not allowed`);

/** `next`: a pending event at once, else parked until delivery. An earlier `next` is superseded. */
export function parkAgent(agent: ExtensionAgent): Promise<object> {
  if (agent.state === 'InitError' || agent.state === 'ExitError') {
    throw invalidState(agent, 'Ready');
  }
  agent.parked?.reject(new LambdaApiError(409, 'Superseded', 'another next call took over'));
  agent.parked = undefined;
  const parked = deferred<object>();
  const queued = agent.pending.shift();
  if (queued) {
    agent.state = 'Running';
    parked.resolve(queued);
  } else {
    agent.state = 'Ready';
    agent.parked = parked;
  }
  return parked.promise;
}

/** Gives the agent an event: to its `next` if parked, else when it next asks. */
export function deliverEvent(agent: ExtensionAgent, event: object): void {
  if (agent.parked) {
    const p = agent.parked;
    agent.parked = undefined;
    agent.state = 'Running';
    p.resolve(event);
  } else {
    agent.pending.push(event);
  }
}

/** init/error (only before its first `next`) or exit/error; returns the sandbox's error type. */
export function agentFailed(agent: ExtensionAgent, which: 'init' | 'exit'): 'Extension.InitError' | 'Extension.ExitError' {
  const allowed = which === 'init' ? ['Registered'] : ['Registered', 'Ready', 'Running'];
  const to = which === 'init' ? 'InitError' : 'ExitError';
  if (!allowed.includes(agent.state)) {
    throw invalidState(agent, to);
  }
  agent.state = to;
  return which === 'init' ? 'Extension.InitError' : 'Extension.ExitError';
}
