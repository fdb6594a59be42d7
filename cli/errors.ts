// Errors the CLI shows as they are: what failed and what to do, then a non-zero exit.
import { printableLines } from './printable.js';

export class CliError extends Error {
  constructor(
    message: string,
    /** What to do about it, shown on its own line. */
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command stopped by SIGINT (Ctrl-C) or SIGTERM after cleaning up: exits as the signal would have, saying nothing. */
export class Interrupted extends Error {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

/**
 * The text printed for any error reaching the top: CLI errors as written, others with their
 * message; none for an interruption, whose exit code is the shell's for the signal (128 + its number).
 */
export function describeError(err: unknown): { text: string; exitCode: number } {
  if (err instanceof Interrupted) return { text: '', exitCode: err.signal === 'SIGINT' ? 130 : 143 };
  if (err instanceof CliError) {
    return { text: `Error: ${printableLines(err.message)}${err.hint ? `\n${printableLines(err.hint)}` : ''}`, exitCode: err.exitCode };
  }
  return { text: `Error: ${printableLines(err instanceof Error ? err.message : String(err))}`, exitCode: 1 };
}
