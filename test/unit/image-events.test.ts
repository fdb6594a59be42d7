// Which lines of the engine's event stream name an image rebuilt under its name (the agent then
// retires that image's containers): the daemon's own JSON, as `docker events` shows it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retaggedImage } from '../../drivers/docker/driver.js';

const event = (action: string, name: unknown, type = 'image') =>
  JSON.stringify({ status: action, id: 'sha256:4c86', Type: type, Action: action, Actor: { ID: 'sha256:4c86', Attributes: { name } }, scope: 'local' });

const cases: { name: string; line: string; want: string | undefined }[] = [
  { name: 'a build or docker tag', line: event('tag', 'kiln-test/a:1'), want: 'kiln-test/a:1' },
  { name: 'a pull', line: event('pull', 'registry.example:5000/team/fn:latest'), want: 'registry.example:5000/team/fn:latest' },
  { name: 'a load', line: event('load', 'fn:2'), want: 'fn:2' },
  { name: 'an import', line: event('import', 'kiln/node:20'), want: 'kiln/node:20' },
  { name: 'an untag (the name moved away: the tag event says where)', line: event('untag', 'sha256:30ea'), want: undefined },
  { name: 'a delete', line: event('delete', 'sha256:30ea'), want: undefined },
  { name: 'a tag named by an image id', line: event('tag', 'sha256:30ea'), want: undefined },
  { name: 'a container event', line: event('tag', 'x:1', 'container'), want: undefined },
  { name: 'no name', line: event('tag', undefined), want: undefined },
  { name: 'a name that is not a string', line: event('tag', 7), want: undefined },
  { name: 'not JSON (a cut line)', line: '{"status":"tag","id":', want: undefined },
  { name: 'JSON null', line: 'null', want: undefined },
  { name: 'empty', line: '', want: undefined },
];

for (const c of cases) {
  test(`retaggedImage: ${c.name}`, () => assert.equal(retaggedImage(c.line), c.want));
}
