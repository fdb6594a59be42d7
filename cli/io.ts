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

export function processIo(): Io {
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
