// Which credentials a pull sends, from the Docker config's and FN_DOCKER_AUTH's text (drivers/docker/registry-auth.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  credentialSource, DOCKER_HUB_KEY, entryCredentials, findEntry, helperCredentials, parseDockerConfig,
  parseFnDockerAuth, registryKey, RegistryAuthError, type AuthEntries, type CredentialSource, type DockerConfig,
} from '../../drivers/docker/registry-auth.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const keys: { image: string; key: string }[] = [
  { image: 'node', key: DOCKER_HUB_KEY },
  { image: 'fnproject/hello:0.0.1', key: DOCKER_HUB_KEY },
  { image: 'docker.io/fnproject/hello', key: DOCKER_HUB_KEY },
  { image: 'index.docker.io/fnproject/hello', key: DOCKER_HUB_KEY },
  { image: 'localhost:5999/private/fn:1', key: 'localhost:5999' },
  { image: 'localhost/fn', key: 'localhost' },
  { image: 'registry.example.com/team/fn@sha256:' + 'a'.repeat(64), key: 'registry.example.com' },
  { image: '127.0.0.1:5000/fn:2', key: '127.0.0.1:5000' },
  { image: 'phx.ocir.io/tenancy/repo/fn:0.0.3', key: 'phx.ocir.io' },
];
for (const c of keys) {
  test(`registryKey(${c.image}) is ${c.key}`, () => assert.equal(registryKey(c.image), c.key));
}

const entries: AuthEntries = {
  'localhost:5999': { auth: b64('exact:1') },
  'https://registry.example.com': { auth: b64('https:1') },
  'http://plain.example.com/v1/': { auth: b64('http:1') },
  'https://ported.example.com:5000/v2/': { auth: b64('ported:1') },
  'https://index.docker.io/v2/': { auth: b64('hub-v2:1') },
  'other.example.com': { auth: b64('other:1') },
};
const finds: { name: string; entries: AuthEntries; key: string; want: string | undefined }[] = [
  { name: 'the exact key', entries, key: 'localhost:5999', want: 'localhost:5999' },
  { name: 'an https:// key of the host', entries, key: 'registry.example.com', want: 'https://registry.example.com' },
  { name: 'an http:// key with a path', entries, key: 'plain.example.com', want: 'http://plain.example.com/v1/' },
  { name: 'a key with the port', entries, key: 'ported.example.com:5000', want: 'https://ported.example.com:5000/v2/' },
  { name: 'not the host without its port', entries, key: 'ported.example.com', want: undefined },
  { name: 'not another port', entries, key: 'localhost:5000', want: undefined },
  // Fn matches a parent domain too; that would send one host's secret to another.
  { name: 'not a parent domain', entries, key: 'example.com', want: undefined },
  { name: 'not a subdomain', entries, key: 'a.other.example.com', want: undefined },
  { name: "Docker Hub's under another URL of its host", entries, key: DOCKER_HUB_KEY, want: 'https://index.docker.io/v2/' },
  { name: "Docker Hub's own key first", entries: { ...entries, [DOCKER_HUB_KEY]: { auth: b64('hub:1') } }, key: DOCKER_HUB_KEY, want: DOCKER_HUB_KEY },
  { name: 'Docker Hub written as its host', entries: { 'index.docker.io': {} }, key: DOCKER_HUB_KEY, want: 'index.docker.io' },
  { name: "a registry called like Hub's key is not Hub", entries: { 'index.docker.io': {} }, key: 'registry.example.com', want: undefined },
  { name: 'no entries', entries: {}, key: 'localhost:5999', want: undefined },
  { name: 'an entry named like an Object member', entries: {}, key: 'constructor', want: undefined },
];
for (const c of finds) {
  test(`findEntry: ${c.name}`, () => assert.equal(findEntry(c.entries, c.key)?.key, c.want));
}

const creds: { name: string; entry: AuthEntries[string]; want: object | undefined }[] = [
  { name: 'auth is base64 user:password', entry: { auth: 'dXNlcjpwYXNz' }, want: { username: 'user', password: 'pass' } },
  { name: 'the password may hold colons', entry: { auth: b64('user:pa:ss') }, want: { username: 'user', password: 'pa:ss' } },
  { name: 'auth wins over username and password', entry: { auth: b64('a:b'), username: 'x', password: 'y' }, want: { username: 'a', password: 'b' } },
  { name: 'username and password', entry: { username: 'u', password: 'p' }, want: { username: 'u', password: 'p' } },
  { name: 'an identity token', entry: { identitytoken: 'tok' }, want: { identitytoken: 'tok' } },
  { name: 'auth and an identity token', entry: { auth: b64('u:'), identitytoken: 'tok' }, want: { username: 'u', identitytoken: 'tok' } },
  { name: 'an empty entry, as docker login leaves beside a helper', entry: {}, want: undefined },
  { name: 'an empty auth', entry: { auth: '' }, want: undefined },
];
for (const c of creds) {
  test(`entryCredentials: ${c.name}`, () => {
    const got = entryCredentials(c.entry, 'r.example');
    assert.deepEqual(got, c.want && { ...c.want, serveraddress: 'r.example' });
  });
}
for (const auth of ['!!!', b64('no-colon'), 'dXNlcjpwYXNz!']) {
  test(`entryCredentials refuses auth ${JSON.stringify(auth)}`, () => {
    assert.throws(() => entryCredentials({ auth }, 'r.example'), (err: unknown) => err instanceof RegistryAuthError && /"r\.example" is not base64 of user:password/.test(err.message));
  });
}

