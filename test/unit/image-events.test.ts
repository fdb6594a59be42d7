// Which lines of the engine's image event stream point a name somewhere new. The tag, load,
// untag and save lines are this engine's own (Docker 20.10, captured with `docker events
// --format '{{json .}}'` around `docker tag`, `save`, `rmi` and `load`); the pull line has the
// shape moby's pull logs (Actor.ID the reference, name its repository), since no registry is
// reachable here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageEvent, type ImageEvent } from '../../drivers/docker/image-events.js';

const ID = 'sha256:4c86fd479ae7ab696bacfcbfc77dd15c7aa9bfa9207eab169cad15393e29d0bc';
const LABELS = { 'io.kiln.content-hash': 'e537b58a3fe33df3a746c1af1439977c4dc9379220708d2ecd2a57f9d96070c8', 'io.kiln.node-version': '20.20.2' };
const line = (action: string, actorId: string, name: string, type = 'image') => JSON.stringify({
  status: action, id: actorId, Type: type, Action: action, Actor: { ID: actorId, Attributes: { ...LABELS, name } },
  scope: 'local', time: 1796102377, timeNano: 1796102377445531380,
});

const cases: { name: string; line: string; want: ImageEvent | undefined }[] = [
  { name: 'tag (docker tag, a build, an import)', line: line('tag', ID, 'kiln-evtest/b:1'), want: { name: 'kiln-evtest/b:1', id: ID } },
  { name: 'pull: the reference is the actor', line: line('pull', 'busybox:1.36', 'busybox'), want: { name: 'busybox:1.36' } },
  { name: 'load: only the image id (its names are on the image)', line: line('load', ID, ID), want: { id: ID } },
  { name: 'untag (where the name went, the tag event says)', line: line('untag', ID, ID), want: undefined },
  { name: 'save', line: line('save', ID, ID), want: undefined },
  { name: 'delete', line: line('delete', ID, ID), want: undefined },
  { name: 'a tag event naming an id', line: line('tag', ID, ID), want: undefined },
  { name: 'a container event', line: line('tag', ID, 'x:1', 'container'), want: undefined },
  { name: 'a pull whose actor is an id', line: line('pull', ID, 'busybox'), want: undefined },
  { name: 'not JSON (a cut line)', line: '{"status":"tag","id":', want: undefined },
  { name: 'JSON null', line: 'null', want: undefined },
  { name: 'empty', line: '', want: undefined },
];

for (const c of cases) {
  test(`imageEvent: ${c.name}`, () => assert.deepEqual(imageEvent(c.line), c.want));
}
