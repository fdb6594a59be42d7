// The web view against a server with KILN_AUTH_TOKENS: happy-dom runs the built bundle, which
// must ask for a token, refuse a wrong one with the server's message, show the data with the
// right one, and forget it on request. Also the token store's own rules.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, type BrowserPage } from 'happy-dom';
import { forgetStoredToken, LEGACY_KEY, TOKEN_SHAPE, TokenStore, type KeyValueStorage } from '../../web/token.js';
import { sqliteDb, type TestDb } from '../helpers/db.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'web-view-token-0123456789';

class MemoryStorage implements KeyValueStorage {
  readonly data = new Map<string, string>();
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
  removeItem(key: string): void {
    this.data.delete(key);
  }
}

test('TokenStore keeps a trimmed token in memory, clears on empty; a token an earlier page stored is removed', () => {
  const store = new TokenStore();
  assert.equal(store.get(), undefined);
  store.set('  abc  ');
  assert.equal(store.get(), 'abc');
  store.set('   ');
  assert.equal(store.get(), undefined);
  store.set('x');
  store.clear();
  assert.equal(store.get(), undefined);
  // Earlier versions kept it in sessionStorage, where a trigger's page (same origin) could read it.
  const storage = new MemoryStorage();
  storage.setItem(LEGACY_KEY, 'left-behind');
  storage.setItem('other', 'kept');
  forgetStoredToken({ sessionStorage: storage });
  assert.deepEqual([...storage.data], [['other', 'kept']]);
  // Reading sessionStorage itself may throw where storage is blocked: nothing to remove then.
  forgetStoredToken({ get sessionStorage(): KeyValueStorage { throw new Error('SecurityError'); } });
});

test('TOKEN_SHAPE: what may follow Bearer', () => {
  for (const ok of ['abc', 'a-b.c_d~e+f/g', 'Zm9v==']) assert.ok(TOKEN_SHAPE.test(ok), ok);
  for (const bad of ['', 'a b', '“quoted”', 'tok=en', '=abc', 'é']) assert.ok(!TOKEN_SHAPE.test(bad), bad);
});

describe('web view on a server that needs a token', { timeout: 60_000 }, () => {
  let db: TestDb;
  let srv: TestServer;
  let browser: Browser;
  let page: BrowserPage;
  const doc = () => page.mainFrame.document;
  const text = (selector: string): string => doc().querySelector(selector)?.textContent ?? '';

  /** Waits until `ready` holds for the rendered page. */
  async function until(ready: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await page.waitUntilComplete();
      if (!doc().getElementById('main')!.hasAttribute('aria-busy') && ready()) return;
      if (Date.now() > deadline) throw new Error(`${what}: ${doc().getElementById('main')!.textContent}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const signOutHidden = (): boolean => doc().getElementById('sign-out')!.hasAttribute('hidden');

  function submitToken(token: string): void {
    const form = doc().querySelector('form.sign-in')!;
    (form.querySelector('input[name="token"]') as unknown as { value: string }).value = token;
    (form.querySelector('button') as unknown as { click(): void }).click();
  }

  before(async () => {
    db = await sqliteDb();
    srv = await startServer(db.url, { KILN_AUTH_TOKENS: TOKEN });
    const app = await call(srv.url, 'POST', '/v2/apps', { name: 'secret-shop' }, { authorization: `Bearer ${TOKEN}` });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    browser = new Browser({ settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true } });
    page = browser.newPage();
    await page.goto(`${srv.url}/ui/`);
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
    await db?.cleanup();
  });

  test('asks for a token, refuses a wrong one, shows the apps with the right one, forgets it', async () => {
    await until(() => doc().querySelector('form.sign-in') !== null, 'no sign-in form');
    assert.match(text('main .error .message'), /Authentication required/);
    assert.equal(signOutHidden(), true, 'nothing to forget yet');
    assert.doesNotMatch(doc().getElementById('main')!.textContent ?? '', /secret-shop/);

    // A token no header can carry is refused in the page, before any request.
    submitToken('“pasted quotes”');
    await until(() => /A token has only the characters/.test(text('form.sign-in .token-problem')), 'a malformed token was not refused');

    submitToken('not-the-token-at-all');
    await until(() => /Invalid authentication token/.test(text('main .error .message')), 'the wrong token was not refused');
    assert.ok(doc().querySelector('form.sign-in'));

    submitToken(` ${TOKEN} `);
    await until(() => /secret-shop/.test(doc().getElementById('main')!.textContent ?? ''), 'the apps did not show');
    assert.equal(doc().querySelector('form.sign-in'), null);
    assert.equal(signOutHidden(), false);
    // Not in the origin's storage, where a trigger's page (same origin) could read it.
    const win = page.mainFrame.window;
    assert.equal(win.sessionStorage.length, 0);
    assert.equal(win.localStorage.length, 0);

    (doc().getElementById('sign-out') as unknown as { click(): void }).click();
    await until(() => doc().querySelector('form.sign-in') !== null, 'forgetting the token did not ask again');
    assert.equal(signOutHidden(), true);
  });
});
