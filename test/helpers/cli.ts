// The `kiln` CLI as a real subprocess (`node dist/cli/main.js ...`), as a user runs it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  /** stdout's bytes as written (binary answers). */
  stdoutBytes: Buffer;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Written to stdin, which is then closed (stdin is always a closed pipe, never a terminal). */
  input?: string;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      // Only what the CLI needs: tests set FN_API_URL and KILN_CONFIG_DIR themselves.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...(process.env.DOCKER_HOST && { DOCKER_HOST: process.env.DOCKER_HOST }),
        ...opts.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * A test file's CLI runners with the environment it set up (read when called, as it is set in a
 * `before` hook): `kiln` runs, `ok` asserts exit 0, `fails` asserts exit 1 and an error on stderr.
 */
export function cliRunners(env: () => Record<string, string>) {
  const kiln = (args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<CliRun> =>
    runCli(args, { cwd, env: { ...env(), ...extraEnv } });
  const ok = async (args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<CliRun> => {
    const r = await kiln(args, cwd, extraEnv);
    if (r.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };
  const fails = async (args: string[], cwd: string, re: RegExp): Promise<CliRun> => {
    const r = await kiln(args, cwd);
    if (r.code !== 1) throw new Error(`kiln ${args.join(' ')} should exit 1, exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    if (!re.test(r.stderr)) throw new Error(`kiln ${args.join(' ')}: stderr does not match ${re}\nstderr: ${r.stderr}`);
    return r;
  };
  return { kiln, ok, fails };
}
