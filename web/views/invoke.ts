// The fn page's invoke form: a body, a content type, a button; shows what came back.
import type { Api, InvokeReply } from '../api.js';
import { h } from '../dom.js';
import { formatDuration } from '../format.js';
import { code, errorBox, link } from './common.js';

/** The most of an answer's body the page shows; a bigger one is cut with a note. */
export const MAX_SHOWN_BODY = 100_000;

function replyView(fnId: string, r: InvokeReply): HTMLElement {
  const callId = r.headers.find(([name]) => name === 'fn-call-id')?.[1];
  const cut = r.body.length > MAX_SHOWN_BODY;
  return h(
    'div',
    { class: 'invoke-result' },
    h(
      'p',
      { class: `invoke-status ${r.status < 400 ? 'ok' : 'failed'}` },
      h('strong', {}, `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}`),
      ` in ${formatDuration(r.ms)}`,
      callId ? [' · call ', link({ view: 'call', fnId, callId }, code(callId))] : null,
    ),
    h('table', { class: 'headers' }, h('tbody', {}, r.headers.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v))))),
    h('pre', { class: 'invoke-body' }, cut ? r.body.slice(0, MAX_SHOWN_BODY) : r.body),
    cut ? h('p', { class: 'note' }, `The body is ${r.body.length} characters; the first ${MAX_SHOWN_BODY} are shown.`) : null,
  );
}

export function invokeForm(api: Api, fnId: string): HTMLElement {
  const body = h('textarea', { name: 'body', rows: 5, spellcheck: 'false', placeholder: '{"name": "you"}' });
  const contentType = h('input', { name: 'content-type', type: 'text', value: 'text/plain', size: 28 });
  const button = h('button', { type: 'submit' }, 'Invoke');
  const out = h('div', { class: 'invoke-output', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'invoke' },
    h('label', {}, 'Body', body),
    h('label', {}, 'Content-Type ', contentType),
    button,
    out,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    button.disabled = true;
    out.replaceChildren(h('p', { class: 'loading' }, 'Invoking…'));
    api
      .invoke(fnId, body.value, contentType.value.trim())
      .then((r) => out.replaceChildren(replyView(fnId, r)), (err: unknown) => out.replaceChildren(errorBox(err)))
      .finally(() => {
        button.disabled = false;
      });
  });
  return form;
}
