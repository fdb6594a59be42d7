// What a `format: lambda` container needs from the agent: Kiln's runtime daemon mounted at
// /kiln and run instead of the image's entrypoint, the image's own command handed to it as
// the bootstrap of last resort, and the Lambda settings in its environment.
import type { ImageConfig } from '../drivers/contract.js';
import type { App, Fn } from '../store/types.js';
import { AGENT_SHUTDOWN_WAIT_MS, DAEMON_ENV, DAEMON_ENV_PREFIX, INIT_TIMEOUT_MS } from '../runtime/wire.js';

/** The runtime bundle on the host: the daemon, a node binary and its libraries. */
export interface LambdaRuntime {
  hostDir: string;
  /** Where it is mounted read-only in the container; the command's paths are under it. */
  mount: string;
  /** The daemon's command line inside the container. */
  command: string[];
  /** The sandbox's /etc/hosts on the host, for any container without a network (localhost, and a Lambda sandbox's names). */
  hostsFile?: string;
}

/**
 * Where the agent gets the bundle when the server had none at start-up (agent/lambda-bundle.ts):
 * `get` prepares it again, at most so often; `missing` says why there is none.
 */
export interface LambdaBundleSource {
  get(): Promise<LambdaRuntime | undefined>;
  /** `build`: no daemon build to bundle (501, for good); `host`: the host's error (503, tried again). */
  readonly missing: 'build' | 'host' | undefined;
}

/** The daemon answers a timed-out call itself (and runs SHUTDOWN); the agent's timer is the backstop. */
export const LAMBDA_TIMEOUT_GRACE_MS = 3000;

/** How long retirement waits for the daemon's shutdown sequence before killing (longer than the sequence: see runtime/wire.ts). */
export const LAMBDA_SHUTDOWN_WAIT_MS = AGENT_SHUTDOWN_WAIT_MS;

/** The boot init's bound (the service's 10 s Init phase); the daemon gets it in its environment. */
export const LAMBDA_INIT_TIMEOUT_MS = INIT_TIMEOUT_MS;

/**
 * What a container's first call may wait beyond its timeout: the boot init, which is not the
 * call's time, and the reset that follows a boot init that failed.
 */
export const LAMBDA_BOOT_ALLOWANCE_MS = LAMBDA_INIT_TIMEOUT_MS + LAMBDA_SHUTDOWN_WAIT_MS;

/**
 * Lambda's quotas of processes/threads and of file descriptors (1,024 each): a Lambda container
 * gets at least these, not FN_MAX_PIDS and FN_MAX_OPEN_FILES (50 and 350), which Kiln's own
 * daemon (about 11 threads) and a runtime with its extensions (up to 10) would outgrow.
 */
export const LAMBDA_MIN_LIMITS = { pids: 1024, openFiles: 1024 } as const;

/** `sandbox.localdomain` is where telemetry subscribers listen: the container's own loopback. */
export const LAMBDA_EXTRA_HOSTS = ['sandbox.localdomain:127.0.0.1', 'sandbox:127.0.0.1'];

/**
 * The handler: `_HANDLER` or `handler` from the fn's (then the app's) config, else the last
 * word of the image's command when the image has an entrypoint (AWS base images put it there).
 */
export function lambdaHandler(app: App, fn: Fn, image: ImageConfig): string {
  return configHandler(app, fn) ?? (image.entrypoint.length > 0 ? (image.cmd[image.cmd.length - 1] ?? '') : '');
}

const configHandler = (app: App, fn: Fn): string | undefined => fn.config._HANDLER ?? fn.config.handler ?? app.config._HANDLER ?? app.config.handler;

/**
 * The image's command, run as the bootstrap when the image has none. When the image has an
 * entrypoint (the runtime: AWS base images, the runtime interface clients) and the config names
 * the handler, the handler takes the place of the command's last word, where the runtime reads
 * it, as Lambda's ImageConfig.Command overrides the image's CMD: the runtime runs the handler
 * `_HANDLER` names.
 */
export function lambdaCommand(app: App, fn: Fn, image: ImageConfig): string[] {
  const handler = configHandler(app, fn);
  if (handler === undefined || image.entrypoint.length === 0) return [...image.entrypoint, ...image.cmd];
  return [...image.entrypoint, ...image.cmd.slice(0, -1), handler];
}

/** The daemon's own settings: the agent's to give, except the one a fn's config may set. */
const CONFIG_DAEMON_SETTINGS: ReadonlySet<string> = new Set([DAEMON_ENV.systemLogLevel]);

/**
 * A container's environment without the daemon settings its config named: config keys such as
 * KILN_LAMBDA_API_ADDRESS would otherwise retune Kiln's daemon (the runtime never sees them).
 */
export function withoutDaemonSettings(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(DAEMON_ENV_PREFIX) || CONFIG_DAEMON_SETTINGS.has(k)) out[k] = v;
  }
  return out;
}

/** Where the daemon finds the Node settings kept from it (see withNodeSettingsKept). */
export const NODE_ENV_KEPT = DAEMON_ENV.nodeEnvKept;
/**
 * Settings Node reads as it starts or runs (NODE_OPTIONS above all, NODE_DEBUG, ...), and
 * LD_PRELOAD, which the dynamic loader would honour for the daemon's Node (a library built for
 * the image's libc). LD_LIBRARY_PATH need not be: the daemon's loader is given its own path.
 */
const NODE_SETTING = /^(NODE_|LD_PRELOAD$)/;

/**
 * A Lambda container's environment with the Node settings of the fn's config and of its image
 * (NODE_OPTIONS, ..., LD_PRELOAD) set empty, their values passed in NODE_ENV_KEPT instead: Kiln's daemon is a
 * Node program too, and `NODE_OPTIONS=--require ./tracing.js`, or an option its Node does not
 * know, meant for the runtime would stop it from starting. The daemon gives them back to the
 * runtime and the extensions. (The engine gives a container its image's ENV unless the
 * container's own says otherwise: only an empty value undoes it.)
 */
export function withNodeSettingsKept(imageEnv: Record<string, string>, env: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const source of [imageEnv, env]) {
    for (const [k, v] of Object.entries(source)) if (NODE_SETTING.test(k)) kept[k] = v;
  }
  if (Object.keys(kept).length === 0) return env;
  const out = { ...env };
  for (const k of Object.keys(kept)) out[k] = '';
  out[NODE_ENV_KEPT] = JSON.stringify(kept);
  return out;
}

/**
 * Environment additions for the daemon (on top of the http-stream container's). The daemon
 * refuses a runtime's answer over the agent's own limit (FN_MAX_RESPONSE_SIZE), so that an
 * answer the runtime was told is accepted reaches the caller, and one over it is Lambda's error.
 */
export function lambdaEnv(app: App, fn: Fn, image: ImageConfig, maxResponseBytes: number): Record<string, string> {
  return {
    [DAEMON_ENV.maxResponseBytes]: String(maxResponseBytes),
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memory),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeout),
    [DAEMON_ENV.initTimeoutMs]: String(LAMBDA_INIT_TIMEOUT_MS),
    _HANDLER: lambdaHandler(app, fn, image),
    [DAEMON_ENV.command]: JSON.stringify(lambdaCommand(app, fn, image)),
    [DAEMON_ENV.workDir]: image.workingDir,
  };
}
