// Health and usage: the queue's health (counts, limits, memory, alerts), its
// executors, and work orders and cost per day and per agent as charts.
// Reread when the queue changes (WebSocket events), at most every 2 s.

import { h, fmtDuration, fmtCount, STATUSES } from './dom.js';
import { api } from './api.js';
import { subscribe } from './store.js';
import { barChart } from './chart.js';

const OUTCOMES = [
  { name: 'succeeded', cls: 'st-succeeded', value: (g) => g.succeeded },
  { name: 'failed', cls: 'st-failed', value: (g) => g.failed },
  { name: 'canceled', cls: 'st-canceled', value: (g) => g.canceled },
  { name: 'active', cls: 'st-running', value: (g) => g.active },
];
const COST = [{ name: 'cost (USD)', cls: 'cost', value: (g) => g.costUsd }];
const usd = (v) => (v === 0 ? '$0' : `$${v.toFixed(v >= 10 ? 0 : v >= 0.1 ? 2 : 4)}`);
const int = (v) => fmtCount(Math.round(v));

function stat(label, value, cls = '') {
  return h('div', { class: `stat ${cls}` }, h('div', { class: 'stat-value', text: String(value) }), h('div', { class: 'stat-label', text: label }));
}

export function renderHealth(main) {
  const health = h('div', {}, h('p', { class: 'muted', text: 'Loading…' }));
  const usage = h('div', {});
  let timer = 0;
  let last = 0;
  let stopped = false;

  async function load() {
    last = Date.now();
    const [qh, day, agent] = await Promise.allSettled([
      api('GET', '/api/v1/queue/health'),
      api('GET', '/api/v1/stats?by=day'),
      api('GET', '/api/v1/stats?by=agent'),
    ]);
    if (stopped) return;
    health.replaceChildren(qh.status === 'fulfilled' ? drawHealth(qh.value) : h('p', { class: 'error', role: 'alert', text: `✗ ${qh.reason.message}` }));
    const charts = [];
    if (day.status === 'fulfilled') {
      // Oldest day first, the last 30 days with work.
      const groups = [...day.value.groups].sort((a, b) => a.key.localeCompare(b.key)).slice(-30)
        .map((g) => ({ ...g, label: g.key.slice(5) }));
      charts.push(barChart({ title: 'Work orders per day', groups, series: OUTCOMES, fmt: int }),
        barChart({ title: 'Cost per day', groups, series: COST, fmt: usd }));
    } else charts.push(h('p', { class: 'error', text: `✗ ${day.reason.message}` }));
    if (agent.status === 'fulfilled') {
      const groups = [...agent.value.groups].sort((a, b) => b.workOrders - a.workOrders);
      charts.push(barChart({ title: 'Work orders per agent', groups, series: OUTCOMES, fmt: int }),
        barChart({ title: 'Cost per agent', groups, series: COST, fmt: usd }));
    } else charts.push(h('p', { class: 'error', text: `✗ ${agent.reason.message}` }));
    const total = day.status === 'fulfilled' ? day.value.total : null;
    usage.replaceChildren(
      total ? h('p', { class: 'muted' }, `${total.workOrders} work orders, ${usd(total.costUsd || 0)} in all`,
        total.withoutCost ? ` (${total.withoutCost} without a cost reported)` : '', '.') : null,
      h('div', { class: 'charts' }, charts));
  }

  function drawHealth(q) {
    const counts = q.counts || {};
    const alerts = q.alerts || [];
    const mem = q.memory || {};
    return h('div', { class: 'stack' },
      h('p', {}, 'Queue ', h('strong', { class: `health-${q.status}`, text: q.status }),
        q.paused ? ' — paused: queued work waits until resumed' : '', q.accepting === false ? ' — not accepting submits' : ''),
      q.queuedReason ? h('p', { class: 'why' }, 'Queued work waits: ', q.queuedReason) : null,
      h('div', { class: 'stats' },
        stat('running', `${q.runningCount ?? 0} / ${q.maxConcurrent ?? '?'}`, 'st-running'),
        stat('queued', q.queuedCount ?? 0, 'st-queued'),
        stat('succeeded', q.completedCount ?? counts.succeeded ?? 0, 'st-succeeded'),
        stat('failed', q.failedCount ?? 0, 'st-failed'),
        stat('canceled', q.canceledCount ?? 0, 'st-canceled'),
        stat('cost', usd(q.totalCostUsd || 0)),
        stat('memory free', mem.availableMb !== undefined ? `${fmtCount(mem.availableMb)} MB` : '—'),
        stat('oldest running', q.oldestRunningAge !== null && q.oldestRunningAge !== undefined ? fmtDuration(q.oldestRunningAge) : '—')),
      alerts.length ? h('div', { class: 'alerts', role: 'alert' }, h('h3', { text: 'Alerts' }),
        h('ul', {}, alerts.map((a) => h('li', { text: typeof a === 'string' ? a : (a.message || JSON.stringify(a)) })))) : null,
      h('h3', { text: 'Executors' }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'executors' },
        h('thead', {}, h('tr', {}, ['Executor', 'Health', 'Running', 'Detail'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, (q.executors || []).map((e) => h('tr', {},
          h('td', { 'data-label': 'Executor', text: e.name }),
          h('td', { 'data-label': 'Health' }, h('span', { class: `badge ${e.healthy ? 'st-succeeded' : 'st-failed'}` },
            h('span', { 'aria-hidden': 'true', text: e.healthy ? '✓ ' : '✗ ' }), e.healthy ? 'healthy' : 'unhealthy')),
          h('td', { 'data-label': 'Running', text: `${e.running ?? 0} / ${e.maxConcurrent ?? '?'}` }),
          h('td', { 'data-label': 'Detail', class: 'small', text: e.detail || '' })))))),
      h('p', { class: 'muted small', text: `Statuses: ${STATUSES.map((s) => `${s} ${counts[s] ?? 0}`).join(', ')}. As of ${new Date(q.timestamp || Date.now()).toLocaleTimeString()}.` }));
  }

  /** Events come in bursts; reread at most every 2 s. */
  function soon() {
    if (timer) return;
    timer = setTimeout(() => { timer = 0; if (!stopped) load(); }, Math.max(0, 2000 - (Date.now() - last)));
  }

  main.replaceChildren(h('section', { class: 'view-health', 'aria-labelledby': 'health-title' },
    h('h1', { id: 'health-title', text: 'Health and usage' }),
    h('h2', { text: 'Queue' }), health,
    h('h2', { text: 'Usage' }), usage));
  document.title = 'Health · agentgate';
  const unsubscribe = subscribe(soon);
  load();
  return () => { stopped = true; clearTimeout(timer); unsubscribe(); };
}
