// The shutdown phase's bounds as the Lambda service sets them, by what registered. Pure.
import type { ExtensionAgent } from './extension-agent.js';

/** The service's shutdown phase with internal extensions only; the runtime's share beside external ones. */
const INTERNAL_SHUTDOWN_MS = 500;
const RUNTIME_SHARE_MS = 300;

/**
 * With no extension, no phase (the runtime is killed); with internal ones only, 500 ms, all the
 * runtime's (SIGTERM, then SIGKILL); with external ones, the whole budget (2000 ms), of which
 * the runtime gets 300 ms after its SIGTERM, 500 ms when an internal extension runs in it too,
 * and the external extensions the rest.
 */
export function shutdownShares(agents: ReadonlyArray<Pick<ExtensionAgent, 'external'>>, budget: number): { budgetMs: number; runtimeMs: number } {
  const external = agents.some((a) => a.external);
  const internal = agents.some((a) => !a.external);
  if (!external) {
    const ms = internal ? Math.min(INTERNAL_SHUTDOWN_MS, budget) : 0;
    return { budgetMs: ms, runtimeMs: ms };
  }
  return { budgetMs: budget, runtimeMs: Math.min(internal ? INTERNAL_SHUTDOWN_MS : RUNTIME_SHARE_MS, budget) };
}
