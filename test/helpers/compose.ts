// A docker-compose project of the repository's docker-compose.yml for tests: a unique project
// name, the variables that point it at local images, and the commands to drive it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/**
 * The compose command as words: KILN_TEST_COMPOSE (which `npm test` sets from
 * scripts/compose.sh, e.g. `docker-compose` or `docker compose`), else `docker-compose`.
 */
export function composeCommand(): string[] {
  const words = (process.env.KILN_TEST_COMPOSE ?? '').split(/\s+/).filter(Boolean);
  return words.length ? words : ['docker-compose'];
}

export class ComposeError extends Error {}

export class ComposeProject {
  private readonly command = composeCommand();

  /**
   * @param name the project name (lower-case letters, digits, `-`, `_`): prefixes every
   *   container, network and volume compose makes
   * @param root the directory holding docker-compose.yml (the build context)
   * @param vars the compose file's variables, on top of this process's environment
   */
  constructor(
    readonly name: string,
    private readonly root: string,
    private readonly vars: Record<string, string>,
  ) {}

  /** Runs `compose -p NAME -f root/docker-compose.yml ARGS...`; its output, or a ComposeError. */
  async run(args: string[], timeoutMs = 180_000): Promise<string> {
    const [cmd, ...pre] = this.command as [string, ...string[]];
    const argv = [...pre, '-p', this.name, '-f', join(this.root, 'docker-compose.yml'), ...args];
    try {
      const { stdout, stderr } = await execFileP(cmd, argv, {
        cwd: this.root,
        env: { ...process.env, ...this.vars },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      });
      return `${stdout}${stderr}`;
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
      throw new ComposeError(`${[cmd, ...argv].join(' ')} failed: ${e.message.split('\n')[0]}\n${out}`);
    }
  }

  /** The services' last log lines, for failure messages; never throws. */
  async logs(lines = 60): Promise<string> {
    return this.run(['logs', '--no-color', '--tail', String(lines)], 30_000).catch((err: unknown) => String(err));
  }

  /** Stops and removes the containers, network and volumes; waits for the nodes' own shutdown. */
  async down(): Promise<void> {
    await this.run(['down', '--volumes', '--timeout', '30'], 120_000);
  }
}
