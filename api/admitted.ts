// How an invoke door runs a call's request: taken by the agent as it arrives, before its fn is
// looked up and its body read (a stop that comes meanwhile still serves it: Agent.admit), and
// let go once it is over, however it ended.
import type { Admission } from '../agent/agent.js';
import type { Invoker } from './deps.js';

export function runAdmitted(agent: Pick<Invoker, 'admit'>, work: (admission: Admission | undefined) => Promise<void>, failed: (err: unknown) => void): void {
  const admission = agent.admit();
  work(admission)
    .catch(failed)
    .finally(() => admission?.release());
}
