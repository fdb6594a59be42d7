// Kiln as a real child process (`node dist/api/main.js`), as `npm start` runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { uniqueNodeId } from './server.js';

const MAIN = fileURLToPath(new URL('../../api/main.js', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** What the server has written to stdout so far (its JSON log lines). */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `startMs`: how long it may take to listen (15 s). */
export async function spawnServer(env: Record<string, string>, opts: { startMs?: number } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    // A node id of its own unless given: servers of one id on one machine refuse to run side by side.
    env: { PATH: process.env.PATH ?? '', FN_PORT: '0', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'info', KILN_NODE_ID: uniqueNodeId(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the failed test.
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${err}`));
    }, opts.startMs ?? 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /kiln listening on (http:\/\/\S+?)"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      // Gone already (a signal leaves exitCode null): 'exit' will not come again.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
