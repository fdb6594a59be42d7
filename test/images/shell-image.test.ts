// The kiln/shell base image against a real Docker engine: host bash, curl and the usual tools
// run read-only as 1000:1000 without a network, and an unchanged host is not re-imported.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspectImage } from '../../images/inspect.js';
import { ensureShellBaseImage, SHELL_BASE_LATEST, SHELL_BASE_REPO } from '../../images/shell-image.js';
import { docker } from '../helpers/images.js';
import { assertEnsureIsNoop, importFiles, leftoverContainers, runLocked } from '../helpers/base-images.js';

const client = docker();
let tag = '';

before(async () => {
  tag = await ensureShellBaseImage(client);
});

after(async () => {
  assert.equal((await leftoverContainers(client)).length, 0, 'containers left behind');
});

test('bash, curl, sleep and grep run read-only as 1000:1000 without a network', async () => {
  const r = await runLocked(client, SHELL_BASE_LATEST, ['bash', '-c', 'curl --version && sleep 0 && grep -q x <<< x && echo ok']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^curl \d/);
  assert.match(r.stdout, /\nok\n$/);
});

test('the tools a shell bootstrap uses work together', async () => {
  const script = [
    'set -eu',
    't=$(mktemp)',
    `printf 'a b\\nc d\\n' > "$t"`,
    `awk '{print $2}' "$t" | tr b x | sed s/d/y/ | sort -r | head -n 1 | tee -a "$t" >/dev/null`,
    'tail -n 1 "$t"; wc -l < "$t"; cut -d" " -f1 "$t" | uniq | tr -d "\\n"; echo',
    'mkdir /tmp/d && touch /tmp/d/f && ls /tmp/d && basename /tmp/d/f && dirname /tmp/d/f && rm -r /tmp/d "$t"',
    'id -u; env | grep -c ^PATH=; date +%Y | grep -qE "^[0-9]{4}$"',
    'sleep 30 & kill $! && wait $! || echo killed=$?',
    // Connection refused (7), not a missing resolver or library: curl itself works offline.
    'curl -sS http://localhost:9/ 2>/dev/null || echo curl=$?',
    'sh -c "echo sh-ok"',
  ].join('\n');
  const r = await runLocked(client, SHELL_BASE_LATEST, ['bash', '-c', script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'y\n3\nacy\nf\nf\n/tmp/d\n1000\n1\nkilled=143\ncurl=7\nsh-ok\n');
});

test('a second ensure is a no-op', async () => {
  assert.match(tag, /^kiln\/shell:[0-9a-f]{12}$/);
  const image = await assertEnsureIsNoop(client, tag, () => ensureShellBaseImage(client));
  assert.equal(image.Config.WorkingDir, '/var/task');
});

test('a rebuild untags the image it supersedes', async (t) => {
  // A stand-in for an image built from older host binaries, as the repo's latest.
  const repo = `kiln-test/shell-${process.pid}`;
  t.after(async () => {
    for (const img of await client.listImages({ filters: JSON.stringify({ reference: [repo] }) })) {
      await client.getImage(img.Id).remove({ force: true }).catch(() => {});
    }
  });
  await importFiles(client, `${repo}:old`, { old: 'old' });
  await client.getImage(`${repo}:old`).tag({ repo, tag: 'latest' });

  const built = await ensureShellBaseImage(client, { repo });
  assert.equal(built, tag.replace(SHELL_BASE_REPO, repo));
  assert.equal(await inspectImage(client, `${repo}:old`), null);
  assert.equal((await inspectImage(client, `${repo}:latest`))?.Id, (await inspectImage(client, built))?.Id);
});
