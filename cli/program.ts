// The `kiln` command tree (commander), built around one Session.
import { Command, Option } from 'commander';
import { registerBuild } from './commands/build.js';
import { registerBump } from './commands/bump.js';
import { registerCalls } from './commands/calls.js';
import { registerVerbs } from './commands/common.js';
import { registerConfig } from './commands/config.js';
import { registerContext } from './commands/context.js';
import { registerCrud } from './commands/crud.js';
import { registerInit } from './commands/init.js';
import { registerInvoke } from './commands/invoke.js';
import { registerStart } from './commands/start.js';
import { registerVersion } from './commands/version.js';
import type { GlobalFlags } from './global-flags.js';
import type { Io } from './io.js';
import { parseOutputFormat, type OutputFormat } from './output.js';
import { createSession } from './session.js';

export function createProgram(io: Io, globals: GlobalFlags = {}): Command {
  const program = new Command('kiln');
  const output = (): OutputFormat => (program.opts() as { output: OutputFormat }).output;
  const session = createSession(io, output, globals);
  program
    .description("Kiln's CLI: build, deploy and call functions on a Kiln (or Fn) server")
    .addOption(new Option('-o, --output <format>', 'table or json').default('table').argParser(parseOutputFormat))
    .configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) })
    .showHelpAfterError('(kiln --help lists the commands)')
    .addHelpText(
      'after',
      '\nGlobal options, before the command (as fn\'s): -v/--verbose (build and deploy show all build output), --context NAME (use that context for this run), --registry PREFIX (image name prefix for build and deploy).\n`kiln --version` prints the CLI\'s version (`kiln version` the server\'s too).\nThe server is the current context\'s API URL (`kiln context show`), or FN_API_URL when set.\nContexts live in $KILN_CONFIG_DIR, else $XDG_CONFIG_HOME/kiln, else ~/.kiln.',
    );
  registerStart(program, session);
  registerVersion(program, session);
  registerInit(program, session);
  registerBuild(program, session);
  registerBump(program, session);
  registerInvoke(program, session);
  const verbs = registerVerbs(program);
  registerCrud(verbs, session);
  registerConfig(program, verbs, session);
  registerCalls(program, verbs, session);
  registerContext(program, verbs, session);
  return program;
}
