//! Human output: tables fitted to the terminal (see `table`), colours only
//! on a TTY without NO_COLOR, short durations, user data escaped.

use std::io::IsTerminal;
use std::time::Duration;

use super::table::{self, Column, Fit, Lines, escape, one_line};
use crate::model::units::{format_duration, format_size};
use crate::model::{Status, Timestamp, WorkOrder};
use crate::service::{Health, ListPage, QueueConfig, WorkOrderDetail};

/// "1 work order", "3 work orders".
pub fn work_orders(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 work order".to_string(),
        n => format!("{n} work orders"),
    }
}

pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// The SGR colour of a status.
fn status_color(s: Status) -> &'static str {
    match s {
        Status::Queued => "34",
        Status::Running | Status::WaitingForChildren | Status::Integrating => "33",
        Status::Succeeded => "32",
        Status::Failed => "31",
        Status::Canceled => "90",
    }
}

fn since(t: Timestamp, now: Timestamp) -> Duration {
    Duration::from_millis((now.millis() - t.millis()).max(0) as u64)
}

pub fn age(wo: &WorkOrder, now: Timestamp) -> String {
    format_duration(since(wo.created_at, now))
}

pub fn run_duration(wo: &WorkOrder, now: Timestamp) -> String {
    match wo.started_at {
        Some(start) => {
            let end = wo.completed_at.unwrap_or(now);
            format_duration(since(start, end))
        }
        None => "-".into(),
    }
}

/// A delay for people: `0s`, `250ms`, `30s`, `5m`.
fn delay(ms: u64) -> String {
    if ms == 0 {
        "0s".into()
    } else {
        format_duration(Duration::from_millis(ms))
    }
}

/// `$0.1234, 5 turns, 1200 in, 300 out tokens, 12.3s` (and `error` when
/// the agent says so).
pub fn agent_facts(r: &crate::model::AgentResult) -> String {
    let mut facts = Vec::new();
    if let Some(c) = r.cost_usd {
        facts.push(format!("${c:.4}"));
    }
    if let Some(t) = r.turns {
        facts.push(format!("{t} turn{}", if t == 1 { "" } else { "s" }));
    }
    if let Some(t) = r.usage().describe() {
        facts.push(t);
    }
    if let Some(ms) = r.duration_ms {
        facts.push(format_duration(Duration::from_millis(ms)));
    }
    if r.is_error {
        facts.push("reported an error".into());
    }
    facts.join(", ")
}

pub(super) fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// How a work order stands or ended, e.g. `succeeded`, `running`,
/// `failed: exited with code 1`, `canceled by user`, `failed (timeout)`
/// (escaped: the error may hold anything).
pub fn outcome(wo: &WorkOrder) -> String {
    let text = match (&wo.error, wo.result) {
        (Some(e), _) if e.starts_with(wo.status.as_str()) => e.clone(),
        (Some(e), _) => format!("{}: {e}", wo.status),
        (None, Some(r)) if wo.status != Status::Succeeded => {
            format!("{} ({})", wo.status, r.as_str())
        }
        _ => wo.status.to_string(),
    };
    one_line(&text).into_owned()
}

/// One line of at most `width` columns, escaped, with `…` when cut.
pub fn truncate(s: &str, width: usize) -> String {
    table::cut(&one_line(s), width).into_owned()
}

/// The agent type as a table shows it: `claude` for the Claude Code types.
pub fn short_agent(agent: &str) -> &str {
    match agent {
        "claude-code-subscription" | "claude-code-api" => "claude",
        "claude-agent-sdk" => "claude-sdk",
        other => other,
    }
}

/// How `queue list` lays out its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListStyle {
    /// Every column, full agent names, nothing cut but the prompt.
    pub wide: bool,
    /// Nothing cut at all.
    pub no_truncate: bool,
}

