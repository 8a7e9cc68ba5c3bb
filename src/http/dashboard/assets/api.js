// Talking to the daemon: the session (cookie + CSRF header), the JSON API
// and its envelopes, the WebSocket of queue events and a run's event stream.

/** A refused or failed request: `message` is the API's own error.message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrf = null;
/** Called on any 401: the session is gone, the page shows the login view. */
let onUnauthorized = () => {};

export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }
export function hasSession() { return csrf !== null; }

/** Reads an answer's envelope; throws ApiError for `success: false` or a non-JSON error. */
async function unwrap(res) {
  let body = null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('application/json')) {
    try { body = await res.json(); } catch { body = null; }
  }
  if (res.ok && body && body.success !== false) return 'data' in body ? body.data : body;
  // A text answer (the diff) is its own data.
  if (res.ok && !type.includes('application/json')) return res.text();
  // The 401 of the key check spells `error` as text (AgentGate's dashboard shows it as is).
  const err = body && body.error;
  const message = (err && typeof err === 'object' ? err.message : err)
    || (res.ok ? 'unexpected answer' : `${res.status} ${res.statusText}`);
  const code = (err && err.code) || (body && body.code) || String(res.status);
  throw new ApiError(res.status, code, message);
}

/** fetch() that turns network failures into an ApiError too. */
async function send(path, init) {
  try {
    return await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', `cannot reach the daemon (${e.message})`);
  }
}

/**
 * An API call: `api('GET', '/api/v1/work-orders')` → the envelope's data.
 * Sends the CSRF header; a 401 ends the session (and still throws).
 */
export async function api(method, path, body, { signal } = {}) {
  const headers = { 'X-CSRF-Token': csrf || '' };
  const init = { method, headers, signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await send(path, init);
  if (res.status === 401) {
    csrf = null;
    onUnauthorized();
  }
  return unwrap(res);
}

/** Whether the cookie holds a session; remembers its CSRF token. */
export async function checkSession() {
  const res = await send('/dashboard/session', { headers: { Accept: 'application/json' } });
  if (res.status === 401) { csrf = null; return false; }
  const data = await unwrap(res);
  // A logged-out visit is a 200 saying so (no error in the console).
  if (!data || data.authenticated !== true) { csrf = null; return false; }
  csrf = data.csrf;
  return true;
}

/** Exchanges the one-time token of `agentgate dashboard` (or the API key) for a session cookie. */
export async function login(credentials) {
  const res = await send('/dashboard/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  const data = await unwrap(res);
  csrf = data.csrf;
}

export async function logout() {
  try {
    await send('/dashboard/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf || '' } });
  } finally {
    csrf = null;
  }
}

/**
 * The queue's events over /ws: every work order's lifecycle (subscribed as
 * `*`) and `work_order_created`. Reconnects with backoff; `onOpen` runs after
 * every (re)connection so the caller can catch up on what it missed.
 */
export class EventSocket {
  constructor({ onEvent, onOpen, onState }) {
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onState = onState;
    this.delay = 500;
    this.closed = false;
    this.ws = null;
    this.timer = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const url = `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.delay = 500;
      ws.send(JSON.stringify({ type: 'subscribe', workOrderId: '*' }));
      this.onState('live');
      this.onOpen();
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg && msg.workOrderId && msg.type !== 'subscription_confirmed'
        && msg.type !== 'unsubscription_confirmed') this.onEvent(msg);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws || this.closed) return;
      this.onState('reconnecting');
      this.retry();
    });
  }

  /** Waits (doubling up to 15 s), then reconnects if the session still holds. */
  retry() {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      let ok = false;
      try { ok = await checkSession(); } catch { ok = null; }
      if (ok === false) { this.close(); onUnauthorized(); return; }
      this.connect();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, 15000);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }
}

/**
 * Reads a run's Server-Sent Events with fetch (so the CSRF header goes
 * along, which EventSource cannot send). Calls `onEvent(type, data)` for each
 * event; resolves when the stream ends, rejects on a refused request.
 */
export async function streamRun(runId, { raw = false, signal, onEvent }) {
  const q = raw ? '?raw=true' : '';
  const res = await send(`/api/v1/runs/${encodeURIComponent(runId)}/stream${q}`, {
    headers: { 'X-CSRF-Token': csrf || '', Accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok) {
    if (res.status === 401) { csrf = null; onUnauthorized(); }
    await unwrap(res);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let type = 'message';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        // A blank line ends an event.
        if (data.length) {
          let parsed = null;
          try { parsed = JSON.parse(data.join('\n')); } catch { parsed = null; }
          onEvent(type, parsed);
        }
        type = 'message';
        data = [];
      } else if (line.startsWith('event:')) {
        type = line.slice(6).trim();
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
  }
}
