// The credentials a pull sends, found at each pull from a real config file and real helper
// programs (shell scripts on PATH standing in for docker-credential-*).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { registryCredentials, type CredentialsOptions } from '../../drivers/docker/registry-credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-regcreds-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(dir, 'bin');
mkdirSync(bin);
const configFile = join(dir, 'config.json');
const IMAGE = 'localhost:5999/private/fn:1';

/** A docker-credential-<name> that runs `body` with the server address it was given in $addr. */
function helper(name: string, body: string): void {
  const path = join(bin, `docker-credential-${name}`);
  rmSync(path, { force: true });
  writeFileSync(path, `#!/bin/sh\n[ "$1" = get ] || exit 3\naddr=$(cat)\n${body}\n`);
  chmodSync(path, 0o755);
}

function credentials(extra: Partial<CredentialsOptions> = {}) {
  const warnings: { fields: object; msg: string }[] = [];
  const get = registryCredentials({
    configFile,
    log: { warn: (fields, msg) => warnings.push({ fields, msg }) },
    helperEnv: { PATH: `${bin}:/usr/bin:/bin` },
    ...extra,
  });
  return { get, warnings };
}
const writeConfig = (config: unknown): void => writeFileSync(configFile, typeof config === 'string' ? config : JSON.stringify(config));

test('credential lookups', async (t) => {
  await t.test('no config file: none, and no warning', async () => {
    rmSync(configFile, { force: true });
    const c = credentials();
    assert.equal(await c.get(IMAGE), undefined);
    assert.deepEqual(c.warnings, []);
  });

  await t.test("the registry's entry, read again at each pull", async () => {
    const c = credentials();
    writeConfig({ auths: { 'localhost:5999': { auth: 'dXNlcjpwYXNz' } } });
    assert.deepEqual(await c.get(IMAGE), { username: 'user', password: 'pass', serveraddress: 'localhost:5999' });
    writeConfig({ auths: { 'https://localhost:5999': { username: 'later', password: 'login' } } });
    assert.deepEqual(await c.get(IMAGE), { username: 'later', password: 'login', serveraddress: 'https://localhost:5999' });
    assert.equal(await c.get('localhost:6000/private/fn:1'), undefined, 'another registry gets none');
    assert.deepEqual(c.warnings, []);
  });

  await t.test("a credHelper gets the server address on stdin; its answer is the pull's", async () => {
    helper('kilntest', 'printf \'{"ServerURL":"%s","Username":"from-%s","Secret":"s3cret"}\' "$addr" "$addr"');
    writeConfig({ auths: { 'localhost:5999': { auth: 'dXNlcjpwYXNz' } }, credHelpers: { 'localhost:5999': 'kilntest' } });
    const c = credentials();
    assert.deepEqual(await c.get(IMAGE), { username: 'from-localhost:5999', password: 's3cret', serveraddress: 'localhost:5999' });
    writeConfig({ credsStore: 'kilntest' });
    assert.deepEqual(await c.get('fnproject/hello'), { username: 'from-https://index.docker.io/v1/', password: 's3cret', serveraddress: 'https://index.docker.io/v1/' });
    assert.deepEqual(c.warnings, []);
  });

  await t.test('a helper\'s "<token>" user is an identity token', async () => {
    helper('kilntoken', 'echo \'{"Username":"<token>","Secret":"id-tok"}\'');
    writeConfig({ credsStore: 'kilntoken' });
    assert.deepEqual(await credentials().get(IMAGE), { identitytoken: 'id-tok', serveraddress: 'localhost:5999' });
  });

  const failures: { name: string; setup: () => void; says: RegExp; timeoutMs?: number }[] = [
    { name: 'a helper not on PATH', setup: () => writeConfig({ credsStore: 'nope' }), says: /credential helper docker-credential-nope failed for localhost:5999: it is not on PATH/ },
    {
      name: 'a helper that finds nothing',
      setup: () => {
        helper('empty', 'echo "credentials not found in native keychain"; exit 1');
        writeConfig({ credHelpers: { 'localhost:5999': 'empty' } });
      },
      says: /docker-credential-empty failed for localhost:5999: it exited with 1: credentials not found in native keychain/,
    },
    {
      name: 'a helper that does not answer',
      setup: () => {
        helper('slow', 'exec sleep 5');
        writeConfig({ credsStore: 'slow' });
      },
      timeoutMs: 200,
      says: /docker-credential-slow failed for localhost:5999: no answer within 200 ms/,
    },
    {
      name: 'a helper that answers nonsense',
      setup: () => {
        helper('garbled', 'echo "s3cret but not JSON"');
        writeConfig({ credsStore: 'garbled' });
      },
      says: /credential helper docker-credential-garbled: the helper's answer is not JSON/,
    },
    { name: 'a config file that is not JSON', setup: () => writeConfig('{"auths": {"localhost:5999": {"auth": "s3cret"'), says: /the Docker config is not JSON/ },
    { name: 'an auth that is not base64 user:password', setup: () => writeConfig({ auths: { 'localhost:5999': { auth: 's3cret' } } }), says: /the "auth" of "localhost:5999" is not base64/ },
  ];
  for (const f of failures) {
    await t.test(`${f.name}: no credentials, one warning that names it and no secret`, async () => {
      f.setup();
      const c = credentials(f.timeoutMs === undefined ? {} : { helperTimeoutMs: f.timeoutMs });
      assert.equal(await c.get(IMAGE), undefined);
      assert.equal(c.warnings.length, 1, JSON.stringify(c.warnings));
      assert.match(c.warnings[0]!.msg, /^pulling without credentials: /);
      assert.match(c.warnings[0]!.msg, f.says);
      assert.deepEqual(c.warnings[0]!.fields, { file: configFile, image: IMAGE });
      assert.ok(!JSON.stringify(c.warnings).includes('s3cret'), JSON.stringify(c.warnings));
    });
  }

  await t.test('FN_DOCKER_AUTH, when set, is the only source (as in Fn)', async () => {
    writeConfig({ auths: { 'localhost:5999': { auth: 'dXNlcjpwYXNz' }, 'other:1': { auth: 'dXNlcjpwYXNz' } } });
    const c = credentials({ fnDockerAuth: { 'https://localhost:5999': { auth: Buffer.from('fn:auth').toString('base64') } } });
    assert.deepEqual(await c.get(IMAGE), { username: 'fn', password: 'auth', serveraddress: 'https://localhost:5999' });
    assert.equal(await c.get('other:1/x'), undefined);
  });
});
