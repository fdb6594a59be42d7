import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lambdaCommand, lambdaEnv, lambdaHandler, withNodeSettingsKept, withoutDaemonSettings } from '../../agent/lambda.js';
import { envOf } from '../../drivers/docker/image-env.js';
import type { ImageConfig } from '../../drivers/contract.js';
import type { App, Fn } from '../../store/types.js';

const app = (config: Record<string, string> = {}): App => ({ id: 'a1', name: 'app', config, annotations: {}, created_at: '', updated_at: '' }) as unknown as App;
const fn = (config: Record<string, string> = {}): Fn =>
  ({ id: 'f1', name: 'hello', app_id: 'a1', image: 'img', memory: 256, timeout: 30, idle_timeout: 30, config, format: 'lambda' }) as unknown as Fn;
const image = (entrypoint: string[], cmd: string[], workingDir = ''): ImageConfig => ({ entrypoint, cmd, workingDir, env: {} });

const handlerCases: { name: string; app?: Record<string, string>; fn?: Record<string, string>; image: ImageConfig; want: string }[] = [
  { name: "the fn's _HANDLER", fn: { _HANDLER: 'index.handler' }, image: image([], []), want: 'index.handler' },
  { name: "the fn's handler", fn: { handler: 'app.main' }, image: image([], []), want: 'app.main' },
  { name: "the fn's config wins over the app's", app: { _HANDLER: 'a.b' }, fn: { handler: 'c.d' }, image: image([], []), want: 'c.d' },
  { name: "the app's when the fn has none", app: { handler: 'a.b' }, image: image([], []), want: 'a.b' },
  { name: 'an AWS base image: CMD after an ENTRYPOINT', image: image(['/lambda-entrypoint.sh'], ['app.handler']), want: 'app.handler' },
  { name: 'a command without an entrypoint is not a handler', image: image([], ['node', 'x.js']), want: '' },
  { name: 'nothing at all', image: image([], []), want: '' },
];

for (const c of handlerCases) {
  test(`lambda handler: ${c.name}`, () => {
    assert.equal(lambdaHandler(app(c.app), fn(c.fn), c.image), c.want);
  });
}

const commandCases: { name: string; app?: Record<string, string>; fn?: Record<string, string>; image: ImageConfig; want: string[] }[] = [
  { name: 'no handler in config: the image\'s entrypoint and command', image: image(['/lambda-entrypoint.sh'], ['app.handler']), want: ['/lambda-entrypoint.sh', 'app.handler'] },
  { name: "the config's handler in the place of an AWS base image's CMD", fn: { _HANDLER: 'other.handler' }, image: image(['/lambda-entrypoint.sh'], ['app.handler']), want: ['/lambda-entrypoint.sh', 'other.handler'] },
  { name: "the runtime interface client's: node, its script, the handler", app: { handler: 'b.main' }, image: image(['/usr/local/bin/node', '/opt/ric/bin/index.mjs'], ['index.handler']), want: ['/usr/local/bin/node', '/opt/ric/bin/index.mjs', 'b.main'] },
  { name: "only the command's last word: flags before it stay", fn: { handler: 'x.y' }, image: image(['/entry'], ['--flag', 'a.b']), want: ['/entry', '--flag', 'x.y'] },
  { name: 'an entrypoint with no command gets the handler as its argument', fn: { handler: 'x.y' }, image: image(['/entry'], []), want: ['/entry', 'x.y'] },
  { name: 'no entrypoint: the command is the runtime itself, left alone', fn: { handler: 'x.y' }, image: image([], ['/usr/local/bin/my-runtime']), want: ['/usr/local/bin/my-runtime'] },
];

for (const c of commandCases) {
  test(`lambda command: ${c.name}`, () => {
    assert.deepEqual(lambdaCommand(app(c.app), fn(c.fn), c.image), c.want);
  });
}

test('lambda env: the fn settings, the image command and the agent\'s response limit for the daemon', () => {
  assert.deepEqual(lambdaEnv(app(), fn({ _HANDLER: 'index.handler' }), image(['/entry'], ['a', 'b'], '/work'), 1234), {
    KILN_LAMBDA_MAX_RESPONSE_BYTES: '1234',
    AWS_LAMBDA_FUNCTION_NAME: 'hello',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_TIMEOUT: '30',
    KILN_LAMBDA_INIT_TIMEOUT_MS: '10000',
    _HANDLER: 'index.handler',
    KILN_LAMBDA_COMMAND: '["/entry","a","index.handler"]',
    KILN_LAMBDA_WORKDIR: '/work',
  });
});

