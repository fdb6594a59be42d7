// The runtimes `kiln init` knows: for each, its func.yaml fields, its files, how its image is
// built (ImageKind and base image) and what it answers (documented in the README).
import { stringify } from 'yaml';
import { lambdaNodeTemplate } from './lambda-node/index.js';
import { lambdaShellTemplate } from './lambda-shell.js';
import { nodeTemplate } from './node.js';
import { file, type TemplateFiles } from './types.js';

export const RUNTIMES = ['node', 'lambda-node', 'lambda-shell'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export function isRuntime(v: string): v is Runtime {
  return (RUNTIMES as readonly string[]).includes(v);
}

const FILES: Record<Runtime, (name: string) => TemplateFiles> = {
  node: nodeTemplate,
  'lambda-node': lambdaNodeTemplate,
  'lambda-shell': lambdaShellTemplate,
};

/** What `kiln init`'s options (as `fn init`'s) put in func.yaml instead of the defaults. */
export interface FuncFields {
  version?: string;
  memory?: number;
  timeout?: number;
  idle_timeout?: number;
  config?: Record<string, string>;
  /** fn init's --entrypoint and --cmd (node): in place of `node func.js`. */
  entrypoint?: string;
  cmd?: string;
  /** fn init's --trigger TYPE: the one trigger, `<name>` at `/<name>`, gets that type (as current fn init). */
  triggerType?: string;
}

/**
 * The trigger name init gives a fn: its name with each `.` made `-`, as a trigger name is
 * letters, digits, `_` and `-` (api/contract/names.ts), where a fn (and image) name may hold dots.
 */
export const triggerNameFor = (name: string): string => name.replaceAll('.', '-');

/** func.yaml in Fn's schema 20180708 plus Kiln's `format`. */
export function funcYamlText(runtime: Runtime, name: string, fields: FuncFields = {}): string {
  const lambda = runtime !== 'node';
  const doc: Record<string, unknown> = {
    schema_version: 20180708,
    name,
    version: fields.version ?? '0.0.1',
    runtime,
    format: lambda ? 'lambda' : 'http-stream',
    ...(!lambda && fields.cmd === undefined && { entrypoint: fields.entrypoint ?? 'node func.js' }),
    ...(!lambda && fields.cmd !== undefined && { ...(fields.entrypoint !== undefined && { entrypoint: fields.entrypoint }), cmd: fields.cmd }),
    ...flagFields(fields),
    triggers: triggersFor(name, fields.triggerType),
  };
  return stringify(doc);
}

/**
 * The limits and config init's flags give, only those asked for, as fn init writes them: deploy
 * sends what func.yaml has, so a default written here would undo an operator's
 * `kiln update fn --memory` at the next deploy.
 */
export function flagFields(fields: FuncFields): Record<string, unknown> {
  return {
    ...(fields.memory !== undefined && { memory: fields.memory }),
    ...(fields.timeout !== undefined && { timeout: fields.timeout }),
    ...(fields.idle_timeout !== undefined && { idle_timeout: fields.idle_timeout }),
    ...(fields.config !== undefined && { config: fields.config }),
  };
}

/**
 * func.yaml's trigger for a new fn: `<name>` at `/<name>`, as current fn init names the one
 * `--trigger TYPE` asks for (older fn wrote `<name>-trigger`); http unless a type is given.
 */
export function triggersFor(name: string, triggerType = 'http'): Array<{ name: string; type: string; source: string }> {
  return [{ name: triggerNameFor(name), type: triggerType, source: `/${name}` }];
}

export function templateFiles(runtime: Runtime, name: string, fields: FuncFields = {}): TemplateFiles {
  return { 'func.yaml': file(funcYamlText(runtime, name, fields)), ...FILES[runtime](name) };
}
