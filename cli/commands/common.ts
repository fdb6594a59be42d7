// Small pieces the commands share: the verb commands (`list`, `get`, ...), repeatable KEY=VALUE
// options, integers, printing a result.
import type { Command } from 'commander';
import { FN_LIMITS, fnInputProblem, type FnLimitField } from '../../api/contract/fn-limits.js';
import { CliError } from '../errors.js';
import { json } from '../output.js';
import type { Session } from '../session.js';

/** commander's collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** KEY=VALUE pairs; a value that parses as JSON is kept as JSON when `asJson` (annotations). */
export function parsePairs(pairs: string[] | undefined, what: string, asJson = false): Record<string, unknown> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new CliError(`${what} "${p}" is not KEY=VALUE`, `e.g. ${what} LOG_LEVEL=debug (repeat ${what} for more).`);
    const v = p.slice(eq + 1);
    let value: unknown = v;
    if (asJson) {
      try {
        value = JSON.parse(v);
      } catch {
        value = v;
      }
    }
    out[p.slice(0, eq)] = value;
  }
  return out;
}

export function stringPairs(pairs: string[] | undefined): Record<string, string> | undefined {
  return parsePairs(pairs, '--config') as Record<string, string> | undefined;
}

/** A whole-number option, or undefined when not given. */
export function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`${name} must be a whole number, not "${v}"`);
  return Number(v);
}

/** A fn number option (`--memory`, ...), refused as the server would refuse it, before any request. */
export function fnNumberOption(v: string | undefined, name: string, field: FnLimitField): number | undefined {
  const n = intOption(v, name);
  const problem = n === undefined ? undefined : fnInputProblem(field, n);
  if (problem !== undefined) throw new CliError(`${name} ${problem}`);
  return n;
}

/**
 * Who takes the fn number options: `create fn` (the server's default applies when one is not
 * given), `update fn` (not given: unchanged) and `kiln init` (not given: left out of func.yaml).
 */
export type FnNumbersUse = 'create' | 'update' | 'init';

/** What a fn number option not given means, for its help: only a create applies the default. */
function unsetMeaning(use: FnNumbersUse, field: FnLimitField): string {
  if (use === 'create') return `default ${FN_LIMITS[field].def}`;
  return use === 'update' ? 'unchanged when not given' : 'written to func.yaml only when given';
}

/** The fn number options (`kiln init`, `create fn`, `update fn`), their help giving the server's ranges. */
export const fnNumberOptions = (c: Command, use: FnNumbersUse): Command =>
  c
    .option('-m, --memory <MB>', `memory in MB (1-${FN_LIMITS.memory.max}; ${unsetMeaning(use, 'memory')})`)
    .option('--timeout <s>', `call timeout in seconds (1-${FN_LIMITS.timeout.max}; ${unsetMeaning(use, 'timeout')})`)
    .option('--idle-timeout <s>', `seconds an idle container is kept (1-${FN_LIMITS.idle_timeout.max}; ${unsetMeaning(use, 'idle_timeout')})`);

/** The fn numbers of `fnNumberOptions`' options, each checked. */
export function fnNumbers(o: { memory?: string; timeout?: string; idleTimeout?: string }): { memory?: number; timeout?: number; idle_timeout?: number } {
  const memory = fnNumberOption(o.memory, '--memory', 'memory');
  const timeout = fnNumberOption(o.timeout, '--timeout', 'timeout');
  const idle = fnNumberOption(o.idleTimeout, '--idle-timeout', 'idle_timeout');
  return {
    ...(memory !== undefined && { memory }),
    ...(timeout !== undefined && { timeout }),
    ...(idle !== undefined && { idle_timeout: idle }),
  };
}

/** JSON for `--output json`, else the text `human` makes. */
export function emit(s: Session, data: unknown, human: () => string): void {
  s.io.out(s.output() === 'json' ? json(data) : human());
}

/** Fn's verb-first commands (`kiln list apps`, `kiln get call ...`), each with its fn alias. */
export interface Verbs {
  create: Command;
  list: Command;
  inspect: Command;
  update: Command;
  delete: Command;
  get: Command;
  use: Command;
  unset: Command;
}

export function registerVerbs(program: Command): Verbs {
  const verb = (name: string, alias: string | null, description: string): Command => {
    const c = program.command(name).description(description);
    return alias ? c.alias(alias) : c;
  };
  return {
    create: verb('create', 'c', 'create an app, fn, trigger or context'),
    list: verb('list', 'ls', 'list apps, fns, triggers, calls, config or contexts'),
    inspect: verb('inspect', 'i', 'show an app, fn, trigger or context as JSON (or one property)'),
    update: verb('update', 'u', 'change an app, fn, trigger or context'),
    delete: verb('delete', 'd', 'delete an app (with its fns and triggers), fn, trigger, config key or context'),
    get: verb('get', 'g', "get a call, a call's logs or a config value (fn's spellings)"),
    use: verb('use', null, 'make a context the current one'),
    unset: verb('unset', null, 'remove a config key'),
  };
}
