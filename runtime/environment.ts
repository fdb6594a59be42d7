// The environments of the runtime and of extensions, assembled as the Lambda service does:
// customer variables first, then the platform's, which win; extensions get no `_*` keys.
import type { DaemonConfig } from './config.js';
import { logEnv } from './log-format.js';

/** Platform keys a customer may set (Lambda lets these through). */
const OVERRIDABLE = /^(LANG|PATH|LD_LIBRARY_PATH|TZ|AWS_LAMBDA_LOG_.*|AWS_XRAY_.*)$/;

const DEFAULT_PATH = '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin';

export function platformEnv(cfg: DaemonConfig): Record<string, string> {
  return {
    AWS_LAMBDA_RUNTIME_API: cfg.apiAddress,
    AWS_REGION: cfg.region,
    AWS_DEFAULT_REGION: cfg.region,
    AWS_LAMBDA_FUNCTION_NAME: cfg.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: cfg.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(cfg.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  };
}

function customer(cfg: DaemonConfig): { mine: Record<string, string>; overrides: Record<string, string> } {
  const mine: Record<string, string> = {};
  const overrides: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.baseEnv)) {
    if (OVERRIDABLE.test(k)) overrides[k] = v;
    else mine[k] = v;
  }
  return { mine, overrides };
}

function defaults(): Record<string, string> {
  return { LANG: 'en_US.UTF-8', TZ: ':UTC', PATH: DEFAULT_PATH };
}

export function runtimeEnv(cfg: DaemonConfig): Record<string, string> {
  const { mine, overrides } = customer(cfg);
  return {
    ...mine,
    ...defaults(),
    // What the service sets for the runtime, so X-Ray SDKs log rather than throw when they
    // find no trace context (Kiln runs no X-Ray daemon); a customer value wins, as there.
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    ...overrides,
    ...logEnv(cfg.log),
    ...platformEnv(cfg),
    _HANDLER: cfg.handler,
    LAMBDA_TASK_ROOT: cfg.taskRoot,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${cfg.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: cfg.logStreamName,
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(cfg.timeoutSec),
  };
}

export function extensionEnv(cfg: DaemonConfig): Record<string, string> {
  const { mine, overrides } = customer(cfg);
  const env: Record<string, string> = { ...mine, ...defaults(), ...overrides, ...logEnv(cfg.log), ...platformEnv(cfg) };
  for (const k of Object.keys(env)) {
    if (k.startsWith('_') || k === 'AWS_XRAY_CONTEXT_MISSING') delete env[k];
  }
  return env;
}
