// The daemon's settings, read once from the environment the agent gives the container.
import { MAX_PAYLOAD } from './http-util.js';
import { parseLogSettings, type LogSettings } from './log-format.js';
import { logStreamName } from './trace.js';
import { DAEMON_ENV, DAEMON_ENV_PREFIX, DAEMON_SHUTDOWN_MS, INIT_TIMEOUT_MS, IOFS_LISTENER } from './wire.js';

export interface DaemonConfig {
  /** Where the agent connects (http-stream): `unix:/tmp/iofs/lsnr.sock`. */
  listener: string;
  /** host:port of the Lambda APIs. */
  apiAddress: string;
  functionName: string;
  functionVersion: string;
  /** This container's log stream (AWS_LAMBDA_LOG_STREAM_NAME), named once as it starts. */
  logStreamName: string;
  memoryMb: number;
  /** The fn's timeout in seconds (for messages; each call carries its own deadline). */
  timeoutSec: number;
  handler: string;
  region: string;
  /** The image's own entrypoint + cmd, the bootstrap when no bootstrap file exists. */
  imageCommand: string[];
  /** The image's working directory. */
  imageWorkDir: string;
  /** Bound on extensions registering and the runtime's first `next`. */
  initTimeoutMs: number;
  /** Shutdown budget (SHUTDOWN event to kill). */
  shutdownMs: number;
  /** A runtime's largest buffered answer: the agent's FN_MAX_RESPONSE_SIZE, else Lambda's; 0: none. */
  maxResponseBytes: number;
  /** How long both servers wait for a request's header block (see serverTimeouts). */
  headersTimeoutMs: number;
  /** Where extensions live. */
  extensionsDir: string;
  /** Bootstrap candidates, in order. */
  bootstrapPaths: string[];
  taskRoot: string;
  /** Files read for the container's peak memory (cgroup v2, then v1). */
  memoryPeakFiles: string[];
  /** The platform's own environment, without Kiln's settings: what processes inherit. */
  baseEnv: Record<string, string>;
  /** LogFormat and the log levels (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL, KILN_LAMBDA_SYSTEM_LOG_LEVEL). */
  log: LogSettings;
}

function int(v: string | undefined, dflt: number, min = 0): number {
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= min ? n : dflt;
}

function parseCommand(v: string | undefined): string[] {
  if (!v) return [];
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The Node settings (NODE_OPTIONS, ...) the agent kept from the daemon's own Node, set empty in
 * its environment (agent/lambda.ts withNodeSettingsKept): the runtime's and the extensions'.
 */
function keptNodeSettings(v: string | undefined): Record<string, string> {
  if (!v) return {};
  try {
    const parsed: unknown = JSON.parse(v);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

export function loadDaemonConfig(env: NodeJS.ProcessEnv): DaemonConfig {
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k.startsWith(DAEMON_ENV_PREFIX) || k === 'FN_LISTENER') continue;
    baseEnv[k] = v;
  }
  Object.assign(baseEnv, keptNodeSettings(env[DAEMON_ENV.nodeEnvKept]));
  const functionVersion = env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST';
  return {
    listener: env.FN_LISTENER ?? IOFS_LISTENER,
    apiAddress: env[DAEMON_ENV.apiAddress] || '127.0.0.1:9001',
    functionName: env.AWS_LAMBDA_FUNCTION_NAME || env.FN_FN_NAME || 'function',
    functionVersion,
    logStreamName: logStreamName(new Date(), functionVersion),
    memoryMb: int(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || env.FN_MEMORY, 128, 1),
    timeoutSec: int(env.AWS_LAMBDA_FUNCTION_TIMEOUT, 30, 1),
    handler: env._HANDLER ?? '',
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    imageCommand: parseCommand(env[DAEMON_ENV.command]),
    imageWorkDir: env[DAEMON_ENV.workDir] || '',
    initTimeoutMs: int(env[DAEMON_ENV.initTimeoutMs], INIT_TIMEOUT_MS),
    shutdownMs: int(env[DAEMON_ENV.shutdownMs], DAEMON_SHUTDOWN_MS),
    maxResponseBytes: int(env[DAEMON_ENV.maxResponseBytes], MAX_PAYLOAD),
    headersTimeoutMs: int(env[DAEMON_ENV.headersTimeoutMs], 60_000, 1),
    extensionsDir: env[DAEMON_ENV.extensionsDir] || '/opt/extensions',
    bootstrapPaths: ['/var/task/bootstrap', '/opt/bootstrap', '/var/runtime/bootstrap'],
    taskRoot: '/var/task',
    memoryPeakFiles: ['/sys/fs/cgroup/memory.peak', '/sys/fs/cgroup/memory/memory.max_usage_in_bytes'],
    baseEnv,
    log: parseLogSettings(env),
  };
}