/// `queue list` for a terminal: lines no wider than it (unless asked), and
/// the "showing N of M" note (for stderr) when the page is not everything.
pub fn list_table(page: &ListPage, style: ListStyle) -> (Vec<String>, Option<String>) {
    if page.items.is_empty() {
        let note = if page.total == 0 {
            "no work orders".to_string()
        } else {
            format!("no work orders on this page ({} in all)", page.total)
        };
        return (vec![], Some(note));
    }
    let now = Timestamp::now();
    let items = &page.items;
    let cells = |f: &dyn Fn(usize, &WorkOrder) -> String| -> Vec<String> {
        items.iter().enumerate().map(|(i, w)| f(i, w)).collect()
    };
    let mut columns = vec![
        Column::new("ID", u8::MAX, cells(&|_, w| one_line(&w.id).into_owned())),
        Column::new("STATUS", u8::MAX, cells(&|_, w| w.status.to_string()))
            .colored(items.iter().map(|w| Some(status_color(w.status))).collect()),
        Column::new(
            "AGENT",
            60,
            cells(&|_, w| {
                let a = if style.wide {
                    &w.agent_type
                } else {
                    short_agent(&w.agent_type)
                };
                one_line(a).into_owned()
            }),
        )
        .shrinks_to(6),
    ];
    if items.iter().any(|w| w.priority != 0) {
        columns.push(Column::new(
            "PRI",
            45,
            cells(&|_, w| w.priority.to_string()),
        ));
    }
    if items.iter().any(|w| !w.more.labels.is_empty()) {
        columns.push(
            Column::new(
                "LABELS",
                30,
                cells(&|_, w| one_line(&w.more.labels.join(",")).into_owned()),
            )
            .shrinks_to(8),
        );
    }
    columns.push(Column::new("AGE", 40, cells(&|_, w| age(w, now))));
    columns.push(Column::new(
        "DURATION",
        50,
        cells(&|_, w| run_duration(w, now)),
    ));
    let cost = |w: &WorkOrder| w.agent_result.as_ref().and_then(|r| r.cost_usd);
    if items.iter().any(|w| cost(w).is_some()) {
        columns.push(Column::new(
            "COST",
            35,
            cells(&|_, w| cost(w).map(format_cost).unwrap_or_default()),
        ));
    }
    if page.reasons.iter().any(Option::is_some) {
        columns.push(
            Column::new(
                "REASON",
                70,
                cells(&|i, _| {
                    page.reason(i)
                        .map(|r| one_line(r).into_owned())
                        .unwrap_or_default()
                }),
            )
            .shrinks_to(12),
        );
    }
    columns.push(Column::new(
        "PROMPT",
        u8::MAX,
        cells(&|_, w| one_line(&w.task_prompt).into_owned()),
    ));
    let width = table::terminal_width();
    let fit = match (style.no_truncate, style.wide) {
        (true, _) => Fit::Natural,
        (false, true) => Fit::Wide(width),
        (false, false) => Fit::Width(width),
    };
    let lines = table::render(&columns, fit, use_color());
    (lines, page_note(page))
}

/// A reported cost in dollars: cents, or four decimals below a dollar.
pub fn format_cost(usd: f64) -> String {
    if usd < 1.0 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.2}")
    }
}

/// "showing 20 of 44" when the page is not everything.
pub fn page_note(page: &ListPage) -> Option<String> {
    (page.has_more || page.offset > 0).then(|| {
        format!(
            "showing {} of {} (use --all or --limit N for more)",
            page.items.len(),
            page.total
        )
    })
}

/// `queue list` for a pipe: one work order per line, tab-separated, nothing
/// cut, always the same columns: id, status, agent, priority, labels, age,
/// duration, queued reason, prompt (`-` for none).
pub fn list_tsv(page: &ListPage) -> Vec<String> {
    let now = Timestamp::now();
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    page.items
        .iter()
        .enumerate()
        .map(|(i, w)| {
            [
                one_line(&w.id).into_owned(),
                w.status.to_string(),
                one_line(&w.agent_type).into_owned(),
                w.priority.to_string(),
                dash(one_line(&w.more.labels.join(",")).into_owned()),
                age(w, now),
                run_duration(w, now),
                dash(
                    page.reason(i)
                        .map(|r| one_line(r).into_owned())
                        .unwrap_or_default(),
                ),
                one_line(&w.task_prompt).into_owned(),
            ]
            .join("\t")
        })
        .collect()
}

/// `label:       value`, with the value's further lines indented under it.
fn field(lines: &mut Vec<String>, label: &str, value: &str) {
    const INDENT: usize = 13;
    let mut first = true;
    for l in value.split('\n') {
        if first {
            lines.push(format!("{:<INDENT$}{l}", format!("{label}:")));
            first = false;
        } else {
            lines.push(format!("{:INDENT$}{l}", ""));
        }
    }
}

