#!/usr/bin/env node
// `kiln`: the process entry. Errors print what failed and what to do, and set a non-zero exit.
import { cliVersion } from './commands/version.js';
import { describeError } from './errors.js';
import { asksVersion, takeGlobalFlags } from './global-flags.js';
import { processIo } from './io.js';
import { createProgram } from './program.js';

const io = processIo();
try {
  // Only as the command (after the global flags): commander would take a program-level
  // --version anywhere, `init --version` too.
  const { globals, rest } = takeGlobalFlags(process.argv.slice(2));
  if (asksVersion(rest)) io.out(`${cliVersion()}\n`);
  else await createProgram(io, globals).parseAsync(rest, { from: 'user' });
} catch (err) {
  const { text, exitCode } = describeError(err);
  if (text) io.err(`${text}\n`);
  process.exitCode = exitCode;
}
