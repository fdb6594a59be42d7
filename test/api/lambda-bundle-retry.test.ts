// A Lambda runtime bundle that cannot be prepared at start-up for a host reason (TMPDIR full:
// a real 1 MB tmpfs; needs root) is prepared again once there is room, when a lambda call needs
// it: meanwhile those calls get 503 with Retry-After, and the log does not say `npm run build`.
// (Before, it was tried once: 501 for good until a restart.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sqliteDb } from '../helpers/db.js';
import { spawnServer } from '../helpers/process.js';
import { call } from '../helpers/server.js';
import { canMountTmpfs, withTmpfs } from '../helpers/tmpfs.js';

test('a bundle TMPDIR had no room for at start-up: lambda calls get 503 with Retry-After, and once there is room it is prepared again and they run', { timeout: 120_000 }, async (t) => {
  if (!canMountTmpfs()) return t.skip('mounting a tmpfs needs root');
  await withTmpfs('size=1m', async ({ dir: tmp, remount }) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-retry-'));
    const db = await sqliteDb();
    let srv: Awaited<ReturnType<typeof spawnServer>> | undefined;
    try {
      srv = await spawnServer({
        FN_DB_URL: db.url, FN_IOFS_PATH: join(dir, 'iofs'), TMPDIR: tmp, KILN_DOCKER_PULL: 'false', KILN_SHUTDOWN_GRACE_MSECS: '0',
      });
      const warned = srv.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
        .find((l) => /Lambda runtime bundle could not be prepared/.test(l.msg));
      assert.ok(warned, srv.output());
      assert.match(warned.err?.message ?? '', /ENOSPC/);
      assert.doesNotMatch(warned.msg, /npm run build/, 'a full TMPDIR is no missing build');
      assert.match(warned.msg, /503/);

      const app = await call<{ id: string }>(srv.url, 'POST', '/v2/apps', { name: 'bundle-retry' });
      // An image that is not there: once the bundle is ready, the call gets as far as the image.
      const fn = await call<{ id: string }>(srv.url, 'POST', '/v2/fns', { app_id: app.body.id, name: 'lam', image: 'kiln-test-absent-hostres:1', format: 'lambda' });
      assert.equal(fn.status, 200, JSON.stringify(fn.body));
      const first = await call<{ message: string }>(srv.url, 'POST', `/invoke/${fn.body.id}`, '{}');
      assert.equal(first.status, 503, JSON.stringify(first.body));
      assert.equal(first.headers.get('retry-after'), '15');
      assert.match(first.body.message, /Lambda runtime bundle, which this server cannot prepare at the moment/);

      // Room now (node is about 100 MB, copied across file systems).
      remount('size=512m');
      let last = first;
      for (let i = 0; i < 30 && last.status === 503; i++) {
        await sleep(2000);
        last = await call<{ message: string }>(srv.url, 'POST', `/invoke/${fn.body.id}`, '{}');
      }
      assert.equal(last.status, 502, `prepared again: the call reached the image (${JSON.stringify(last.body)})`);
      assert.match(last.body.message, /kiln-test-absent-hostres/);
      assert.match(srv.output(), /the Lambda runtime bundle is ready now/);
    } finally {
      await srv?.stop();
      rmSync(dir, { recursive: true, force: true });
      await db.cleanup();
    }
  });
});
