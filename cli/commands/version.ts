// `kiln version`: this CLI's version and the server's (`GET /version`), saying so when the
// server does not answer.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Session } from '../session.js';
import { emit } from './common.js';

export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function version(s: Session): Promise<void> {
  const client = await s.client();
  let server: string;
  try {
    server = (await client.version()).version;
  } catch (err) {
    server = `? (${(err as Error).message})`;
  }
  emit(s, { client: cliVersion(), server, api_url: client.url }, () => `Client version: ${cliVersion()}\nServer version: ${server}\n`);
}

export function registerVersion(program: Command, s: Session): void {
  program
    .command('version')
    .description("show the CLI's version and the server's")
    .action(() => version(s));
}
