// A worktree's unified diff (GET .../diff, git's format) as a file list and
// coloured hunks: added and removed lines, hunk headers, file headers.

import { h } from './dom.js';

/** Lines drawn before asking; a huge diff stays responsive. */
const SHOWN_LINES = 4000;

/** Splits git's unified diff into files: {path, note, add, del, lines}. */
function parseDiff(text) {
  const files = [];
  let file = null;
  let inHunk = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      file = { path: m ? m[2] : line.slice(11), note: '', add: 0, del: 0, lines: [] };
      files.push(file);
      inHunk = false;
      continue;
    }
    if (!file) {
      // Text before the first file (e.g. a commit list): a file of its own.
      if (line === '') continue;
      file = { path: '(summary)', note: '', add: 0, del: 0, lines: [] };
      files.push(file);
    }
    if (line.startsWith('@@')) {
      inHunk = true;
      file.lines.push(['hunk', line]);
    } else if (inHunk && line.startsWith('+')) {
      file.add += 1;
      file.lines.push(['add', line]);
    } else if (inHunk && line.startsWith('-')) {
      file.del += 1;
      file.lines.push(['del', line]);
    } else if (inHunk && (line.startsWith(' ') || line.startsWith('\\'))) {
      file.lines.push(['ctx', line]);
    } else if (line !== '' || inHunk) {
      inHunk = false;
      if (line.startsWith('new file')) file.note = 'new';
      else if (line.startsWith('deleted file')) file.note = 'deleted';
      else if (line.startsWith('rename from')) file.note = 'renamed';
      else if (line.startsWith('Binary files')) file.note = 'binary';
      if (line !== '') file.lines.push(['meta', line]);
    }
  }
  return files;
}

/** The diff as DOM: a summary list linking to each file's hunks. */
export function renderDiff(text, { all = false, onShowAll } = {}) {
  const files = parseDiff(text);
  if (files.length === 0) return h('p', { class: 'muted', text: 'No changes.' });
  const add = files.reduce((n, f) => n + f.add, 0);
  const del = files.reduce((n, f) => n + f.del, 0);
  const list = h('ul', { class: 'diff-files' }, files.map((f, i) => h('li', {},
    h('a', { href: `#diff-file-${i}`, onclick: (ev) => jump(ev, i), text: f.path }),
    f.note ? h('span', { class: 'muted', text: ` (${f.note})` }) : null,
    ' ', h('span', { class: 'd-add', text: `+${f.add}` }), ' ', h('span', { class: 'd-del', text: `−${f.del}` }))));
  let budget = all ? Infinity : SHOWN_LINES;
  const blocks = files.map((f, i) => {
    const shown = f.lines.slice(0, Math.max(0, budget));
    budget -= shown.length;
    const body = h('div', { class: 'diff-code', role: 'region', 'aria-label': `Changes to ${f.path}`, tabindex: '0' },
      shown.map(([kind, line]) => h('div', { class: `dl dl-${kind}`, text: line || '\u200b' })));
    return h('details', { class: 'diff-file', id: `diff-file-${i}`, open: true },
      h('summary', {}, h('span', { class: 'mono', text: f.path }), ' ',
        h('span', { class: 'd-add', text: `+${f.add}` }), ' ', h('span', { class: 'd-del', text: `−${f.del}` })),
      body);
  });
  const cut = !all && files.reduce((n, f) => n + f.lines.length, 0) > SHOWN_LINES;
  return h('div', { class: 'diff' },
    h('p', {}, `${files.length} file${files.length === 1 ? '' : 's'} changed, `,
      h('span', { class: 'd-add', text: `${add} insertion${add === 1 ? '' : 's'}(+)` }), ', ',
      h('span', { class: 'd-del', text: `${del} deletion${del === 1 ? '' : 's'}(−)` })),
    list,
    blocks,
    cut && onShowAll ? h('button', { type: 'button', onclick: onShowAll, text: 'Show the whole diff' }) : null);
}

/** Same-page anchors would change the hash route: scroll instead. */
function jump(ev, i) {
  ev.preventDefault();
  const el = document.getElementById(`diff-file-${i}`);
  if (el) {
    el.open = true;
    el.scrollIntoView({ block: 'start' });
    el.querySelector('summary').focus();
  }
}
