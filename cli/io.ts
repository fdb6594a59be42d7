// What a command may touch of its process: the environment, the working directory and the
// standard streams. Passed in, so commands run the same from main.ts and from scripts/up.ts.

export interface Io {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Bytes go out as they are (an invoke's answer may be binary). */
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** stdin's whole content, or null when stdin is a terminal (nothing piped in). */
  readStdin(): Promise<Buffer | null>;
  /** Whether stderr is a terminal (progress may redraw lines). */
  errIsTty: boolean;
}

/**
 * The status of a process a closed pipe stopped (128 + SIGPIPE), as the shell shows Go's `fn`
 * (the Go runtime dies of SIGPIPE on a write to a closed stdout) and coreutils in `| head`.
 */
export const EXIT_BROKEN_PIPE = 141;

export function processIo(): Io {
  // A reader that went away (`kiln invoke ... | head -c 10`) wants no more: stop quietly, as
  // fn does, where Node would print an unhandled 'write EPIPE' stack trace and exit 1.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
    throw err;
  });
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    errIsTty: process.stderr.isTTY === true,
    readStdin: async () => {
      if (process.stdin.isTTY) return null;
      const parts: Buffer[] = [];
      for await (const chunk of process.stdin) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    },
  };
}
