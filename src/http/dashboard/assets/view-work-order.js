// One work order: what it was asked and got, its runs, the live transcript
// of a run (raw log on request), its worktree's diff, and the actions. Kept
// current by the store (WebSocket events); the transcript is the run's SSE.

import { h, badge, toast, fmtDuration, durationMs, fmtTime, fmtCost, fmtCount, fmtWorkspace } from './dom.js';
import { api, streamRun } from './api.js';
import { store, subscribe, refresh } from './store.js';
import { TranscriptView } from './transcript.js';
import { renderDiff } from './diff.js';

const ENDED = new Set(['succeeded', 'failed', 'canceled']);

/** A definition list of [term, value] pairs, skipping empty values. */
function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs
    .filter(([, v]) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

const link = (id) => h('a', { href: `#/work-orders/${encodeURIComponent(id)}`, class: 'mono', text: id });

export function renderWorkOrder(main, id) {
  const title = h('h1', { id: 'wo-title' }, 'Work order ', h('span', { class: 'mono', text: id }));
  const status = h('span', { class: 'wo-status', role: 'status', 'aria-live': 'polite' });
  const message = h('div', { class: 'action-msg', id: 'action-msg' });
  const details = h('div', { class: 'card' });
  const result = h('div', {});
  const runs = h('div', {});
  const prompt = h('pre', { class: 'prompt-full' });
  const txStatus = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const txBox = h('div', { class: 'transcript', role: 'log', tabindex: '0', 'aria-label': 'Transcript', 'aria-live': 'off' });
  const rawBtn = h('button', { type: 'button', class: 'quiet', 'aria-pressed': 'false', text: 'Raw log' });
  const runPick = h('span', { class: 'muted' });
  const diffBox = h('div', {});
  const buttons = {};
  const durationEl = h('span', {}); // ticks while it runs

  let wo = store.orders.get(id) || null;
  let missing = null; // the error when the work order cannot be read
  let raw = false;
  let followLatest = true; // switch to a new run when one starts
  let streamed = { runId: null, raw: false }; // what the transcript shows
  let stream = null; // AbortController of the transcript's stream
  let diffKey = null; // the worktree state the diff was read for
  let busy = false;

  // ---- actions ---------------------------------------------------------

  function say(kind, text) {
    message.replaceChildren(h('p', { class: kind === 'ok' ? 'ok' : 'error', role: kind === 'ok' ? 'status' : 'alert' },
      h('span', { 'aria-hidden': 'true', text: kind === 'ok' ? '✓ ' : '✗ ' }), text));
  }

  /** Runs one action; the API's own message is shown when it refuses. */
  async function act(name, label, body, done) {
    if (busy) return;
    busy = true;
    for (const b of Object.values(buttons)) b.disabled = true;
    message.replaceChildren(h('p', { class: 'muted', text: `${label}…` }));
    try {
      const data = await api('POST', `/api/v1/work-orders/${encodeURIComponent(id)}/${name}`, body);
      done(data);
    } catch (e) {
      say('error', e.message);
    } finally {
      busy = false;
      for (const b of Object.values(buttons)) b.disabled = false;
      refresh(id).catch(() => {});
    }
  }

  const newWorkOrder = (what) => (data) => {
    const wo2 = data && (data.workOrder || data);
    if (wo2 && wo2.id && wo2.id !== id) {
      toast(`${what}: work order ${wo2.id} submitted`);
      location.hash = `#/work-orders/${encodeURIComponent(wo2.id)}`;
    } else {
      say('ok', `${what}: done`);
    }
  };

  const ACTIONS = [
    ['cancel', 'Cancel', 'Stop it (queued or running) and mark it canceled', () => act('cancel', 'Canceling', undefined,
      (d) => say('ok', d.message || `canceled (${d.status})`))],
    ['kill', 'Kill', 'Stop its whole process tree now, SIGTERM then SIGKILL', () => act('kill', 'Killing', {},
      (d) => say('ok', d.message || `killed (${d.status})`))],
    ['restart', 'Restart', 'Run the same prompt again as a new work order', () => act('restart', 'Restarting', {},
      newWorkOrder('Restarted'))],
    ['merge', 'Merge', 'Land its worktree branch on the branch it came from', () => act('merge', 'Merging', {},
      (d) => say('ok', d.merge ? `merged into ${d.merge.into} (${String(d.merge.commit).slice(0, 10)})` : 'merged'))],
    ['discard', 'Discard', 'Remove its worktree and delete its branch', () => act('discard', 'Discarding', {},
      () => say('ok', 'worktree and branch removed'))],
  ];
  const contToggle = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'continue-form', text: 'Continue…', title: 'Send a follow-up prompt that resumes the agent’s session' });
  const actionBar = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' },
    ACTIONS.map(([name, label, hint, run]) => {
      buttons[name] = h('button', { type: 'button', class: name === 'kill' || name === 'discard' ? 'danger' : '', title: hint, onclick: run, text: label });
      return buttons[name];
    }), contToggle);

  // Continue: a follow-up that resumes the agent's session.
  const contText = h('textarea', { id: 'continue-prompt', rows: '3', required: true });
  buttons.continue = h('button', { type: 'submit', class: 'primary', text: 'Continue' });
  const contForm = h('form', {
    class: 'continue stack card',
    id: 'continue-form',
    hidden: true,
    onsubmit: (ev) => {
      ev.preventDefault();
      const prompt2 = contText.value.trim();
      if (!prompt2) { say('error', 'write the follow-up prompt first'); contText.focus(); return; }
      act('continue', 'Continuing', { prompt: prompt2 }, newWorkOrder('Continued'));
    },
  }, h('label', { for: 'continue-prompt', text: 'Continue with a follow-up prompt (resumes the agent’s session)' }), contText,
  h('div', {}, buttons.continue));
  contText.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); contForm.requestSubmit(); }
  });
  contToggle.addEventListener('click', () => {
    const open = contForm.hidden;
    contForm.hidden = !open;
    contToggle.setAttribute('aria-expanded', String(open));
    if (open) contText.focus();
  });

  // ---- transcript ------------------------------------------------------

  function latestRun() {
    if (!wo) return null;
    return wo.currentRunId || (wo.runIds && wo.runIds[wo.runIds.length - 1]) || null;
  }

  function stopStream() {
    if (stream) stream.abort();
    stream = null;
  }

  /** Streams run `runId` into the transcript box, from its start. */
  function startStream(runId) {
    stopStream();
    streamed = { runId, raw };
    txBox.replaceChildren();
    txBox.classList.toggle('raw', raw);
    runPick.textContent = runId ? `run ${runId}` : '';
    if (!runId) {
      txStatus.textContent = wo && wo.status === 'queued' ? 'Not started yet: the transcript appears when it runs.' : 'No run.';
      return;
    }
    const ctl = new AbortController();
    stream = ctl;
    const view = new TranscriptView(txBox, { raw });
    txStatus.textContent = 'connecting…';
    streamRun(runId, {
      raw,
      signal: ctl.signal,
      onEvent: (type, ev) => {
        if (stream !== ctl) return;
        const data = (ev && ev.data) || {};
        if (type === 'connected') txStatus.textContent = data.runStatus === 'running' ? '● live' : 'reading…';
        else if (type === 'agent-output' && typeof data.content === 'string') view.push(data.content);
        else if (type === 'run-complete') {
          view.end();
          txStatus.textContent = `run ${data.status || 'ended'}`;
          refresh(id).catch(() => {}); // its status changed with it
        }
        else if (type === 'error') { view.end(); txStatus.textContent = `✗ ${data.message || 'stream error'}`; }
      },
    }).then(() => {
      if (stream === ctl) { view.end(); if (txStatus.textContent.startsWith('●') || txStatus.textContent.endsWith('…')) txStatus.textContent = 'stream ended'; }
    }, (e) => {
      if (e.name !== 'AbortError' && stream === ctl) txStatus.textContent = `✗ ${e.message}`;
    });
  }

  rawBtn.addEventListener('click', () => {
    raw = !raw;
    rawBtn.setAttribute('aria-pressed', String(raw));
    startStream(streamed.runId || latestRun());
  });

  // ---- diff ------------------------------------------------------------

  async function loadDiff(all = false) {
    const wt = wo && wo.worktree;
    if (!wt) {
      diffBox.replaceChildren(h('p', { class: 'muted' }, 'No worktree: only work submitted with ', h('code', { text: '--worktree' }),
        ' (or the Worktree box) has changes of its own to review.'));
      return;
    }
    if (wt.discarded) { diffBox.replaceChildren(h('p', { class: 'muted', text: 'The worktree was discarded.' })); return; }
    diffBox.replaceChildren(h('p', { class: 'muted', text: 'Reading the diff…' }));
    try {
      const text = await api('GET', `/api/v1/work-orders/${encodeURIComponent(id)}/diff`);
      diffBox.replaceChildren(
        h('p', { class: 'muted small' }, 'Branch ', h('code', { text: wt.branch || '' }), ' from ', h('code', { text: wt.fromBranch || String(wt.base || '').slice(0, 10) })),
        renderDiff(String(text), { all, onShowAll: () => loadDiff(true) }));
    } catch (e) {
      diffBox.replaceChildren(h('p', { class: 'error', text: `✗ ${e.message}` }));
    }
  }

  // ---- the work order itself -------------------------------------------

  function drawRuns() {
    const list = wo.runs || [];
    if (list.length === 0) { runs.replaceChildren(h('p', { class: 'muted', text: 'No runs yet.' })); return; }
    runs.replaceChildren(h('ul', { class: 'run-list' }, [...list].reverse().map((r) => {
      const outcome = [r.result, r.exitCode !== null && r.exitCode !== undefined ? `exit ${r.exitCode}` : null,
        r.signal ? `signal ${r.signal}` : null].filter(Boolean).join(', ');
      return h('li', { class: 'card' },
        h('div', { class: 'title-row' }, h('span', { class: 'mono', text: r.id }), badge(r.status)),
        h('div', { class: 'muted small' }, `${fmtTime(r.startedAt)} · ${fmtDuration(durationMs(r))}`, outcome ? ` · ${outcome}` : ''),
        r.error ? h('div', { class: 'err small', text: r.error }) : null,
        h('button', {
          type: 'button', class: 'quiet', 'aria-pressed': String(streamed.runId === r.id),
          'aria-label': `Transcript of run ${r.id}`,
          onclick: () => { followLatest = r.id === latestRun(); startStream(r.id); drawRuns(); },
          text: 'Transcript',
        }));
    })));
  }

  function drawResult() {
    const ar = wo.agentResult;
    if (!ar) { result.replaceChildren(); return; }
    const tokens = [ar.inputTokens !== null && ar.inputTokens !== undefined ? `${fmtCount(ar.inputTokens)} in` : null,
      ar.outputTokens !== null && ar.outputTokens !== undefined ? `${fmtCount(ar.outputTokens)} out` : null,
      ar.cachedInputTokens ? `${fmtCount(ar.cachedInputTokens)} cached` : null].filter(Boolean).join(', ');
    result.replaceChildren(h('h2', { text: 'Agent result' }), h('div', { class: 'card' }, facts([
      ['Agent', ar.agent], ['Model', ar.model], ['Session', ar.sessionId ? h('code', { text: ar.sessionId }) : null],
      ['Turns', ar.turns !== null && ar.turns !== undefined ? String(ar.turns) : null], ['Tokens', tokens],
      ['Cost', fmtCost(ar.costUsd)], ['Duration', ar.durationMs !== null && ar.durationMs !== undefined ? fmtDuration(ar.durationMs) : null],
      ['Error', ar.isError ? 'yes' : null],
    ]), ar.summary ? h('pre', { class: 'prompt-full', text: ar.summary }) : null));
  }

  function draw() {
    if (!wo && missing) {
      // Nothing to act on: the reason alone (e.g. no such work order).
      stopStream();
      article.replaceChildren(crumbs, h('h1', { id: 'wo-title' }, 'Work order ', h('span', { class: 'mono', text: id })),
        h('p', { class: 'error', role: 'alert', text: `✗ ${missing.message}` }));
      return;
    }
    if (!wo) {
      status.replaceChildren();
      details.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
      return;
    }
    document.title = `${wo.id} ${wo.status} · agentgate`;
    status.replaceChildren(badge(wo.status));
    prompt.textContent = wo.taskPrompt;
    const wt = wo.worktree;
    const res = [wo.result, wo.exitCode !== null && wo.exitCode !== undefined ? `exit ${wo.exitCode}` : null,
      wo.signal ? `signal ${wo.signal}` : null].filter(Boolean).join(', ');
    details.replaceChildren(facts([
      ['Status', wo.legacyStatus ? `${wo.status} (${wo.legacyStatus})` : wo.status],
      ['Why it waits', wo.status === 'queued' ? wo.queuedReason : null],
      ['Agent', wo.agentType],
      ['Workspace', h('code', { text: fmtWorkspace(wo.workspaceSource) })],
      ['Worktree', wt ? h('span', {}, h('code', { text: wt.branch || '' }), wt.discarded ? ' (discarded)' : '', ' at ', h('code', { text: wt.path || '' })) : null],
      ['Merged', (wo.merges || []).length ? wo.merges.map((m) => `into ${m.into} (${String(m.commit).slice(0, 10)})`).join('; ') : null],
      ['Labels', (wo.labels || []).map((l) => h('span', { class: 'chip', text: l }))],
      ['Priority', String(wo.priority ?? 0)],
      ['After', (wo.dependsOn || []).map((d) => [link(d), ' '])],
      ['Continues', wo.parentId ? link(wo.parentId) : null],
      ['Restarted from', wo.restartedFrom ? link(wo.restartedFrom) : null],
      ['Created', fmtTime(wo.createdAt)],
      ['Started', wo.startedAt ? fmtTime(wo.startedAt) : null],
      ['Ended', wo.completedAt ? fmtTime(wo.completedAt) : null],
      ['Duration', wo.startedAt ? durationEl : null],
      ['Result', res || null],
      ['Error', wo.error ? h('span', { class: 'err', text: wo.error }) : null],
      ['Limits', `${fmtDuration(wo.maxTime * 1000)}, ${wo.maxIterations} iterations`],
      ['Sandbox', wo.sandboxApplied || null],
      ['Environment', Object.keys(wo.env || {}).map((k) => h('code', { class: 'chip', text: k }))],
      ['Setup', wo.setup ? h('code', { text: wo.setup }) : null],
    ]));
    durationEl.textContent = fmtDuration(durationMs(wo));
    drawResult();
    drawRuns();
    // Follow the newest run (a retry or the first start).
    const latest = latestRun();
    if (followLatest && latest !== streamed.runId) startStream(latest);
    else if (!streamed.runId && !latest) startStream(null);
    // The diff changes while it runs and when it lands: reread on those.
    const key = wt ? `${wo.status}|${wt.discarded}|${(wt.merges || []).length}|${wo.updatedAt}` : 'none';
    if (key !== diffKey && (ENDED.has(wo.status) || diffKey === null)) { diffKey = key; loadDiff(); }
  }

  const crumbs = h('p', { class: 'crumbs' }, h('a', { href: '#/', text: '← Queue' }));
  const article = h('article', { class: 'view-wo', 'aria-labelledby': 'wo-title' },
    crumbs,
    h('div', { class: 'title-row' }, title, status),
    actionBar, message, contForm,
    h('div', { class: 'wo-grid' },
      h('div', { class: 'wo-main' },
        h('h2', { text: 'Prompt' }), prompt,
        h('section', { 'aria-labelledby': 'tx-title' },
          h('div', { class: 'title-row' }, h('h2', { id: 'tx-title', text: 'Transcript' }), runPick, txStatus, rawBtn),
          txBox),
        h('section', { 'aria-labelledby': 'diff-title' }, h('h2', { id: 'diff-title', text: 'Changes' }), diffBox)),
      h('aside', { class: 'wo-side', 'aria-label': 'About this work order' },
        h('h2', { text: 'Details' }), details,
        result,
        h('h2', { text: 'Runs' }), runs)));
  main.replaceChildren(article);
  document.title = `${id} · agentgate`;

  const unsubscribe = subscribe((changed) => {
    if (changed !== null && changed !== id) return;
    const next = store.orders.get(id);
    if (!next) return;
    if (!next.runs && !store.inflight.has(id)) { refresh(id).catch(() => {}); return; }
    wo = next;
    draw();
  });
  // Always fetch the detail (with its runs), even when the list had it.
  refresh(id).catch((e) => { missing = e; wo = null; draw(); });
  if (wo && !wo.runs) wo = null;
  draw();
  const timer = setInterval(() => { if (wo && wo.status === 'running') durationEl.textContent = fmtDuration(durationMs(wo)); }, 1000);
  return () => { unsubscribe(); stopStream(); clearInterval(timer); };
}
