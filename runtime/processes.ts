// Starts the runtime and the extensions in process groups of their own, forwards their
// output line by line, reports their exits, and signals whole groups.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.js';

export type ProcessKind = 'runtime' | 'extension';

export interface Exit {
  name: string;
  kind: ProcessKind;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessSpec {
  name: string;
  kind: ProcessKind;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface SupervisorHooks {
  /** One line of a process's output. */
  line(kind: ProcessKind, name: string, text: string): void;
  exited(exit: Exit): void;
}

export class Managed {
  readonly exited: Promise<Exit>;
  private done = false;
  /** Its output pipes: paused while the daemon's own output is backed up. */
  private readonly outputs: Readable[] = [];
  /** Passes on each pipe's line begun and not yet ended. */
  private readonly flushers: (() => void)[] = [];

  constructor(readonly spec: ProcessSpec, private readonly child: ChildProcess, hooks: SupervisorHooks) {
    let streams = 0;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let resolveExit!: (e: Exit) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    // Report the exit only after its output has been read, so lines come before the event.
    const report = () => {
      if (!exitInfo || streams > 0) return;
      const e: Exit = { name: spec.name, kind: spec.kind, ...exitInfo };
      this.done = true;
      resolveExit(e);
      hooks.exited(e);
    };
    for (const s of [child.stdout, child.stderr]) {
      if (!s) continue;
      streams++;
      this.outputs.push(s);
      const lines = new LineSplitter();
      const emit = (texts: string[]) => {
        for (const text of texts) hooks.line(spec.kind, spec.name, text);
      };
      s.on('data', (chunk: Buffer) => emit(lines.push(chunk)));
      this.flushers.push(() => emit(lines.flush()));
      s.once('close', () => {
        emit(lines.end());
        streams--;
        report();
      });
    }
    child.on('error', () => {}); // a failed kill of a gone process: nothing to do
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      // A grandchild may hold the pipes open; do not wait on it for long.
      setTimeout(() => {
        streams = 0;
        report();
      }, 200).unref();
      report();
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** Stops reading its output: its pipes fill and its writes wait, as they would on a slow terminal. */
  pauseOutput(): void {
    for (const s of this.outputs) s.pause();
  }

  resumeOutput(): void {
    for (const s of this.outputs) s.resume();
  }

  /** Passes on what it printed without a newline so far, as a line (an invocation's end). */
  flushOutput(): void {
    for (const f of this.flushers) f();
  }

  /**
   * Signals the process group (the process and whatever it started), also once the process has
   * exited: what it started lives on in its group, and would pile up over crash after crash
   * (Linux does not give the group's id to another process while any member lives).
   */
  signal(sig: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      if (this.done) return; // nothing of its group is left
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }
}

export class SpawnError extends Error {
  constructor(readonly spec: ProcessSpec, readonly code: string | undefined, message: string) {
    super(code === 'EAGAIN' ? `${message}: ${PROCESS_LIMIT_HINT}` : message);
  }
}

/**
 * What a spawn's EAGAIN means in a sandbox: the pids limit (which counts threads) is reached, not
 * a bad entrypoint, though the error type stays the service's.
 */
export const PROCESS_LIMIT_HINT = "the sandbox's process limit is reached (processes and threads, its pids.max)";

const OWN_OOM_SCORE = '/proc/self/oom_score_adj';

/**
 * Runs `spawn` with the daemon's own oom_score_adj raised to 1000, which the child inherits at
 * its fork, so it and everything it starts are the kernel's first choice when the sandbox runs
 * out of memory, not the daemon, which holds the Runtime API and writes the call's END and
 * REPORT (as the service's, outside the sandbox, always does). Set before the fork: written
 * after, it raced a runtime that forks at once. Raising needs no privilege, and going back down
 * to a value the process had is always allowed (the floor is the last one a privileged process
 * set). Off Linux, or refused: spawned as it was.
 */
export function spawnAsOomVictim<T>(spawnIt: () => T): T {
  let own: string | undefined;
  try {
    own = readFileSync(OWN_OOM_SCORE, 'utf8').trim();
    if (own !== '1000') writeFileSync(OWN_OOM_SCORE, '1000');
    else own = undefined;
  } catch {
    own = undefined; // no procfs, or refused: nothing to put back
  }
  try {
    return spawnIt();
  } finally {
    if (own !== undefined) {
      try {
        writeFileSync(OWN_OOM_SCORE, own);
      } catch {
        // Cannot happen (a value it had); the daemon would stay a likelier victim, as its children.
      }
    }
  }
}

/** Starts a process; rejects when it cannot be executed (missing, not executable, bad cwd). */
export function start(spec: ProcessSpec, hooks: SupervisorHooks): Promise<Managed> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnAsOomVictim(() => spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      reject(new SpawnError(spec, e.code, e.message));
      return;
    }
    child.once('error', (err: NodeJS.ErrnoException) => reject(new SpawnError(spec, err.code, err.message)));
    child.once('spawn', () => resolve(new Managed(spec, child, hooks)));
  });
}
