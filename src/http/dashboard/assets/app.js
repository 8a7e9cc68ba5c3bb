// The dashboard's entry: logs in (a one-time link from `agentgate dashboard`
// or a session cookie), keeps the queue live over the WebSocket, and routes
// the hash (#/, #/work-orders/ID, #/submit, #/health) to the views.

import { checkSession, login, logout, hasSession, setUnauthorizedHandler, EventSocket } from './api.js';
import { h } from './dom.js';
import { store, loadAll, refresh } from './store.js';
import { renderLogin } from './view-login.js';
import { renderQueue } from './view-queue.js';
import { renderWorkOrder } from './view-work-order.js';
import { renderSubmit } from './view-submit.js';
import { renderHealth } from './view-health.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
const live = document.getElementById('live');

let leave = null; // the current view's cleanup
let socket = null;
let started = false;

function stopView() {
  if (leave) leave();
  leave = null;
}

/** The login page; `message` says why (a refused link, an ended session). */
function showLogin(message, kind = 'error') {
  started = false;
  stopView();
  if (socket) socket.close();
  socket = null;
  store.orders.clear();
  store.loaded = false;
  top.hidden = true;
  renderLogin(main, { message, kind, onLoggedIn: start });
}

/** With a session: the socket, then the view the hash names. */
function start() {
  started = true;
  top.hidden = false;
  socket = new EventSocket({
    // An event names a work order: refetch that one (not polling).
    onEvent: (msg) => { refresh(msg.workOrderId).catch(() => {}); },
    // Subscribed: (re)read the whole list so nothing missed while away is stale.
    onOpen: () => { (store.loading || Promise.resolve()).then(() => loadAll()); },
    onState: (state) => {
      live.textContent = state === 'live' ? '● live' : '○ reconnecting…';
      live.className = `live ${state}`;
    },
  });
  // Should the socket be slow to open, the list need not wait for it.
  setTimeout(() => { if (started && !store.loaded && !store.loading) loadAll(); }, 2000);
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/');
  route();
}

function route() {
  if (!started || !hasSession()) return;
  const hash = location.hash || '#/';
  // Other anchors (the skip link, a diff's file list) are not routes.
  if (!hash.startsWith('#/')) return;
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  stopView();
  for (const a of top.querySelectorAll('[data-nav]')) a.removeAttribute('aria-current');
  const current = (name) => top.querySelector(`[data-nav="${name}"]`).setAttribute('aria-current', 'page');
  const wo = /^\/work-orders\/([^/]+)$/.exec(path);
  if (path === '/') { current('queue'); leave = renderQueue(main, params); }
  else if (wo) { current('queue'); leave = renderWorkOrder(main, decodeURIComponent(wo[1])); }
  else if (path === '/submit') { current('submit'); leave = renderSubmit(main); }
  else if (path === '/health') { current('health'); leave = renderHealth(main); }
  else {
    main.replaceChildren(h('h1', { text: 'Not found' }), h('p', {}, 'Nothing lives at this address. ', h('a', { href: '#/', text: 'Back to the queue' }), '.'));
  }
}

window.addEventListener('hashchange', () => {
  // A login link opened in a tab that is already here.
  if (location.hash.startsWith('#login=')) { boot(); return; }
  route();
  // Moving between views: start reading at the top, from the view's heading.
  if (location.hash.startsWith('#/') && !main.contains(document.activeElement)) {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  }
});

document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

document.getElementById('logout').addEventListener('click', async () => {
  await logout().catch(() => {});
  showLogin('You are logged out.', 'info');
});

setUnauthorizedHandler(() => {
  if (started) showLogin('Your session has ended; log in again.');
});

async function boot() {
  stopView();
  if (location.hash.startsWith('#login=')) {
    const token = decodeURIComponent(location.hash.slice('#login='.length));
    // The token never stays in the address bar or history, used or not.
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
    try {
      if (socket) { socket.close(); socket = null; started = false; }
      await login({ token });
    } catch (e) {
      showLogin(e.message);
      return;
    }
    start();
    return;
  }
  try {
    if (await checkSession()) start();
    else showLogin(null);
  } catch (e) {
    showLogin(e.message);
  }
}

boot();
