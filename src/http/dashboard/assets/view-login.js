// The page shown without a session: how to get a login link, and a box to
// paste the API key instead.

import { h } from './dom.js';
import { login } from './api.js';

/** `message`: why we are here (e.g. a used login link), shown as an alert. */
export function renderLogin(main, { message, kind = 'error', onLoggedIn }) {
  const error = h('p', { class: kind === 'error' ? 'error' : 'ok', role: 'alert', id: 'login-error' },
    message ? `${kind === 'error' ? '✗' : '✓'} ${message}` : '');
  error.hidden = !message;
  const key = h('input', {
    type: 'password', id: 'api-key', name: 'apiKey', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'api-key-help',
  });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Log in' });
  const form = h('form', {
    class: 'card stack',
    onsubmit: async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        await login({ apiKey: key.value.trim() });
        onLoggedIn();
      } catch (e) {
        error.className = 'error';
        error.textContent = `✗ ${e.message}`;
        error.hidden = false;
        key.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('label', { for: 'api-key', text: 'API key' }),
  h('p', { class: 'muted small', id: 'api-key-help' }, 'The contents of ', h('code', { text: '<root>/api-key' }), ' (e.g. ',
    h('code', { text: '~/.local/share/agentgate/api-key' }), ').'),
  key,
  h('div', {}, submit));

  main.replaceChildren(h('section', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'agentgate dashboard'),
    error,
    h('p', {}, 'You are not logged in. On the machine running the daemon, run'),
    h('pre', { class: 'cmd' }, h('code', { text: 'agentgate dashboard' })),
    h('p', {}, 'and open the link it prints (it works once, within 2 minutes).'),
    h('p', { class: 'muted', text: 'Or paste the API key:' }),
    form));
  document.title = 'Log in · agentgate';
}
