// `kiln start` runs the server in the foreground as `npm run up` does, with the server's own
// defaults (port 8080, SQLite in ./data/fn.db unless set), as a child process so the CLI
// imports nothing of the server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ensureNodeBaseImage } from '../../images/base-image.js';
import { CLIENT_ENV } from '../context.js';
import { CliError } from '../errors.js';
import type { Session } from '../session.js';

async function start(s: Session, opts: { port?: string }): Promise<void> {
  const env = { ...s.io.env };
  // The CLI's settings are not the server's (it would warn that it does not read them).
  for (const name of CLIENT_ENV) delete env[name];
  if (opts.port) env.FN_PORT = opts.port;
  // Functions need the Node base image; without an engine the API still starts (and says so).
  try {
    await ensureNodeBaseImage(await s.docker(), { log: (m) => s.io.err(`kiln: ${m}\n`) });
  } catch (err) {
    s.io.err(`kiln: warning: ${(err as Error).message}\n`);
  }
  const main = fileURLToPath(new URL('../../api/main.js', import.meta.url));
  const child = spawn(process.execPath, [main], { env, stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  if (code !== 0) {
    throw new CliError(
      `the server exited with code ${code}`,
      'Its output above says why (a port in use: `kiln start --port P`; a database: FN_DB_URL).',
      code,
    );
  }
}

export function registerStart(program: Command, s: Session): void {
  program
    .command('start')
    .description('run the Kiln server in the foreground (FN_PORT 8080, FN_DB_URL sqlite3://./data/fn.db unless set)')
    .option('-p, --port <port>', 'port to listen on (FN_PORT)')
    .action((opts: { port?: string }) => start(s, opts));
}
