// The web view's entry: renders the view the location hash names into <main>, again on every
// hash change. Everything it shows comes from the HTTP API through api.ts.
import { Api, ApiError } from './api.js';
import { h } from './dom.js';
import { parseRoute, type Route } from './router.js';
import { appView } from './views/app.js';
import { appsView } from './views/apps.js';
import { callView } from './views/call.js';
import { errorBox, link, type View } from './views/common.js';
import { fnView } from './views/fn.js';
import { signInView } from './views/sign-in.js';
import { forgetStoredToken, TokenStore } from './token.js';

function render(api: Api, route: Route): Promise<View> {
  switch (route.view) {
    case 'apps':
      return appsView(api, route.cursor);
    case 'app':
      return appView(api, route.appId);
    case 'fn':
      return fnView(api, route.fnId, route.cursor);
    case 'call':
      return callView(api, route.fnId, route.callId);
    case 'notFound':
      return Promise.resolve({
        title: 'Not found',
        body: h('div', { class: 'view' }, h('h1', {}, 'Not found'), h('p', {}, 'Nothing here: ', h('code', {}, `#${route.path}`), '. ', link({ view: 'apps' }, 'All apps'))),
      });
  }
}

function main(): void {
  forgetStoredToken(window);
  const tokens = new TokenStore();
  const api = new Api('', undefined, () => tokens.get());
  const mainEl = document.getElementById('main');
  if (!mainEl) return;
  const signOut = document.getElementById('sign-out');
  // Each render has a number; one that finishes after a newer one started is dropped.
  let current = 0;

  /** Renders the route's view; `moved`: a new view (not a refresh), which starts at its top. */
  const show = async (moved = true): Promise<void> => {
    const n = ++current;
    mainEl.setAttribute('aria-busy', 'true');
    let view: View;
    try {
      view = await render(api, parseRoute(location.hash));
    } catch (err) {
      view = err instanceof ApiError && err.status === 401
        ? signInView(err.message, (token) => {
          tokens.set(token);
          void show();
        })
        : { title: 'Error', body: h('div', { class: 'view' }, h('h1', {}, 'Error'), errorBox(err), h('p', {}, link({ view: 'apps' }, '← All apps'))) };
    }
    if (n !== current) return;
    if (signOut) signOut.hidden = tokens.get() === undefined;
    document.title = `${view.title} · Kiln`;
    mainEl.replaceChildren(view.body);
    mainEl.removeAttribute('aria-busy');
    if (moved) {
      // The last view's scroll and focus mean nothing here; a screen reader reads the new heading.
      window.scrollTo(0, 0);
      const heading = mainEl.querySelector('h1');
      heading?.setAttribute('tabindex', '-1');
      heading?.focus({ preventScroll: true });
    }
  };

  window.addEventListener('hashchange', () => void show());
  document.getElementById('refresh')?.addEventListener('click', () => void show(false));
  signOut?.addEventListener('click', () => {
    tokens.clear();
    void show();
  });
  void show();

  const version = document.getElementById('version');
  if (version) {
    api.version().then(
      (v) => {
        version.textContent = `v${v.version}`;
      },
      () => undefined, // the views say when the server cannot be reached
    );
  }
}

main();