const daemonSettingCases: { name: string; env: Record<string, string>; want: Record<string, string> }[] = [
  { name: 'a daemon setting from config is dropped', env: { KILN_LAMBDA_API_ADDRESS: '127.0.0.1:9555', A: '1' }, want: { A: '1' } },
  { name: 'every one of them', env: { KILN_LAMBDA_SHUTDOWN_MS: '1', KILN_LAMBDA_EXTENSIONS_DIR: '/x', KILN_LAMBDA_HEADERS_TIMEOUT_MS: '1', KILN_LAMBDA_NEW: 'x' }, want: {} },
  { name: 'the system log level is a fn\'s to set', env: { KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'DEBUG' }, want: { KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'DEBUG' } },
  { name: 'other KILN_ names and look-alikes stay', env: { KILN_MYVAR: 'y', kiln_lambda_x: 'z', MY_KILN_LAMBDA_X: 'w' }, want: { KILN_MYVAR: 'y', kiln_lambda_x: 'z', MY_KILN_LAMBDA_X: 'w' } },
];
for (const c of daemonSettingCases) {
  test(`lambda env: ${c.name}`, () => {
    assert.deepEqual(withoutDaemonSettings(c.env), c.want);
  });
}

const nodeSettingCases: { name: string; imageEnv: Record<string, string>; env: Record<string, string>; want: Record<string, string> }[] = [
  { name: 'no Node settings: the env as it was', imageEnv: { PATH: '/bin' }, env: { A: '1' }, want: { A: '1' } },
  {
    name: "the config's NODE_OPTIONS is emptied for the daemon and kept for the runtime", imageEnv: {}, env: { NODE_OPTIONS: '--require ./t.js', A: '1' },
    want: { NODE_OPTIONS: '', A: '1', KILN_LAMBDA_NODE_ENV: '{"NODE_OPTIONS":"--require ./t.js"}' },
  },
  {
    name: "the image's own (which the engine would give the daemon) too", imageEnv: { NODE_OPTIONS: '--enable-source-maps', PATH: '/bin' }, env: {},
    want: { NODE_OPTIONS: '', KILN_LAMBDA_NODE_ENV: '{"NODE_OPTIONS":"--enable-source-maps"}' },
  },
  {
    name: "the config's wins over the image's, as in the container", imageEnv: { NODE_OPTIONS: '--image', NODE_PATH: '/opt/nodejs' }, env: { NODE_OPTIONS: '--config' },
    want: { NODE_OPTIONS: '', NODE_PATH: '', KILN_LAMBDA_NODE_ENV: '{"NODE_OPTIONS":"--config","NODE_PATH":"/opt/nodejs"}' },
  },
  {
    name: 'every NODE_ setting, an empty one too', imageEnv: {}, env: { NODE_DEBUG: 'http', NODE_EXTRA_CA_CERTS: '/c.pem', NODE_ENV: '' },
    want: { NODE_DEBUG: '', NODE_EXTRA_CA_CERTS: '', NODE_ENV: '', KILN_LAMBDA_NODE_ENV: '{"NODE_DEBUG":"http","NODE_EXTRA_CA_CERTS":"/c.pem","NODE_ENV":""}' },
  },
  { name: 'LD_PRELOAD too', imageEnv: { LD_PRELOAD: '/opt/lib/libjemalloc.so' }, env: {}, want: { LD_PRELOAD: '', KILN_LAMBDA_NODE_ENV: '{"LD_PRELOAD":"/opt/lib/libjemalloc.so"}' } },
  {
    name: 'look-alikes stay', imageEnv: {}, env: { MY_NODE_OPTIONS: 'x', node_options: 'y', UV_THREADPOOL_SIZE: '8', LD_LIBRARY_PATH: '/opt/lib', LD_PRELOAD_X: 'z' },
    want: { MY_NODE_OPTIONS: 'x', node_options: 'y', UV_THREADPOOL_SIZE: '8', LD_LIBRARY_PATH: '/opt/lib', LD_PRELOAD_X: 'z' },
  },
];
for (const c of nodeSettingCases) {
  test(`lambda env: ${c.name}`, () => {
    assert.deepEqual(withNodeSettingsKept(c.imageEnv, c.env), c.want);
  });
}

const imageEnvCases: { lines: string[]; want: Record<string, string> }[] = [
  { lines: [], want: {} },
  { lines: ['PATH=/usr/bin:/bin', 'NODE_OPTIONS=--max-old-space-size=100'], want: { PATH: '/usr/bin:/bin', NODE_OPTIONS: '--max-old-space-size=100' } },
  { lines: ['A=b=c', 'EMPTY=', 'BARE'], want: { A: 'b=c', EMPTY: '', BARE: '' } },
  { lines: ['=nameless', ''], want: {} },
];
for (const c of imageEnvCases) {
  test(`an image's ENV ${JSON.stringify(c.lines)}`, () => {
    assert.deepEqual(envOf(c.lines), c.want);
  });
}
