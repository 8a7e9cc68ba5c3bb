// The queue: every work order, running first, filtered by status, agent and
// label and searched by prompt, drawn 100 rows at a time. Rows are keyed by
// id and only rebuilt when their work order changed, so live updates neither
// flicker nor steal keyboard focus.

import { h, badge, fmtAge, fmtDuration, durationMs, fmtUsage, firstLine, perFrame, STATUSES } from './dom.js';
import { store, subscribe, loadAll } from './store.js';

const PAGE = 100;
const RANK = { running: 0, queued: 1 };

/** Running first (newest start first), then queued in start order, then the rest newest first. */
function compare(a, b) {
  const ra = RANK[a.status] ?? 2;
  const rb = RANK[b.status] ?? 2;
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (b.startedAt || '').localeCompare(a.startedAt || '');
  if (ra === 1) return (b.priority || 0) - (a.priority || 0) || a.createdAt.localeCompare(b.createdAt);
  return b.createdAt.localeCompare(a.createdAt);
}

/** A <select> whose options can be replaced while keeping its value. */
function setOptions(select, options, value) {
  const sig = JSON.stringify(options);
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    select.replaceChildren(...options.map(([v, label]) => h('option', { value: v, text: label })));
  }
  select.value = options.some(([v]) => v === value) ? value : '';
}

