// Small SVG bar charts, drawn here (no library): stacked bars per group with
// a y axis, the groups' names below, a <title> tooltip on every bar, and the
// numbers as a table for screen readers and for copying.

import { h, svg } from './dom.js';

const BAR = 28; // width of one bar, in viewBox units
const GAP = 12;
const HEIGHT = 160; // plot height
const LEFT = 48; // room for the y axis labels
const BOTTOM = 34; // room for the group labels

/** A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * groups: [{key, label?}]; series: [{name, cls, value: (group) => number}]
 * (stacked bottom-up); fmt: number → axis/tooltip text.
 */
export function barChart({ title, groups, series, fmt = String }) {
  const totals = groups.map((g) => series.reduce((n, s) => n + (s.value(g) || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const width = LEFT + Math.max(1, groups.length) * (BAR + GAP) + GAP;
  const y = (v) => HEIGHT - (v / max) * HEIGHT;
  const parts = [];
  // The axis: 0, half and the top, with light grid lines.
  for (const v of [0, max / 2, max]) {
    parts.push(svg('line', { x1: LEFT, x2: width, y1: y(v) + 4, y2: y(v) + 4, class: 'grid' }));
    parts.push(svg('text', { x: LEFT - 6, y: y(v) + 8, 'text-anchor': 'end', class: 'axis' }, fmt(v)));
  }
  groups.forEach((g, i) => {
    const x = LEFT + GAP + i * (BAR + GAP);
    let base = 0;
    for (const s of series) {
      const v = s.value(g) || 0;
      if (v <= 0) continue;
      const top = y(base + v);
      const rect = svg('rect', {
        x, y: top + 4, width: BAR, height: Math.max(1, y(base) - top), class: `bar ${s.cls}`, rx: 2,
      }, svg('title', {}, `${g.label || g.key} — ${s.name}: ${fmt(v)}`));
      parts.push(rect);
      base += v;
    }
    const label = g.label || g.key;
    parts.push(svg('text', {
      x: x + BAR / 2, y: HEIGHT + 20, 'text-anchor': 'middle', class: 'axis',
    }, label.length > 8 ? `${label.slice(0, 7)}…` : label, svg('title', {}, label)));
  });
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${HEIGHT + BOTTOM}`, width, height: HEIGHT + BOTTOM,
    role: 'img', 'aria-label': `${title}: bar chart (numbers in the table below)`, class: 'chart',
    preserveAspectRatio: 'xMinYMin meet',
  }, parts);
  const legend = series.length > 1 ? h('ul', { class: 'legend' }, series.map((s) => h('li', {},
    h('span', { class: `swatch ${s.cls}`, 'aria-hidden': 'true' }), s.name))) : null;
  const table = h('details', { class: 'chart-data' }, h('summary', { text: 'Numbers' }),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }),
      series.map((s) => h('th', { scope: 'col', text: s.name })))),
    h('tbody', {}, groups.map((g) => h('tr', {}, h('th', { scope: 'row', text: g.label || g.key }),
      series.map((s) => h('td', { text: fmt(s.value(g) || 0) })))))));
  return h('figure', { class: 'chart-box' }, h('figcaption', { text: title }),
    groups.length ? h('div', { class: 'chart-scroll' }, chart) : h('p', { class: 'muted', text: 'Nothing yet.' }),
    legend, table);
}
