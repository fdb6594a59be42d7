// Shown when the API answers 401: the server has KILN_AUTH_TOKENS set and this tab has no
// (valid) token yet. The token goes to the page's TokenStore, then the view is shown again.
import { h } from '../dom.js';
import { TOKEN_SHAPE } from '../token.js';
import type { View } from './common.js';

export function signInView(message: string, onToken: (token: string) => void): View {
  const input = h('input', { name: 'token', type: 'password', autocomplete: 'current-password', required: true, size: 40 });
  const form = h(
    'form',
    { class: 'sign-in' },
    h('label', {}, 'API token', input),
    h('button', { type: 'submit' }, 'Use this token'),
  );
  const problem = h('p', { class: 'error token-problem', role: 'alert', hidden: true });
  form.append(problem);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!TOKEN_SHAPE.test(token)) {
      problem.textContent = 'A token has only the characters A-Z a-z 0-9 - . _ ~ + / (then = at the end).';
      problem.hidden = false;
      return;
    }
    onToken(token);
  });
  return {
    title: 'Token needed',
    body: h(
      'div',
      { class: 'view' },
      h('h1', {}, 'Token needed'),
      h('p', { class: 'error', role: 'alert' }, h('span', { class: 'message' }, message)),
      h('p', {}, 'This server asks for one of its API tokens (KILN_AUTH_TOKENS). This page keeps it in memory only: a reload asks again.'),
      form,
    ),
  };
}
