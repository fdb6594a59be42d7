// The Lambda runtime bundle (images/runtime-bundle.ts) as the server holds it: prepared at
// start-up and, when that failed, prepared again when a call needs it (at most every
// BUNDLE_RETRY_MS), so a host error that passes (a full TMPDIR) does not leave lambda fns
// failing until a restart. A missing daemon build is told apart from the host's errors.
import type { Logger } from 'pino';
import type { LambdaRuntime } from './lambda.js';

/** The least time between two tries to prepare the bundle after one failed. */
export const BUNDLE_RETRY_MS = 10_000;

/** Why there is no bundle: no daemon build to put in it, or the host's error (disk, descriptors, permissions). */
export type BundleMissing = 'build' | 'host';

export class LambdaBundle {
  private runtime: LambdaRuntime | undefined;
  private failure: BundleMissing | undefined;
  private lastTry = -Infinity;
  private trying: Promise<LambdaRuntime | undefined> | undefined;

  constructor(
    private readonly prepare: () => Promise<LambdaRuntime>,
    /** The daemon's build, whose absence is `build`. */
    private readonly daemonJs: string,
    private readonly log: Logger,
    /** Called once, when it is first ready. */
    private readonly onReady: (rt: LambdaRuntime) => void,
    private readonly retryMs = BUNDLE_RETRY_MS,
  ) {}

  /** The bundle if ready. */
  get current(): LambdaRuntime | undefined {
    return this.runtime;
  }

  /** Why the last try failed; undefined once ready (or before any try). */
  get missing(): BundleMissing | undefined {
    return this.runtime ? undefined : this.failure;
  }

  /** The bundle; prepared (again) first when there is none and the last try is BUNDLE_RETRY_MS old. */
  get(): Promise<LambdaRuntime | undefined> {
    if (this.runtime) return Promise.resolve(this.runtime);
    if (this.trying) return this.trying;
    if (performance.now() - this.lastTry < this.retryMs) return Promise.resolve(undefined);
    this.lastTry = performance.now();
    const retry = this.failure !== undefined;
    this.trying = this.prepare().then(
      (rt) => {
        this.runtime = rt;
        this.failure = undefined;
        if (retry) this.log.info({ dir: rt.hostDir }, 'the Lambda runtime bundle is ready now: lambda-format fns run');
        try {
          this.onReady(rt);
        } catch (err) {
          this.log.warn({ err }, 'the Lambda runtime bundle is ready, but its lease could not be taken');
        }
        return rt;
      },
      (err: unknown) => {
        const first = this.failure === undefined;
        this.failure = this.isMissingBuild(err) ? 'build' : 'host';
        // Once per failure, not at every try a call makes.
        if (first) this.log.warn({ err }, this.failure === 'build'
          ? 'the Lambda runtime bundle could not be prepared: the daemon is not built (run `npm run build`): lambda-format fns will answer 501'
          : `the Lambda runtime bundle could not be prepared (a host error: TMPDIR full or not writable?): lambda-format fns answer 503 until it can be, tried again when one is called (at most every ${this.retryMs / 1000} s)`);
        return undefined;
      },
    ).finally(() => {
      this.trying = undefined;
    });
    return this.trying;
  }

  private isMissingBuild(err: unknown): boolean {
    const e = err as { code?: unknown; path?: unknown } | null;
    return e?.code === 'ENOENT' && e.path === this.daemonJs;
  }
}
