// The submit form: what `agentgate submit` takes, as POST /api/v1/work-orders.

import { h, toast } from './dom.js';
import { api } from './api.js';
import { upsert } from './store.js';

/** The agent types every daemon knows; the config may add more (free text is accepted). */
const AGENTS = ['claude-code-subscription', 'claude-code-api', 'claude-agent-sdk', 'codex', 'gemini', 'shell'];
const REMEMBER = 'agentgate.submit'; // last agent and workspace, for the next submit

/**
 * The workspace field as the API's workspaceSource: an absolute path is a
 * local directory, OWNER/REPO a GitHub repository, anything with a scheme
 * (or git@host:...) a git URL (GitHub's read as GitHub).
 */
function workspaceSource(text, branch) {
  const v = text.trim();
  const b = branch.trim() || undefined;
  if (v.startsWith('/')) return { type: 'local', path: v };
  if (/^https?:\/\/(www\.)?github\.com\//i.test(v)) return { type: 'github', url: v, branch: b };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^[^/\s]+@[^:\s]+:/.test(v)) return { type: 'git', url: v, branch: b };
  if (/^[\w.-]+\/[\w.-]+$/.test(v)) return { type: 'github', repo: v, branch: b };
  throw new Error('workspace: give an absolute directory (/home/me/project), OWNER/REPO, or a git URL');
}

/** KEY=VALUE lines (blank lines and # comments skipped) as an object. */
function parseEnv(text) {
  const env = {};
  text.split('\n').forEach((line, i) => {
    const l = line.trim();
    if (!l || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    if (eq <= 0) throw new Error(`env line ${i + 1}: write KEY=VALUE`);
    env[l.slice(0, eq).trim()] = l.slice(eq + 1);
  });
  return env;
}

const words = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

export function renderSubmit(main) {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(REMEMBER) || '{}') || {}; } catch { saved = {}; }

  const field = (id, label, input, help) => h('div', { class: 'field' },
    h('label', { for: id, text: label }), input,
    help ? h('p', { class: 'help', id: `${id}-help`, text: help }) : null);
  const prompt = h('textarea', { id: 's-prompt', name: 'prompt', rows: '6', required: true, 'aria-describedby': 's-prompt-help' });
  const agent = h('input', { id: 's-agent', name: 'agent', list: 's-agents', value: saved.agent || 'claude-code-subscription', required: true, autocomplete: 'off', spellcheck: 'false' });
  const workspace = h('input', { id: 's-workspace', name: 'workspace', value: saved.workspace || '', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 's-workspace-help' });
  const branch = h('input', { id: 's-branch', name: 'branch', autocomplete: 'off', spellcheck: 'false' });
  const worktree = h('input', { id: 's-worktree', name: 'worktree', type: 'checkbox' });
  const labels = h('input', { id: 's-labels', name: 'labels', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 's-labels-help' });
  const priority = h('input', { id: 's-priority', name: 'priority', type: 'number', step: '1', value: '0', inputmode: 'numeric' });
  const after = h('input', { id: 's-after', name: 'after', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 's-after-help' });
  const env = h('textarea', { id: 's-env', name: 'env', rows: '3', spellcheck: 'false', 'aria-describedby': 's-env-help' });
  const message = h('div', { class: 'action-msg' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Submit' });

  async function onSubmit(ev) {
    ev.preventDefault();
    message.replaceChildren();
    let body;
    try {
      body = {
        taskPrompt: prompt.value,
        agentType: agent.value.trim(),
        workspaceSource: workspaceSource(workspace.value, branch.value),
        worktree: worktree.checked,
        priority: Number.parseInt(priority.value || '0', 10),
      };
      if (!body.taskPrompt.trim()) throw new Error('prompt: write what the agent should do');
      if (!Number.isFinite(body.priority)) throw new Error('priority: a whole number');
      const l = words(labels.value);
      if (l.length) body.labels = l;
      const a = words(after.value);
      if (a.length) body.dependsOn = a;
      const e = parseEnv(env.value);
      if (Object.keys(e).length) body.env = e;
    } catch (e) {
      message.replaceChildren(h('p', { class: 'error', role: 'alert', text: `✗ ${e.message}` }));
      return;
    }
    submit.disabled = true;
    try {
      const wo = await api('POST', '/api/v1/work-orders', body);
      try { localStorage.setItem(REMEMBER, JSON.stringify({ agent: body.agentType, workspace: workspace.value.trim() })); } catch { /* private mode */ }
      upsert(wo);
      prompt.value = '';
      message.replaceChildren(h('p', { class: 'ok', role: 'status' }, '✓ Submitted ',
        h('a', { href: `#/work-orders/${encodeURIComponent(wo.id)}`, class: 'mono', text: wo.id }), ` (${wo.status}).`));
      toast(`Submitted ${wo.id}`);
    } catch (e) {
      message.replaceChildren(h('p', { class: 'error', role: 'alert', text: `✗ ${e.message}` }));
    } finally {
      submit.disabled = false;
    }
  }

  // Ctrl+Enter (⌘+Enter) in the prompt submits, as in most editors.
  prompt.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); ev.target.form.requestSubmit(); }
  });
  main.replaceChildren(h('section', { class: 'view-submit', 'aria-labelledby': 'submit-title' },
    h('h1', { id: 'submit-title', text: 'Submit a work order' }),
    h('form', { class: 'card stack submit-form', onsubmit: onSubmit, novalidate: true },
      field('s-prompt', 'Prompt', prompt, 'What the agent should do (for the shell agent: the command to run). Ctrl+Enter submits.'),
      h('div', { class: 'grid2' },
        field('s-agent', 'Agent type', agent),
        field('s-priority', 'Priority', priority)),
      h('datalist', { id: 's-agents' }, AGENTS.map((a) => h('option', { value: a }))),
      h('div', { class: 'grid2' },
        field('s-workspace', 'Workspace', workspace, 'An absolute directory, OWNER/REPO on GitHub, or a git URL.'),
        field('s-branch', 'Branch (to clone)', branch)),
      h('div', { class: 'check' }, worktree, h('label', { for: 's-worktree', text: 'Run in a git worktree of its own (branch agentgate/<id>)' })),
      h('div', { class: 'grid2' },
        field('s-labels', 'Labels', labels, 'Separated by spaces or commas.'),
        field('s-after', 'After', after, 'Ids of work orders that must succeed first.')),
      field('s-env', 'Environment', env, 'KEY=VALUE lines, for this work order’s agent only.'),
      message,
      h('div', {}, submit))));
  document.title = 'Submit · agentgate';
  prompt.focus();
  return () => {};
}
