// `kiln bump` (fn's common/bump.go): func.yaml's version up by one patch (or --minor, --major),
// written back as deploy writes it; nothing is built.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadFunc } from '../build.js';
import { bumpVersion, checkVersionWritable, writeVersion, type VersionPart } from '../funcfile.js';
import type { Session } from '../session.js';
import { emit } from './common.js';

interface BumpOpts {
  major?: boolean;
  minor?: boolean;
  workingDir?: string;
}

export function registerBump(program: Command, s: Session): void {
  program
    .command('bump')
    .alias('bm')
    .description("bump func.yaml's version (patch, or --minor/--major) without building")
    .option('--major', 'bump the major version (X.0.0)')
    .option('--minor', 'bump the minor version (x.Y.0)')
    .option('-w, --working-dir <dir>', 'the function directory (default: the current one)')
    // fn's bump has -v too; it changes nothing there either.
    .addOption(new Option('-v, --verbose').hideHelp())
    .action(async (o: BumpOpts) => {
      const dir = resolve(s.io.cwd, o.workingDir ?? '.');
      const func = await loadFunc(dir);
      // As fn: --major wins over --minor.
      const part: VersionPart = o.major ? 'major' : o.minor ? 'minor' : 'patch';
      const version = bumpVersion(func.version, part);
      await checkVersionWritable(dir);
      await writeVersion(dir, version);
      emit(s, { name: func.name, version }, () => `Bumped to version ${version}\n`);
    });
}
