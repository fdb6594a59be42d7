// runtime/config.ts loadDaemonConfig: the daemon's settings from the container's environment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadDaemonConfig, type DaemonConfig } from '../../runtime/config.js';

describe('loadDaemonConfig', () => {
  test('defaults', () => {
    const c = loadDaemonConfig({});
    assert.match(c.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.deepEqual({ ...c, baseEnv: undefined, logStreamName: undefined }, {
      listener: 'unix:/tmp/iofs/lsnr.sock',
      apiAddress: '127.0.0.1:9001',
      functionName: 'function',
      functionVersion: '$LATEST',
      logStreamName: undefined,
      memoryMb: 128,
      timeoutSec: 30,
      handler: '',
      region: 'us-east-1',
      imageCommand: [],
      imageWorkDir: '',
      initTimeoutMs: 10_000,
      shutdownMs: 2000,
      maxResponseBytes: 6 * 1024 * 1024 + 100,
      headersTimeoutMs: 60_000,
      extensionsDir: '/opt/extensions',
      bootstrapPaths: ['/var/task/bootstrap', '/opt/bootstrap', '/var/runtime/bootstrap'],
      taskRoot: '/var/task',
      memoryPeakFiles: ['/sys/fs/cgroup/memory.peak', '/sys/fs/cgroup/memory/memory.max_usage_in_bytes'],
      baseEnv: undefined,
      log: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: [] },
    });
    assert.deepEqual(c.baseEnv, {});
  });

  const cases: { name: string; env: Record<string, string>; want: Partial<DaemonConfig> }[] = [
    { name: 'the listener', env: { FN_LISTENER: 'unix:/x/lsnr.sock' }, want: { listener: 'unix:/x/lsnr.sock' } },
    { name: 'the API address', env: { KILN_LAMBDA_API_ADDRESS: '127.0.0.1:9100' }, want: { apiAddress: '127.0.0.1:9100' } },
    { name: 'an empty API address: the default', env: { KILN_LAMBDA_API_ADDRESS: '' }, want: { apiAddress: '127.0.0.1:9001' } },
    { name: "Fn's name as a fallback", env: { FN_FN_NAME: 'fnname' }, want: { functionName: 'fnname' } },
    { name: "Lambda's name first", env: { FN_FN_NAME: 'fnname', AWS_LAMBDA_FUNCTION_NAME: 'lname' }, want: { functionName: 'lname' } },
    { name: 'the version', env: { AWS_LAMBDA_FUNCTION_VERSION: '12' }, want: { functionVersion: '12' } },
    { name: "Fn's memory as a fallback", env: { FN_MEMORY: '256' }, want: { memoryMb: 256 } },
    { name: "Lambda's memory first", env: { FN_MEMORY: '256', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' }, want: { memoryMb: 1024 } },
    { name: 'a bad memory: the default', env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'lots' }, want: { memoryMb: 128 } },
    { name: 'the timeout', env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '3' }, want: { timeoutSec: 3 } },
    { name: 'a negative timeout: the default', env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '-5' }, want: { timeoutSec: 30 } },
    { name: 'a non-numeric timeout: the default', env: { AWS_LAMBDA_FUNCTION_TIMEOUT: 'abc' }, want: { timeoutSec: 30 } },
    { name: 'an empty timeout: the default', env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '' }, want: { timeoutSec: 30 } },
    { name: 'the handler', env: { _HANDLER: 'app.handler' }, want: { handler: 'app.handler' } },
    { name: 'AWS_REGION', env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }, want: { region: 'eu-west-1' } },
    { name: 'AWS_DEFAULT_REGION as a fallback', env: { AWS_DEFAULT_REGION: 'us-west-2' }, want: { region: 'us-west-2' } },
    { name: 'the command', env: { KILN_LAMBDA_COMMAND: '["/bin/run","--x","y"]' }, want: { imageCommand: ['/bin/run', '--x', 'y'] } },
    { name: 'a command with non-strings: the strings', env: { KILN_LAMBDA_COMMAND: '["/bin/run",1,null,"y"]' }, want: { imageCommand: ['/bin/run', 'y'] } },
    { name: 'a command that is not JSON: none', env: { KILN_LAMBDA_COMMAND: '/bin/run --x' }, want: { imageCommand: [] } },
    { name: 'a command that is not a list: none', env: { KILN_LAMBDA_COMMAND: '"/bin/run"' }, want: { imageCommand: [] } },
    { name: 'the work dir', env: { KILN_LAMBDA_WORKDIR: '/app' }, want: { imageWorkDir: '/app' } },
    { name: 'the init timeout', env: { KILN_LAMBDA_INIT_TIMEOUT_MS: '500' }, want: { initTimeoutMs: 500 } },
    { name: 'a bad init timeout: the default', env: { KILN_LAMBDA_INIT_TIMEOUT_MS: 'soon' }, want: { initTimeoutMs: 10_000 } },
    { name: 'the shutdown budget', env: { KILN_LAMBDA_SHUTDOWN_MS: '750' }, want: { shutdownMs: 750 } },
    { name: 'the response limit (the agent\'s FN_MAX_RESPONSE_SIZE)', env: { KILN_LAMBDA_MAX_RESPONSE_BYTES: '1000' }, want: { maxResponseBytes: 1000 } },
    { name: 'a response limit of 0: none', env: { KILN_LAMBDA_MAX_RESPONSE_BYTES: '0' }, want: { maxResponseBytes: 0 } },
    { name: 'a bad response limit: Lambda\'s', env: { KILN_LAMBDA_MAX_RESPONSE_BYTES: 'big' }, want: { maxResponseBytes: 6 * 1024 * 1024 + 100 } },
    { name: 'the headers timeout', env: { KILN_LAMBDA_HEADERS_TIMEOUT_MS: '400' }, want: { headersTimeoutMs: 400 } },
    { name: 'a headers timeout of 0 (it cannot be turned off): the default', env: { KILN_LAMBDA_HEADERS_TIMEOUT_MS: '0' }, want: { headersTimeoutMs: 60_000 } },
    { name: 'the extensions dir', env: { KILN_LAMBDA_EXTENSIONS_DIR: '/tmp/ext' }, want: { extensionsDir: '/tmp/ext' } },
    {
      name: 'the JSON log format and its levels', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'debug', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'WARN' },
      want: { log: { format: 'JSON', systemLevel: 'WARN', applicationLevel: 'DEBUG', warnings: [] } },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const cfg = loadDaemonConfig(c.env);
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(cfg[k as keyof DaemonConfig], v, k);
    });
  }

  test("baseEnv: the platform's environment without Kiln's settings", () => {
    const cfg = loadDaemonConfig({
      PATH: '/bin', HOME: '/root', FN_APP_NAME: 'a', FN_LISTENER: 'unix:/x', KILN_LAMBDA_COMMAND: '[]', KILN_LAMBDA_INIT_TIMEOUT_MS: '1',
      KILN_OTHER: 'kept', UNSET: undefined,
    });
    assert.deepEqual(cfg.baseEnv, { PATH: '/bin', HOME: '/root', FN_APP_NAME: 'a', KILN_OTHER: 'kept' });
  });

  test('baseEnv: the Node settings the agent kept from the daemon are given back (for the runtime and the extensions)', () => {
    const cfg = loadDaemonConfig({ NODE_OPTIONS: '', NODE_PATH: '', A: '1', KILN_LAMBDA_NODE_ENV: '{"NODE_OPTIONS":"--require ./t.js","NODE_PATH":"/opt/nodejs"}' });
    assert.deepEqual(cfg.baseEnv, { NODE_OPTIONS: '--require ./t.js', NODE_PATH: '/opt/nodejs', A: '1' });
  });

  for (const bad of ['not json', '[]', '"x"', 'null', '{"NODE_OPTIONS":1}']) {
    test(`baseEnv: a KILN_LAMBDA_NODE_ENV of ${bad} gives nothing back`, () => {
      assert.deepEqual(loadDaemonConfig({ NODE_OPTIONS: '', KILN_LAMBDA_NODE_ENV: bad }).baseEnv, { NODE_OPTIONS: '' });
    });
  }
});
