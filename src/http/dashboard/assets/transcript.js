// A run's transcript as it streams in, drawn the way `queue logs` prints it
// (src/agent/event.rs `render`): "● session", text, "∴ reasoning",
// "▸ Tool  detail" followed by "  ↳ result" / "  ✗ error" lines, "± path",
// "✓ done" / "✗ failed". A tool call and its results fold into a <details>.
// The raw log is the same text without any of that.

import { h } from './dom.js';

/** Most lines kept on the page; older ones are dropped from the top. */
const MAX_LINES = 20000;

const KINDS = [
  ['● ', 'tx-init'],
  ['∴ ', 'tx-reason'],
  ['± ', 'tx-file'],
  ['✓ ', 'tx-done'],
  ['✗ ', 'tx-fail'],
];

export class TranscriptView {
  /** `box`: the scrolling element lines go into; `raw`: no folding or colours. */
  constructor(box, { raw = false } = {}) {
    this.box = box;
    this.raw = raw;
    this.partial = '';
    this.pendingEl = null; // the unfinished last line, shown as it grows
    this.tool = null; // the latest tool call, which results fold under
    this.note = null; // says that old lines were dropped
  }

  /** Adds a piece of the transcript (not necessarily whole lines). */
  push(text) {
    const stick = this.atBottom();
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop();
    if (this.pendingEl) { this.pendingEl.remove(); this.pendingEl = null; }
    for (const line of parts) this.line(line);
    if (this.partial) {
      this.pendingEl = h('div', { class: 'tx-line tx-pending', text: this.partial });
      this.box.append(this.pendingEl);
    }
    this.trim();
    if (stick) this.box.scrollTop = this.box.scrollHeight;
  }

  /** The stream ended: a last line without newline is a line. */
  end() {
    if (this.pendingEl) { this.pendingEl.remove(); this.pendingEl = null; }
    if (this.partial) { this.line(this.partial); this.partial = ''; }
    if (!this.box.firstChild) this.box.append(h('div', { class: 'tx-line tx-note', text: '(no output)' }));
  }

  atBottom() {
    const b = this.box;
    return b.scrollHeight - b.scrollTop - b.clientHeight < 24;
  }

  line(text) {
    if (this.raw) {
      this.box.append(h('div', { class: 'tx-line', text: text || '\u200b' }));
      return;
    }
    if (text.trim() === '') return;
    if (text.startsWith('▸ ')) {
      // A tool call; it becomes a <details> once a result arrives.
      const el = h('div', { class: 'tx-line tx-tool', text });
      this.tool = { text, el, body: null };
      this.box.append(el);
      return;
    }
    const result = /^ {2}[↳✗] /.test(text);
    if (result && this.tool) {
      this.foldInto(this.tool).append(h('div', {
        class: `tx-line ${text.startsWith('  ✗') ? 'tx-error' : 'tx-result'}`, text,
      }));
      return;
    }
    // An indented line continues what came before it (e.g. a result's summary).
    if (text.startsWith('  ') && this.tool && this.tool.body) {
      this.tool.body.append(h('div', { class: 'tx-line tx-result', text }));
      return;
    }
    this.tool = null;
    const kind = KINDS.find(([p]) => text.startsWith(p));
    const cls = kind ? kind[1] : text.startsWith('  ') ? 'tx-indent' : 'tx-text';
    this.box.append(h('div', { class: `tx-line ${cls}`, text }));
  }

  /** Turns a tool call line into a folded <details>; returns its body. */
  foldInto(tool) {
    if (!tool.body) {
      tool.body = h('div', { class: 'tx-body' });
      const det = h('details', { class: 'tx-fold' },
        // The summary's ::before draws the ▸/▾ the line starts with.
        h('summary', { class: 'tx-line tx-tool', text: tool.text.slice(2) }), tool.body);
      tool.el.replaceWith(det);
      tool.el = det;
    }
    return tool.body;
  }

  /** Keeps the page responsive on huge logs: drops the oldest lines. */
  trim() {
    if (this.box.childElementCount <= MAX_LINES) return;
    if (!this.note) {
      this.note = h('div', { class: 'tx-line tx-note', text: `(older lines are not shown here; \`agentgate queue logs\` has them all)` });
      this.box.prepend(this.note);
    }
    while (this.box.childElementCount > MAX_LINES + 1) this.note.nextElementSibling.remove();
  }
}