const sources: { name: string; config: DockerConfig; key: string; want: CredentialSource }[] = [
  { name: 'the entry', config: { auths: { 'r.example': { auth: 'x' } } }, key: 'r.example', want: { key: 'r.example', entry: { auth: 'x' } } },
  { name: 'credsStore over the entry', config: { auths: { 'r.example': {} }, credsStore: 'desktop' }, key: 'r.example', want: { helper: 'desktop' } },
  { name: "the registry's credHelper over credsStore", config: { credsStore: 'desktop', credHelpers: { 'r.example': 'ecr-login' } }, key: 'r.example', want: { helper: 'ecr-login' } },
  { name: "another registry's credHelper is not this one's", config: { auths: { 'r.example': { auth: 'x' } }, credHelpers: { 'o.example': 'gcr' } }, key: 'r.example', want: { key: 'r.example', entry: { auth: 'x' } } },
  { name: "Docker Hub's credHelper under its key", config: { credHelpers: { [DOCKER_HUB_KEY]: 'hub' } }, key: DOCKER_HUB_KEY, want: { helper: 'hub' } },
  { name: 'nothing', config: {}, key: 'r.example', want: undefined },
];
for (const c of sources) {
  test(`credentialSource: ${c.name}`, () => assert.deepEqual(credentialSource(c.config, c.key), c.want));
}

test('parseDockerConfig reads auths, credsStore and credHelpers, and ignores the rest', () => {
  const text = JSON.stringify({ auths: { 'r.example': { auth: 'x', email: 'e' } }, credsStore: 'desktop', credHelpers: { a: 'b' }, proxies: {}, psFormat: 'x' });
  assert.deepEqual(parseDockerConfig(text), { auths: { 'r.example': { auth: 'x' } }, credsStore: 'desktop', credHelpers: { a: 'b' } });
});
for (const [name, text] of [['not JSON', '{"auths": {"r": {"auth": "secret"}'], ['auths not an object', '{"auths": "secret"}'], ['a credHelper not a name', '{"credHelpers": {"r": 1}}']] as const) {
  test(`parseDockerConfig refuses ${name}, quoting no secret`, () => {
    assert.throws(() => parseDockerConfig(text), (err: unknown) => err instanceof RegistryAuthError && !err.message.includes('secret'));
  });
}

const fnForms: { name: string; text: string; want: AuthEntries }[] = [
  { name: "config.json's form", text: '{"auths":{"https://my.registry.com":{"auth":"dXNlcjpwYXNz"}}}', want: { 'https://my.registry.com': { auth: 'dXNlcjpwYXNz' } } },
  { name: ".dockercfg's bare form", text: '{"my.registry.com":{"auth":"dXNlcjpwYXNz","email":"e@x"}}', want: { 'my.registry.com': { auth: 'dXNlcjpwYXNz' } } },
  { name: 'nothing', text: '{}', want: {} },
  { name: 'auths with nothing', text: '{"auths":{}}', want: {} },
];
for (const c of fnForms) {
  test(`parseFnDockerAuth: ${c.name}`, () => assert.deepEqual(parseFnDockerAuth(c.text), c.want));
}

const helperAnswers: { name: string; stdout: string; want: object | undefined }[] = [
  { name: 'a user and secret', stdout: '{"ServerURL":"r.example","Username":"u","Secret":"s"}', want: { username: 'u', password: 's' } },
  { name: 'an identity token', stdout: '{"Username":"<token>","Secret":"tok"}', want: { identitytoken: 'tok' } },
  { name: 'no secret', stdout: '{"Username":"u","Secret":""}', want: undefined },
];
for (const c of helperAnswers) {
  test(`helperCredentials: ${c.name}`, () => assert.deepEqual(helperCredentials(c.stdout, 'r.example'), c.want && { ...c.want, serveraddress: 'r.example' }));
}
test('helperCredentials refuses what is not its JSON', () => {
  assert.throws(() => helperCredentials('credentials not found', 'r.example'), RegistryAuthError);
  assert.throws(() => helperCredentials('{"Username": 1}', 'r.example'), RegistryAuthError);
});