pub fn detail(d: &WorkOrderDetail) -> String {
    let wo = &d.work_order;
    let now = Timestamp::now();
    let mut lines = Vec::new();
    let mut add = |label: &str, value: &str| field(&mut lines, label, &escape(value, Lines::Keep));
    add("id", &wo.id);
    add("status", wo.status.as_str());
    if let Some(r) = &d.queued_reason {
        add("waiting", r);
    }
    add("agent", &wo.agent_type);
    add("workspace", &wo.workspace_source.describe());
    if let Some(s) = &wo.more.sandbox_applied {
        add("sandbox", s);
    } else if let Some(m) = wo.more.sandbox.as_ref().and_then(|s| s.mode) {
        add("sandbox", m.as_str());
    }
    if let Some(s) = wo.more.sandbox.as_deref()
        && !s.forbidden_patterns.is_empty()
    {
        add("forbidden", &s.forbidden_patterns.join(", "));
    }
    if wo.priority != 0 {
        add("priority", &wo.priority.to_string());
    }
    if !wo.more.labels.is_empty() {
        add("labels", &wo.more.labels.join(", "));
    }
    if !d.dependencies.is_empty() {
        let deps: Vec<String> = d
            .dependencies
            .iter()
            .map(|(id, s)| format!("{id} ({})", s.map_or("purged", Status::as_str)))
            .collect();
        add("after", &deps.join(", "));
    }
    if let Some(r) = &wo.more.restarted_from {
        add("restart of", r);
    }
    add(
        "created",
        &format!("{} ({} ago)", wo.created_at, age(wo, now)),
    );
    if let Some(t) = wo.started_at {
        add("started", &t.to_string());
    }
    if let Some(t) = wo.completed_at {
        add("completed", &t.to_string());
    }
    add("duration", &run_duration(wo, now));
    add("max time", &format!("{}s", wo.max_time));
    if let Some(t) = wo.timeout_at
        && !wo.status.is_terminal()
    {
        add("timeout at", &t.to_string());
    }
    if let Some(pid) = wo.pid {
        add("pid", &pid.to_string());
    }
    if let Some(r) = wo.result {
        add("result", r.as_str());
    }
    if let Some(c) = wo.exit_code {
        add("exit code", &c.to_string());
    }
    if let Some(s) = wo.signal {
        add("signal", &s.to_string());
    }
    if let Some(e) = &wo.error {
        add("error", e);
    }
    if let Some(p) = &wo.more.parent_id {
        add(
            "follows up",
            &format!(
                "{p}{}",
                wo.more
                    .resume_session
                    .as_deref()
                    .map(|s| format!(" (session {s})"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(r) = &wo.agent_result {
        // A run cut off before its result has only its session.
        let facts = agent_facts(r);
        if !facts.is_empty() {
            add("agent run", &facts);
        }
        if let Some(m) = &r.model {
            add("model", m);
        }
        if let Some(s) = &r.session_id {
            add("session", s);
        }
        if let Some(s) = &r.summary {
            add("summary", s);
        }
    }
    if let Some(w) = &wo.more.worktree {
        add(
            "worktree",
            &format!(
                "{} (branch {}, from {})",
                w.path,
                w.branch,
                short_sha(&w.base)
            ),
        );
        if let Some(c) = &w.changes {
            add("changes", &c.describe());
        }
    }
    if !wo.more.env.is_empty() {
        // Names only: values may be secrets (`--json` has them).
        add(
            "env",
            &wo.more.env.keys().cloned().collect::<Vec<_>>().join(", "),
        );
    }
    add("prompt", &wo.task_prompt);
    for run in &d.runs {
        lines.push(
            one_line(&format!(
                "run {}: {} started {}{}",
                run.id,
                run.status,
                run.started_at,
                run.result
                    .map(|r| format!(" ({})", r.as_str()))
                    .unwrap_or_default()
            ))
            .into_owned(),
        );
        if let Some(h) = &run.executor {
            let state = match (&run.executor_state, &run.executor_reason) {
                (Some(s), Some(r)) if run.status == Status::Running => format!(", {s}: {r}"),
                (Some(s), None) if run.status == Status::Running => format!(", {s}"),
                _ => String::new(),
            };
            lines.push(one_line(&format!("  supervised by: {}{state}", h.describe())).into_owned());
        }
        if let Some(c) = &run.cgroup {
            lines.push(one_line(&format!("  cgroup:        {c}")).into_owned());
        }
        if run.peak_memory_bytes.is_some() || run.cpu_time_ms.is_some() {
            lines.push(format!(
                "  usage:         peak memory {}, CPU time {}",
                run.peak_memory_bytes
                    .map(format_size)
                    .unwrap_or_else(|| "-".into()),
                run.cpu_time_ms
                    .map(|ms| format_duration(Duration::from_millis(ms)))
                    .unwrap_or_else(|| "-".into())
            ));
        }
    }
    lines.join("\n")
}

/// `3 (set at run time; configured 2)` when a run-time change is in force.
fn setting(value: String, configured: String, overridden: bool) -> String {
    if overridden {
        format!("{value} (set at run time; configured {configured})")
    } else {
        value
    }
}

/// The admission settings in force, one per line (`queue config`, `pause`).
pub fn queue_config(c: &QueueConfig) -> String {
    let over = |name: &str| c.overrides.iter().any(|o| o == name);
    let lines = [
        format!(
            "paused:          {}",
            if c.paused {
                "yes (queued work stays queued; `agentgate queue resume` resumes)"
            } else {
                "no"
            }
        ),
        format!(
            "max concurrent:  {}",
            setting(
                c.max_concurrent.to_string(),
                c.configured_max_concurrent.to_string(),
                over("maxConcurrent")
            )
        ),
        format!(
            "stagger delay:   {}",
            setting(
                delay(c.stagger_delay_ms),
                delay(c.configured_stagger_delay_ms),
                over("staggerDelayMs")
            )
        ),
        format!(
            "min memory:      {}",
            setting(
                format_size(c.min_memory_bytes),
                format_size(c.configured_min_memory_bytes),
                over("minMemoryBytes")
            )
        ),
    ];
    lines.join("\n")
}

pub fn health(h: &Health) -> String {
    let c = &h.config;
    let over = |name: &str| c.overrides.iter().any(|o| o == name);
    let mut lines = vec![
        format!("status:       {}", h.status),
        format!(
            "running:      {} of {} (oldest {})",
            h.running_count,
            h.max_concurrent,
            h.oldest_running_age
                .map(|ms| format_duration(Duration::from_millis(ms)))
                .unwrap_or_else(|| "-".into())
        ),
        format!(
            "queued:       {} (limit {}{}){}",
            h.queued_count,
            if h.max_queue_size == 0 {
                "none".to_string()
            } else {
                h.max_queue_size.to_string()
            },
            if h.average_wait_ms > 0 {
                format!(
                    ", recent wait {}",
                    format_duration(Duration::from_millis(h.average_wait_ms))
                )
            } else {
                String::new()
            },
            h.queued_reason
                .as_deref()
                .map(|r| format!("; next waits for {}", one_line(r)))
                .unwrap_or_default()
        ),
        format!(
            "finished:     {} succeeded, {} failed, {} canceled{}",
            h.completed_count,
            h.failed_count,
            h.canceled_count,
            if h.total_cost_usd > 0.0 {
                format!("; agents' cost ${:.2}", h.total_cost_usd)
            } else {
                String::new()
            }
        ),
        format!(
            "memory:       {} MiB available (minimum {} MiB)",
            h.available_mb
                .map(|m| m.to_string())
                .unwrap_or_else(|| "?".into()),
            h.min_memory_mb
        ),
        format!(
            "admission:    {}, auto-process: {}, accepting: {}",
            if h.paused { "PAUSED" } else { "on" },
            if h.auto_process { "on" } else { "off" },
            if h.accepting { "yes" } else { "no" }
        ),
        format!(
            "limits:       max concurrent {}, stagger delay {}, min memory {}",
            setting(
                c.max_concurrent.to_string(),
                c.configured_max_concurrent.to_string(),
                over("maxConcurrent")
            ),
            setting(
                delay(c.stagger_delay_ms),
                delay(c.configured_stagger_delay_ms),
                over("staggerDelayMs")
            ),
            setting(
                format_size(c.min_memory_bytes),
                format_size(c.configured_min_memory_bytes),
                over("minMemoryBytes")
            )
        ),
        format!(
            "storage:      {} quarantined, {} orphan runs removed, {} dangling run refs",
            h.storage.quarantined, h.storage.orphan_runs_removed, h.storage.dangling_run_refs
        ),
    ];
    for e in &h.executors {
        lines.push(
            one_line(&format!(
                "{:<13} {} of {} running; {}{}",
                format!("{}:", e.name),
                e.running,
                e.max_concurrent,
                if e.healthy { "" } else { "UNHEALTHY: " },
                e.detail
            ))
            .into_owned(),
        );
    }
    if h.alerts.is_empty() {
        lines.push("alerts:       none".into());
    } else {
        lines.push("alerts:".into());
        for a in &h.alerts {
            lines.push(one_line(&format!("  [{}] {}", a.kind, a.message)).into_owned());
        }
    }
    lines.join("\n")
}
