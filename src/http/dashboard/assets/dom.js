// DOM building and formatting helpers. Everything the page shows is built
// with createElement/textContent: prompts and agent output are untrusted, so
// no markup string ever reaches the DOM.

/** Attributes set as properties (so `value` fills a textarea, etc.). */
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'open', 'hidden', 'indeterminate']);

/**
 * h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more]) —
 * an element. Attributes starting with "on" become listeners, `class` and
 * `text` are shortcuts, false/null attributes are skipped; children may be
 * strings (as text nodes), nodes, arrays or null.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** Appends strings (as text), nodes and arrays of them. */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes are set as presentation attributes (CSP-safe). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Status → glyph and words, so colour is never the only signal. */
const STATUS = {
  queued: { icon: '◷', label: 'queued' },
  running: { icon: '▶', label: 'running' },
  succeeded: { icon: '✓', label: 'succeeded' },
  failed: { icon: '✗', label: 'failed' },
  canceled: { icon: '⊘', label: 'canceled' },
};
export const STATUSES = Object.keys(STATUS);

/** A status badge (colour from the `st-<status>` class). */
export function badge(status) {
  const s = STATUS[status] || { icon: '?', label: status || 'unknown' };
  return h('span', { class: `badge st-${STATUSES.includes(status) ? status : 'unknown'}` },
    h('span', { 'aria-hidden': 'true', text: s.icon }), ' ', s.label);
}

/** Milliseconds as a short human duration: 850ms, 12s, 3m 05s, 2h 04m, 3d 2h. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** Time since an ISO timestamp, e.g. "5m 02s". */
export function fmtAge(iso, now = Date.now()) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : fmtDuration(Math.max(0, now - t));
}

/** A run's or work order's duration so far (ends at `now` while running). */
export function durationMs(wo, now = Date.now()) {
  const start = Date.parse(wo.startedAt);
  if (Number.isNaN(start)) return null;
  const end = wo.completedAt ? Date.parse(wo.completedAt) : now;
  return Math.max(0, end - start);
}

/** An ISO timestamp in the reader's locale. */
export function fmtTime(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : new Date(t).toLocaleString();
}

export function fmtCost(usd) {
  if (usd === null || usd === undefined) return null;
  return usd >= 100 ? `$${usd.toFixed(0)}` : usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

/** 1234567 → "1.2M". */
export function fmtCount(n) {
  if (n === null || n === undefined) return null;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** "$0.0123 · 1.2k tok" from an agentResult, or "—". */
export function fmtUsage(ar) {
  if (!ar) return '—';
  const parts = [];
  const cost = fmtCost(ar.costUsd);
  if (cost) parts.push(cost);
  const tok = (ar.inputTokens || 0) + (ar.outputTokens || 0);
  if (ar.inputTokens !== null && ar.inputTokens !== undefined) parts.push(`${fmtCount(tok)} tok`);
  return parts.length ? parts.join(' · ') : '—';
}

/** A workspace source object as one line. */
export function fmtWorkspace(ws) {
  if (!ws) return '—';
  const branch = ws.branch ? ` (${ws.branch})` : '';
  switch (ws.type) {
    case 'local': return ws.path;
    case 'github': return `github:${ws.repo}${branch}`;
    case 'git': return `${ws.url}${branch}`;
    default: return JSON.stringify(ws);
  }
}

/** The first line of a prompt, cut to `max` characters. */
export function firstLine(text, max = 160) {
  const line = String(text || '').split('\n', 1)[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Runs `fn` at most once per animation frame, however often it is asked. */
export function perFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fn(); });
  };
}

/** A short note in the corner (e.g. after moving to a new work order). */
let toastTimer = 0;
export function toast(text) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.classList.remove('show'); el.textContent = ''; }, 5000);
}
