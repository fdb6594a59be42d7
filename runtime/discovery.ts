// What the sandbox starts: the extensions in /opt/extensions and the runtime's bootstrap,
// found the way the Lambda service finds them.
import { readdirSync, statSync } from 'node:fs';
import type { DaemonConfig } from './config.js';

/** The extensions to launch: the files (not directories) of `dir`, in name order; none if it is missing. */
export function extensionFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => {
    try {
      return !statSync(`${dir}/${n}`).isDirectory();
    } catch {
      return false;
    }
  });
}

export interface Bootstrap {
  command: string;
  args: string[];
  cwd: string;
}

const dirOrRoot = (dir: string): string => {
  try {
    return statSync(dir).isDirectory() ? dir : '/';
  } catch {
    return '/';
  }
};

/**
 * The first of /var/task/bootstrap, /opt/bootstrap, /var/runtime/bootstrap that is a file
 * (run in the task root), else the image's own entrypoint + cmd (in its working directory).
 */
export function bootstrapCommand(cfg: Pick<DaemonConfig, 'bootstrapPaths' | 'taskRoot' | 'imageCommand' | 'imageWorkDir'>): Bootstrap | undefined {
  for (const p of cfg.bootstrapPaths) {
    try {
      if (!statSync(p).isDirectory()) return { command: p, args: [], cwd: dirOrRoot(cfg.taskRoot) };
    } catch {
      /* next candidate */
    }
  }
  const [command, ...args] = cfg.imageCommand;
  if (command) return { command, args, cwd: dirOrRoot(cfg.imageWorkDir || cfg.taskRoot) };
  return undefined;
}
