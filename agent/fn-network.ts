// Which Docker network a fn's containers join. A fn (or its app) asks for one with the
// annotation kiln.io/network; the operator bounds what may be asked (KILN_ALLOWED_NETWORKS,
// plus FN_DOCKER_NETWORKS). Pure: the API checks it at write time, the agent again at invoke
// time (the bound may have narrowed since the fn was written).
import type { Annotations } from '../store/types.js';

export const NETWORK_ANNOTATION = 'kiln.io/network';

/** What a fn may ask for when the operator says nothing: the engine's default network, which Fn gives every container. */
export const DEFAULT_ALLOWED_NETWORKS: readonly string[] = ['bridge'];

/**
 * Network modes no annotation may give, whatever the operator lists: each would take the
 * container out of its own network namespace (or, for none, is what asking for nothing gives).
 */
export function reservedProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower === 'host') return `"${name}" is never allowed: it would give the fn the host's own network stack`;
  if (lower.startsWith('container:')) return `"${name}" is never allowed: it would give the fn another container's network stack`;
  if (lower === 'none') return `"${name}" is not a network to ask for: leave the annotation out for no network`;
  return undefined;
}

/** Setting text ("a, b c") as names: commas or whitespace between, empties and repeats dropped. */
export const networkNames = (text: string | undefined): string[] => [...new Set((text ?? '').split(/[,\s]+/).filter(Boolean))];

/** What an annotation may name: the asked-for list and the operator's own networks, less the reserved modes. */
export function allowedNetworks(askable: readonly string[], operators: readonly string[]): string[] {
  return [...new Set([...askable, ...operators])].filter((n) => reservedProblem(n) === undefined);
}

/** The annotation's value that applies: the fn's, else the app's; undefined when neither asks. */
export function askedNetwork(app: { annotations: Annotations }, fn: { annotations: Annotations }): unknown {
  return Object.hasOwn(fn.annotations, NETWORK_ANNOTATION) ? fn.annotations[NETWORK_ANNOTATION] : app.annotations[NETWORK_ANNOTATION];
}

/** Why an annotation value cannot be given, naming the key and what may be asked; undefined when it can. */
export function networkProblem(value: unknown, allowed: readonly string[]): string | undefined {
  let why: string | undefined;
  if (typeof value !== 'string') why = `must be a Docker network name (a string), got ${JSON.stringify(value)}`;
  else why = reservedProblem(value) ?? (allowed.includes(value) ? undefined : `network "${value}" is not allowed on this server`);
  if (why === undefined) return undefined;
  const may = allowed.length > 0
    ? `networks allowed: ${allowed.join(', ')}`
    : 'no network may be asked for on this server (KILN_ALLOWED_NETWORKS is empty)';
  return `Invalid annotation "${NETWORK_ANNOTATION}": ${why}; ${may}`;
}
