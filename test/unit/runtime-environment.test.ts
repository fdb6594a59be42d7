// runtime/environment.ts: the runtime's and the extensions' environments, as the Lambda
// service assembles them (customer first, platform wins, `_*` keys kept from extensions).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadDaemonConfig, type DaemonConfig } from '../../runtime/config.js';
import { extensionEnv, platformEnv, runtimeEnv } from '../../runtime/environment.js';

const DEFAULT_PATH = '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin';

/** A config as the daemon would load it, with the customer's variables as its base env. */
function cfgWith(customer: Record<string, string>, over: Partial<DaemonConfig> = {}): DaemonConfig {
  return {
    ...loadDaemonConfig({ AWS_LAMBDA_FUNCTION_NAME: 'envfn', AWS_LAMBDA_FUNCTION_TIMEOUT: '7', _HANDLER: 'index.handler' }),
    baseEnv: customer,
    ...over,
  };
}

interface Row {
  name: string;
  key: string;
  /** The customer's value (undefined: not set). */
  customer?: string;
  runtime: string | RegExp | undefined;
  extension: string | undefined;
}

const rows: Row[] = [
  // Platform keys: the platform's value wins over the customer's.
  { name: 'the Runtime API address', key: 'AWS_LAMBDA_RUNTIME_API', customer: 'evil:1', runtime: '127.0.0.1:9001', extension: '127.0.0.1:9001' },
  { name: 'the function name', key: 'AWS_LAMBDA_FUNCTION_NAME', customer: 'other', runtime: 'envfn', extension: 'envfn' },
  { name: 'the function version', key: 'AWS_LAMBDA_FUNCTION_VERSION', customer: '7', runtime: '$LATEST', extension: '$LATEST' },
  { name: 'the memory size', key: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', customer: '4096', runtime: '128', extension: '128' },
  { name: 'the region', key: 'AWS_REGION', customer: 'eu-west-3', runtime: 'us-east-1', extension: 'us-east-1' },
  { name: 'the default region', key: 'AWS_DEFAULT_REGION', customer: 'eu-west-3', runtime: 'us-east-1', extension: 'us-east-1' },
  { name: 'the initialization type', key: 'AWS_LAMBDA_INITIALIZATION_TYPE', customer: 'snap-start', runtime: 'on-demand', extension: 'on-demand' },
  // Runtime-only keys: the platform's for the runtime; extensions never get `_*` keys.
  { name: 'the handler', key: '_HANDLER', customer: 'customer.handler', runtime: 'index.handler', extension: undefined },
  { name: 'the task root', key: 'LAMBDA_TASK_ROOT', customer: '/elsewhere', runtime: '/var/task', extension: '/elsewhere' },
  { name: 'the runtime dir', key: 'LAMBDA_RUNTIME_DIR', runtime: '/var/runtime', extension: undefined },
  { name: 'the log group', key: 'AWS_LAMBDA_LOG_GROUP_NAME', customer: '/mine', runtime: '/aws/lambda/envfn', extension: '/mine' },
  { name: 'the log stream, this container\'s own', key: 'AWS_LAMBDA_LOG_STREAM_NAME', customer: 'mine', runtime: /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/, extension: 'mine' },
  { name: 'the timeout', key: 'AWS_LAMBDA_FUNCTION_TIMEOUT', customer: '900', runtime: '7', extension: '900' },
  { name: 'a customer `_` key', key: '_SECRET_FLAG', customer: '1', runtime: '1', extension: undefined },
  { name: 'the X-Ray context-missing setting, set', key: 'AWS_XRAY_CONTEXT_MISSING', customer: 'IGNORE_ERROR', runtime: 'IGNORE_ERROR', extension: undefined },
  { name: 'the X-Ray context-missing setting, default', key: 'AWS_XRAY_CONTEXT_MISSING', runtime: 'LOG_ERROR', extension: undefined },
  // Overridable platform keys: the customer's value wins; defaults otherwise.
  { name: 'PATH, set', key: 'PATH', customer: '/custom/bin:/bin', runtime: '/custom/bin:/bin', extension: '/custom/bin:/bin' },
  { name: 'PATH, default', key: 'PATH', runtime: DEFAULT_PATH, extension: DEFAULT_PATH },
  { name: 'TZ, set', key: 'TZ', customer: 'Europe/Paris', runtime: 'Europe/Paris', extension: 'Europe/Paris' },
  { name: 'TZ, default', key: 'TZ', runtime: ':UTC', extension: ':UTC' },
  { name: 'LANG, set', key: 'LANG', customer: 'C.UTF-8', runtime: 'C.UTF-8', extension: 'C.UTF-8' },
  { name: 'LANG, default', key: 'LANG', runtime: 'en_US.UTF-8', extension: 'en_US.UTF-8' },
  { name: 'LD_LIBRARY_PATH', key: 'LD_LIBRARY_PATH', customer: '/opt/lib', runtime: '/opt/lib', extension: '/opt/lib' },
  { name: 'the log level', key: 'AWS_LAMBDA_LOG_LEVEL', customer: 'DEBUG', runtime: 'DEBUG', extension: 'DEBUG' },
  { name: 'the X-Ray daemon address', key: 'AWS_XRAY_DAEMON_ADDRESS', customer: '169.254.79.129:2000', runtime: '169.254.79.129:2000', extension: '169.254.79.129:2000' },
  // Anything else the customer sets passes to both.
  { name: 'a customer variable', key: 'DATABASE_URL', customer: 'postgres://db/x', runtime: 'postgres://db/x', extension: 'postgres://db/x' },
];

describe('runtimeEnv and extensionEnv', () => {
  for (const r of rows) {
    test(`${r.name} (${r.key}${r.customer === undefined ? '' : `=${r.customer}`})`, () => {
      const cfg = cfgWith(r.customer === undefined ? {} : { [r.key]: r.customer });
      if (r.runtime instanceof RegExp) assert.match(runtimeEnv(cfg)[r.key] ?? '', r.runtime, 'runtime');
      else assert.equal(runtimeEnv(cfg)[r.key], r.runtime, 'runtime');
      assert.equal(extensionEnv(cfg)[r.key], r.extension, 'extension');
    });
  }

  test('each container has a log stream of its own, named for the day it started, as the service names them', () => {
    const a = runtimeEnv(cfgWith({})).AWS_LAMBDA_LOG_STREAM_NAME ?? '';
    const b = runtimeEnv(cfgWith({})).AWS_LAMBDA_LOG_STREAM_NAME ?? '';
    assert.notEqual(a, b);
    assert.ok(a.startsWith(`${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]`), a);
    const v7 = loadDaemonConfig({ AWS_LAMBDA_FUNCTION_VERSION: '7' }).logStreamName;
    assert.match(v7, /\/\[7\][0-9a-f]{32}$/);
  });

  test('extensions get no key starting with `_`, whatever its source', () => {
    const env = extensionEnv(cfgWith({ _A: '1', _X_AMZN_TRACE_ID: 't', __B: '2', OK: 'y' }));
    assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('_')), []);
    assert.equal(env.OK, 'y');
  });

  test("Kiln's own settings (KILN_LAMBDA_*, FN_LISTENER) reach neither environment", () => {
    const cfg = loadDaemonConfig({
      FN_LISTENER: 'unix:/tmp/iofs/lsnr.sock', KILN_LAMBDA_COMMAND: '["x"]', KILN_LAMBDA_INIT_TIMEOUT_MS: '5', FN_APP_NAME: 'app', HOME: '/root',
    });
    for (const env of [runtimeEnv(cfg), extensionEnv(cfg)]) {
      assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('KILN_LAMBDA_') || k === 'FN_LISTENER'), []);
      assert.equal(env.FN_APP_NAME, 'app');
      assert.equal(env.HOME, '/root');
    }
  });

  // LogFormat JSON: the runtime gets the service's pair, so AWS's runtime clients log JSON themselves.
  const logRows: { name: string; env: Record<string, string>; format: string | undefined; level: string | undefined }[] = [
    { name: 'no format: nothing added', env: {}, format: undefined, level: undefined },
    { name: 'Text: as set', env: { AWS_LAMBDA_LOG_FORMAT: 'Text', AWS_LAMBDA_LOG_LEVEL: 'debug' }, format: 'Text', level: 'debug' },
    { name: 'a bad format: as set (the clients read it as Text too)', env: { AWS_LAMBDA_LOG_FORMAT: 'xml' }, format: 'xml', level: undefined },
    { name: 'JSON: the application level defaults to INFO', env: { AWS_LAMBDA_LOG_FORMAT: 'json' }, format: 'JSON', level: 'INFO' },
    { name: 'JSON: the application level, upper-cased', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'warn' }, format: 'JSON', level: 'WARN' },
    { name: 'JSON: a bad application level is INFO', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'loud' }, format: 'JSON', level: 'INFO' },
  ];
  for (const r of logRows) {
    test(`log settings: ${r.name}`, () => {
      const cfg = loadDaemonConfig({ ...r.env, KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'DEBUG' });
      for (const env of [runtimeEnv(cfg), extensionEnv(cfg)]) {
        assert.equal(env.AWS_LAMBDA_LOG_FORMAT, r.format);
        assert.equal(env.AWS_LAMBDA_LOG_LEVEL, r.level);
        assert.equal(env.KILN_LAMBDA_SYSTEM_LOG_LEVEL, undefined, 'the service gives the runtime no system level');
      }
    });
  }

  test('platformEnv follows the config', () => {
    const cfg = cfgWith({}, { apiAddress: '127.0.0.1:9100', region: 'ap-south-1', memoryMb: 512, functionVersion: '3' });
    assert.deepEqual(platformEnv(cfg), {
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9100',
      AWS_REGION: 'ap-south-1',
      AWS_DEFAULT_REGION: 'ap-south-1',
      AWS_LAMBDA_FUNCTION_NAME: 'envfn',
      AWS_LAMBDA_FUNCTION_VERSION: '3',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
  });
});
