// fn's global flags (main.go's app.Flags): `-v/--verbose`, `--context NAME` and `--registry R`,
// taken only before the command, as fn takes them. They are taken out of the arguments before
// commander sees them: registered on the program, commander would also take them after the
// command, from the subcommands that have their own (`context create --registry`).
import { CliError } from './errors.js';

export interface GlobalFlags {
  verbose?: boolean;
  /** The context this run uses instead of the current one. */
  context?: string;
  /** Prefix of built image names, as build's and deploy's --registry. */
  registry?: string;
}

const VALUED = { '--context': 'context', '--registry': 'registry' } as const;

/**
 * The global flags before the command, and the arguments without them. `-o/--output` (the
 * program's own option) may stand among them and is left in place; the first other word ends
 * the global flags.
 */
export function takeGlobalFlags(args: readonly string[]): { globals: GlobalFlags; rest: string[] } {
  const globals: GlobalFlags = {};
  const rest: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-v' || a === '--verbose') {
      globals.verbose = true;
      continue;
    }
    const eq = a.indexOf('=');
    const flag = (eq < 0 ? a : a.slice(0, eq)) as keyof typeof VALUED;
    if (flag in VALUED) {
      const value = eq < 0 ? args[++i] : a.slice(eq + 1);
      if (value === undefined || value === '') throw new CliError(`${flag} needs a value`, `e.g. kiln ${flag} ${flag === '--context' ? 'NAME' : 'PREFIX'} COMMAND ...`);
      globals[VALUED[flag]] = value;
      continue;
    }
    if (a === '-o' || a === '--output') {
      rest.push(a, ...args.slice(i + 1, i + 2));
      i++;
      continue;
    }
    if (/^(-o.|--output=)/.test(a)) {
      rest.push(a);
      continue;
    }
    break;
  }
  return { globals, rest: [...rest, ...args.slice(i)] };
}

/**
 * Whether the command is `--version`: the first word after the global flags (and any `-o`
 * among them), as fn's main.go takes it among its global flags (`kiln -v --version`).
 */
export function asksVersion(rest: readonly string[]): boolean {
  let i = 0;
  while (i < rest.length && /^(-o|--output)$|^(-o.|--output=)/.test(rest[i]!)) i += rest[i] === '-o' || rest[i] === '--output' ? 2 : 1;
  return rest[i] === '--version';
}