export function renderQueue(main, params) {
  const filter = {
    status: params.get('status') || '',
    agent: params.get('agent') || '',
    label: params.get('label') || '',
    q: params.get('q') || '',
  };
  let shown = PAGE;
  const rows = new Map(); // id → {tr, wo, age, dur}

  const statusSel = h('select', { id: 'f-status', name: 'status' });
  const agentSel = h('select', { id: 'f-agent', name: 'agent' });
  const labelSel = h('select', { id: 'f-label', name: 'label' });
  const search = h('input', { id: 'f-q', name: 'q', type: 'search', value: filter.q, placeholder: 'words in the prompt or id', autocomplete: 'off' });
  const summary = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const counts = h('p', { class: 'counts' });
  const tbody = h('tbody', {});
  const more = h('button', { type: 'button', onclick: () => { shown += PAGE; draw(); } });
  const empty = h('div', { class: 'empty' });

  /** Filters go in the hash too, so a filtered view can be linked. */
  function changed() {
    filter.status = statusSel.value;
    filter.agent = agentSel.value;
    filter.label = labelSel.value;
    filter.q = search.value;
    shown = PAGE;
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
    history.replaceState(null, '', q ? `#/?${q}` : '#/');
    draw();
  }
  let searchTimer = 0;
  statusSel.addEventListener('change', changed);
  agentSel.addEventListener('change', changed);
  labelSel.addEventListener('change', changed);
  search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(changed, 150); });

  const table = h('table', { class: 'queue' },
    h('caption', { class: 'sr-only', text: 'Work orders, running first' }),
    h('thead', {}, h('tr', {}, ['ID', 'Status', 'Agent', 'Labels', 'Priority', 'Age', 'Duration', 'Cost · tokens', 'Prompt · why it waits']
      .map((t) => h('th', { scope: 'col', text: t })))),
    tbody);

  main.replaceChildren(h('section', { class: 'view-queue', 'aria-labelledby': 'queue-title' },
    h('div', { class: 'title-row' }, h('h1', { id: 'queue-title', text: 'Queue' }),
      h('a', { class: 'button primary', href: '#/submit', text: '+ Submit' })),
    counts,
    h('form', { class: 'filters', role: 'search', onsubmit: (ev) => ev.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-status', text: 'Status' }), statusSel),
      h('div', { class: 'field' }, h('label', { for: 'f-agent', text: 'Agent' }), agentSel),
      h('div', { class: 'field' }, h('label', { for: 'f-label', text: 'Label' }), labelSel),
      h('div', { class: 'field grow' }, h('label', { for: 'f-q', text: 'Search' }), search)),
    summary,
    h('div', { class: 'table-wrap' }, table),
    empty,
    h('div', { class: 'more' }, more)));
  document.title = 'Queue · agentgate';

  function matches(wo, q) {
    if (filter.status && wo.status !== filter.status) return false;
    if (filter.agent && wo.agentType !== filter.agent) return false;
    if (filter.label && !(wo.labels || []).includes(filter.label)) return false;
    if (q && !wo.taskPrompt.toLowerCase().includes(q) && !wo.id.toLowerCase().startsWith(q)) return false;
    return true;
  }

  function buildRow(wo) {
    const link = h('a', { href: `#/work-orders/${encodeURIComponent(wo.id)}`, class: 'mono', text: wo.id });
    const age = h('td', { 'data-label': 'Age', text: fmtAge(wo.createdAt) });
    const dur = h('td', { 'data-label': 'Duration', text: fmtDuration(durationMs(wo)) });
    const why = wo.status === 'queued' && wo.queuedReason
      ? h('div', { class: 'why' }, h('span', { 'aria-hidden': 'true', text: '↳ ' }), wo.queuedReason)
      : wo.status === 'failed' && wo.error ? h('div', { class: 'why err', text: firstLine(wo.error, 120) }) : null;
    const tr = h('tr', { 'data-id': wo.id, class: `row st-row-${wo.status}` },
      h('td', { 'data-label': 'ID' }, link),
      h('td', { 'data-label': 'Status' }, badge(wo.status)),
      h('td', { 'data-label': 'Agent', text: wo.agentType }),
      h('td', { 'data-label': 'Labels' }, (wo.labels || []).map((l) => h('span', { class: 'chip', text: l }))),
      h('td', { 'data-label': 'Priority', class: 'num', text: String(wo.priority ?? 0) }),
      age, dur,
      h('td', { 'data-label': 'Cost · tokens', class: wo.agentResult ? 'num' : 'num none', text: fmtUsage(wo.agentResult) }),
      h('td', { 'data-label': 'Prompt', class: 'prompt' }, h('div', { class: 'prompt-text', text: firstLine(wo.taskPrompt) }), why));
    return { tr, wo, age, dur, link };
  }

  function draw() {
    const all = [...store.orders.values()];
    // Filter choices come from what the queue holds.
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    const agents = new Set();
    const labels = new Set();
    for (const wo of all) {
      byStatus[wo.status] = (byStatus[wo.status] || 0) + 1;
      agents.add(wo.agentType);
      for (const l of wo.labels || []) labels.add(l);
    }
    if (filter.agent) agents.add(filter.agent);
    if (filter.label) labels.add(filter.label);
    setOptions(statusSel, [['', `all (${all.length})`], ...STATUSES.map((s) => [s, `${s} (${byStatus[s]})`])], filter.status);
    setOptions(agentSel, [['', 'all'], ...[...agents].sort().map((a) => [a, a])], filter.agent);
    setOptions(labelSel, [['', 'any'], ...[...labels].sort().map((l) => [l, l])], filter.label);
    counts.replaceChildren(...STATUSES.filter((s) => byStatus[s]).map((s) => h('span', { class: `count st-${s}` },
      `${byStatus[s]} ${s}`)));

    const q = filter.q.trim().toLowerCase();
    const list = all.filter((wo) => matches(wo, q)).sort(compare);
    const visible = list.slice(0, shown);

    // Keyed update: reuse rows, rebuild only changed ones, move into order.
    const keep = new Set();
    let cursor = tbody.firstElementChild;
    for (const wo of visible) {
      keep.add(wo.id);
      let row = rows.get(wo.id);
      if (!row || row.wo !== wo) {
        const fresh = buildRow(wo);
        if (row) {
          const hadFocus = row.tr.contains(document.activeElement);
          row.tr.replaceWith(fresh.tr);
          if (cursor === row.tr) cursor = fresh.tr;
          if (hadFocus) fresh.link.focus();
        }
        row = fresh;
        rows.set(wo.id, row);
      }
      if (row.tr !== cursor) tbody.insertBefore(row.tr, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const [id, row] of rows) {
      if (!keep.has(id)) { row.tr.remove(); rows.delete(id); }
    }

    more.hidden = list.length <= shown;
    more.textContent = `Show ${Math.min(PAGE, list.length - shown)} more (${list.length - shown} not shown)`;
    if (!store.loaded) {
      summary.textContent = store.error ? '' : 'Loading…';
    } else {
      summary.textContent = list.length === all.length
        ? `${visible.length} of ${all.length} work orders shown`
        : `${visible.length} of ${list.length} matching work orders shown (${all.length} in all)`;
    }
    if (store.error) {
      empty.replaceChildren(h('p', { class: 'error', role: 'alert', text: `✗ ${store.error.message}` }),
        h('button', { type: 'button', onclick: () => loadAll(), text: 'Try again' }));
    } else if (store.loaded && all.length === 0) {
      empty.replaceChildren(h('p', {}, 'No work orders yet. ', h('a', { href: '#/submit', text: 'Submit one' }), ' or run ',
        h('code', { text: 'agentgate submit' }), '.'));
    } else if (store.loaded && list.length === 0) {
      empty.replaceChildren(h('p', { class: 'muted', text: 'No work order matches these filters.' }));
    } else {
      empty.replaceChildren();
    }
  }

  /** Ages and running durations move on by themselves. */
  function tick() {
    const now = Date.now();
    for (const row of rows.values()) {
      row.age.textContent = fmtAge(row.wo.createdAt, now);
      if (row.wo.status === 'running') row.dur.textContent = fmtDuration(durationMs(row.wo, now));
    }
  }

  const redraw = perFrame(draw);
  const unsubscribe = subscribe(redraw);
  const timer = setInterval(tick, 1000);
  draw();
  if (!store.loaded && !store.loading) loadAll();
  return () => { unsubscribe(); clearInterval(timer); clearTimeout(searchTimer); };
}
