// cli/docker.ts: the CLI's engine client, from DOCKER_HOST.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerFromEnv } from '../../cli/docker.js';

/** docker-modem reads DOCKER_HOST and DOCKER_CLIENT_TIMEOUT from process.env itself, whatever env the CLI passes. */
function withProcessEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('DOCKER_CLIENT_TIMEOUT is not applied: docker-modem would cut every request quiet that long (a build step)', () => {
  for (const host of ['tcp://127.0.0.1:2375', 'unix:///var/run/docker.sock']) {
    const docker = withProcessEnv({ DOCKER_HOST: host, DOCKER_CLIENT_TIMEOUT: '5000' }, () => dockerFromEnv(process.env));
    assert.ok(!(docker.modem as { timeout?: number }).timeout, `${host}: timeout ${(docker.modem as { timeout?: number }).timeout}`);
  }
});

test('DOCKER_HOST: a tcp address, and a unix socket', () => {
  const tcp = dockerFromEnv({ DOCKER_HOST: 'tcp://10.0.0.2:2375' });
  assert.equal((tcp.modem as { host?: string }).host, '10.0.0.2');
  assert.equal((tcp.modem as { port?: number }).port, 2375);
  const unix = dockerFromEnv({ DOCKER_HOST: 'unix:///tmp/d.sock' });
  assert.equal((unix.modem as { socketPath?: string }).socketPath, '/tmp/d.sock');
});
