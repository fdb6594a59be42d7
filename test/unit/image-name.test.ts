import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { formatImage, ImageRefError, parseImage, type ImageRef } from '../../drivers/image-name.js';

const SHA = `sha256:${createHash('sha256').update('kiln').digest('hex')}`;

const valid: { ref: string; expected: ImageRef; formatted: string }[] = [
  {
    ref: 'node',
    expected: { registry: 'docker.io', repo: 'library/node', tag: 'latest' },
    formatted: 'docker.io/library/node:latest',
  },
  {
    ref: 'node:20',
    expected: { registry: 'docker.io', repo: 'library/node', tag: '20' },
    formatted: 'docker.io/library/node:20',
  },
  {
    ref: 'fnproject/hello',
    expected: { registry: 'docker.io', repo: 'fnproject/hello', tag: 'latest' },
    formatted: 'docker.io/fnproject/hello:latest',
  },
  {
    ref: 'fnproject/hello:0.0.1',
    expected: { registry: 'docker.io', repo: 'fnproject/hello', tag: '0.0.1' },
    formatted: 'docker.io/fnproject/hello:0.0.1',
  },
  {
    ref: 'localhost/foo',
    expected: { registry: 'localhost', repo: 'foo', tag: 'latest' },
    formatted: 'localhost/foo:latest',
  },
  {
    ref: 'localhost:5000/foo',
    expected: { registry: 'localhost:5000', repo: 'foo', tag: 'latest' },
    formatted: 'localhost:5000/foo:latest',
  },
  {
    ref: 'localhost:5000/foo/bar:1',
    expected: { registry: 'localhost:5000', repo: 'foo/bar', tag: '1' },
    formatted: 'localhost:5000/foo/bar:1',
  },
  {
    ref: 'my.registry.io/a/b/c:tag',
    expected: { registry: 'my.registry.io', repo: 'a/b/c', tag: 'tag' },
    formatted: 'my.registry.io/a/b/c:tag',
  },
  {
    ref: 'registry:5000/x',
    expected: { registry: 'registry:5000', repo: 'x', tag: 'latest' },
    formatted: 'registry:5000/x:latest',
  },
  {
    // No slash, so nothing is a registry: Docker reads this as Hub image "localhost", tag 5000.
    ref: 'localhost:5000',
    expected: { registry: 'docker.io', repo: 'library/localhost', tag: '5000' },
    formatted: 'docker.io/library/localhost:5000',
  },
  {
    ref: 'docker.io/node',
    expected: { registry: 'docker.io', repo: 'library/node', tag: 'latest' },
    formatted: 'docker.io/library/node:latest',
  },
  {
    ref: 'index.docker.io/fnproject/hello',
    expected: { registry: 'docker.io', repo: 'fnproject/hello', tag: 'latest' },
    formatted: 'docker.io/fnproject/hello:latest',
  },
  {
    ref: 'My.Registry.io/app',
    expected: { registry: 'My.Registry.io', repo: 'app', tag: 'latest' },
    formatted: 'My.Registry.io/app:latest',
  },
  {
    ref: '[::1]:5000/app',
    expected: { registry: '[::1]:5000', repo: 'app', tag: 'latest' },
    formatted: '[::1]:5000/app:latest',
  },
  {
    ref: 'a.b/my_app__x.y-z---w:V1_2.3-rc',
    expected: { registry: 'a.b', repo: 'my_app__x.y-z---w', tag: 'V1_2.3-rc' },
    formatted: 'a.b/my_app__x.y-z---w:V1_2.3-rc',
  },
  {
    ref: `node:${'t'.repeat(128)}`,
    expected: { registry: 'docker.io', repo: 'library/node', tag: 't'.repeat(128) },
    formatted: `docker.io/library/node:${'t'.repeat(128)}`,
  },
  {
    ref: `node@${SHA}`,
    expected: { registry: 'docker.io', repo: 'library/node', tag: 'latest', digest: SHA },
    formatted: `docker.io/library/node:latest@${SHA}`,
  },
  {
    ref: `node:20@${SHA}`,
    expected: { registry: 'docker.io', repo: 'library/node', tag: '20', digest: SHA },
    formatted: `docker.io/library/node:20@${SHA}`,
  },
  {
    ref: `localhost:5000/foo/bar@${SHA}`,
    expected: { registry: 'localhost:5000', repo: 'foo/bar', tag: 'latest', digest: SHA },
    formatted: `localhost:5000/foo/bar:latest@${SHA}`,
  },
];
for (const c of valid) {
  test(`parseImage accepts ${c.ref.length > 60 ? `${c.ref.slice(0, 60)}…` : c.ref}`, () => {
    const parsed = parseImage(c.ref);
    assert.deepEqual(parsed, c.expected);
    assert.equal(formatImage(parsed), c.formatted);
    // The canonical form must itself parse back to the same reference.
    assert.deepEqual(parseImage(c.formatted), c.expected);
  });
}

