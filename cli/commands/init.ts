// `kiln init --runtime R [--name N] [DIR]`: writes a working function directory.
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Session } from '../session.js';
import { emit } from './common.js';
import { isRuntime, RUNTIMES, templateFiles } from '../templates/index.js';

interface InitOpts {
  runtime?: string;
  name?: string;
}

/** Writes the template into `dir`; refuses to overwrite an existing function. */
export async function initFunction(dir: string, runtime: string, name: string): Promise<string[]> {
  if (!isRuntime(runtime)) throw new CliError(`unknown runtime "${runtime}"`, `Use one of: ${RUNTIMES.join(', ')}.`);
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) {
    throw new CliError(`invalid function name "${name}"`, 'Use lower-case letters, digits, ".", "_" or "-" (it names the image too); pass --name.');
  }
  if (existsSync(join(dir, 'func.yaml')) || existsSync(join(dir, 'func.yml'))) {
    throw new CliError(`${dir} already has a func.yaml`, 'Pick an empty directory, or edit that function.');
  }
  await mkdir(dir, { recursive: true });
  const files = templateFiles(runtime, name);
  for (const [rel, f] of Object.entries(files)) {
    const path = join(dir, rel);
    await writeFile(path, f.content, { mode: f.mode });
    await chmod(path, f.mode); // the umask may have taken the exec bit off bootstrap
  }
  return Object.keys(files).sort();
}

export function registerInit(program: Command, s: Session): void {
  program
    .command('init [dir]')
    .description('create a function: func.yaml and code for a runtime, in DIR (or ./NAME, or here)')
    .requiredOption('--runtime <runtime>', `one of ${RUNTIMES.join(', ')}`)
    .option('--name <name>', "the function's name (default: the directory's name)")
    .action(async (dirArg: string | undefined, o: InitOpts) => {
      // As `fn init`: a name without a directory makes ./NAME; neither uses the current directory.
      const dir = resolve(s.io.cwd, dirArg ?? o.name ?? '.');
      const name = o.name ?? basename(dir);
      const files = await initFunction(dir, o.runtime!, name);
      emit(s, { name, runtime: o.runtime, dir, files }, () => `Function ${name} (runtime ${o.runtime}) created in ${dir}: ${files.join(', ')}\n`);
    });
}