const invalid: { name: string; ref: string; message: RegExp }[] = [
  { name: 'empty', ref: '', message: /is empty/ },
  { name: 'uppercase in a Hub repo', ref: 'Node', message: /"Node" must be lowercase/ },
  { name: 'uppercase in a registry repo path', ref: 'localhost:5000/Foo/bar', message: /"Foo" must be lowercase/ },
  { name: 'uppercase first segment is not a registry', ref: 'Fnproject/hello', message: /"Fnproject" must be lowercase/ },
  { name: 'a space', ref: 'fnproject/ hello', message: /whitespace/ },
  { name: 'a trailing newline', ref: 'node\n', message: /whitespace/ },
  { name: 'a doubled slash', ref: 'a//b', message: /empty component/ },
  { name: 'a leading slash', ref: '/foo', message: /empty component/ },
  { name: 'a trailing slash', ref: 'foo/', message: /empty component/ },
  { name: 'a registry with no repository', ref: 'localhost:5000/', message: /empty component/ },
  { name: 'only a tag', ref: ':latest', message: /names no repository/ },
  { name: 'an empty tag', ref: 'node:', message: /tag after ":" is empty/ },
  { name: 'a tag with an invalid character', ref: 'node:v1+2', message: /tag "v1\+2" may only contain/ },
  { name: 'a tag starting with "."', ref: 'node:.hidden', message: /must not start with/ },
  { name: 'a tag starting with "-"', ref: 'node:-x', message: /must not start with/ },
  { name: 'a tag of 129 characters', ref: `node:${'t'.repeat(129)}`, message: /longer than 128 characters/ },
  { name: 'a path component ending in a separator', ref: 'foo-/bar', message: /"foo-" may only contain/ },
  { name: 'a triple underscore', ref: 'foo___bar', message: /"foo___bar" may only contain/ },
  { name: 'an underscore in the registry', ref: 'my_registry.io/app', message: /registry "my_registry.io" is not a valid/ },
  { name: 'a non-numeric port', ref: 'registry:http/x', message: /registry "registry:http" is not a valid/ },
  { name: 'a name over 255 characters', ref: `a/${'b'.repeat(254)}`, message: /name is longer than 255/ },
  { name: 'an empty digest', ref: 'node@', message: /digest after "@" is empty/ },
  { name: 'a digest with no algorithm', ref: `node@${SHA.slice(7)}`, message: /not of the form algorithm:hex/ },
  { name: 'a short sha256 digest', ref: `node@${SHA.slice(0, -1)}`, message: /64 lowercase hex/ },
  { name: 'an uppercase sha256 digest', ref: `node@${SHA.toUpperCase().replace('SHA256', 'sha256')}`, message: /64 lowercase hex/ },
  { name: 'two digests', ref: `node@${SHA}@${SHA}`, message: /not of the form algorithm:hex/ },
];
for (const c of invalid) {
  test(`parseImage rejects ${c.name}`, () => {
    assert.throws(
      () => parseImage(c.ref),
      (err: unknown) => {
        assert.ok(err instanceof ImageRefError, `expected an ImageRefError, got ${String(err)}`);
        assert.equal(err.name, 'ImageRefError');
        assert.equal(err.ref, c.ref);
        assert.ok(err.message.startsWith(`invalid image reference ${JSON.stringify(c.ref)}: `), err.message);
        assert.match(err.message, c.message);
        return true;
      },
    );
  });
}
