//! Human output: tables (comfy-table), colours only on a TTY without NO_COLOR,
//! short durations, prompts truncated to the terminal width.

use comfy_table::presets::NOTHING;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use std::io::IsTerminal;
use std::time::Duration;

use crate::model::units::format_duration;
use crate::model::{Status, Timestamp, WorkOrder};
use crate::service::{Health, ListPage, WorkOrderDetail};

pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

pub fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return cols;
    }
    Table::new().width().map(usize::from).unwrap_or(120)
}

fn status_color(s: Status) -> Color {
    match s {
        Status::Queued => Color::Blue,
        Status::Running | Status::WaitingForChildren | Status::Integrating => Color::Yellow,
        Status::Succeeded => Color::Green,
        Status::Failed => Color::Red,
        Status::Canceled => Color::DarkGrey,
    }
}

pub fn status_cell(s: Status, color: bool) -> Cell {
    let cell = Cell::new(s.as_str());
    if color {
        cell.fg(status_color(s))
    } else {
        cell
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

/// `$0.1234, 5 turns, 12.3s` (and `error` when the agent says so).
pub fn agent_facts(r: &crate::model::AgentResult) -> String {
    let mut facts = Vec::new();
    if let Some(c) = r.cost_usd {
        facts.push(format!("${c:.4}"));
    }
    if let Some(t) = r.turns {
        facts.push(format!("{t} turn{}", if t == 1 { "" } else { "s" }));
    }
    if let Some(ms) = r.duration_ms {
        facts.push(format_duration(Duration::from_millis(ms)));
    }
    if r.is_error {
        facts.push("reported an error".into());
    }
    facts.join(", ")
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// How a work order stands or ended, e.g. `succeeded`, `running`,
/// `failed: exited with code 1`, `canceled by user`, `failed (timeout)`.
pub fn outcome(wo: &WorkOrder) -> String {
    match (&wo.error, wo.result) {
        (Some(e), _) if e.starts_with(wo.status.as_str()) => e.clone(),
        (Some(e), _) => format!("{}: {e}", wo.status),
        (None, Some(r)) if wo.status != Status::Succeeded => {
            format!("{} ({})", wo.status, r.as_str())
        }
        _ => wo.status.to_string(),
    }
}

/// One line, at most `width` characters, with an ellipsis when cut.
pub fn truncate(s: &str, width: usize) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= width {
        return line;
    }
    let mut out: String = line.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Spaces between table columns.
const GAP: usize = 2;

pub fn list_table(page: &ListPage) -> String {
    if page.items.is_empty() {
        return if page.total == 0 {
            "no work orders".into()
        } else {
            format!("no work orders on this page ({} in all)", page.total)
        };
    }
    let color = use_color();
    let now = Timestamp::now();
    let rows: Vec<[String; 5]> = page
        .items
        .iter()
        .map(|wo| {
            [
                wo.id.clone(),
                wo.status.as_str().to_string(),
                wo.agent_type.clone(),
                age(wo, now),
                run_duration(wo, now),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "AGENT", "AGE", "DURATION", "PROMPT"];
    // Every column but the prompt is as wide as its widest cell plus a gap of 2;
    // the prompt gets what is left of the terminal's width.
    let used: usize = (0..5)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
                + GAP
        })
        .sum();
    let prompt_width = terminal_width().saturating_sub(used).max(16);
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for (wo, row) in page.items.iter().zip(rows) {
        let [id, _, agent, age, duration] = row;
        table.add_row(vec![
            Cell::new(id),
            status_cell(wo.status, color),
            Cell::new(agent),
            Cell::new(age),
            Cell::new(duration),
            Cell::new(truncate(&wo.task_prompt, prompt_width)),
        ]);
    }
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i == 5 { 0 } else { GAP as u16 }));
    }
    let mut out = table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if page.has_more || page.offset > 0 {
        out.push_str(&format!(
            "\nshowing {} of {} (use --all or --limit N for more)",
            page.items.len(),
            page.total
        ));
    }
    out
}

pub fn detail(d: &WorkOrderDetail) -> String {
    let wo = &d.work_order;
    let now = Timestamp::now();
    let mut lines = vec![
        format!("id:          {}", wo.id),
        format!("status:      {}", wo.status),
        format!("agent:       {}", wo.agent_type),
        format!("workspace:   {}", wo.workspace_source.describe()),
        format!("created:     {} ({} ago)", wo.created_at, age(wo, now)),
    ];
    if let Some(t) = wo.started_at {
        lines.push(format!("started:     {t}"));
    }
    if let Some(t) = wo.completed_at {
        lines.push(format!("completed:   {t}"));
    }
    lines.push(format!("duration:    {}", run_duration(wo, now)));
    lines.push(format!("max time:    {}s", wo.max_time));
    if let Some(t) = wo.timeout_at
        && !wo.status.is_terminal()
    {
        lines.push(format!("timeout at:  {t}"));
    }
    if let Some(pid) = wo.pid {
        lines.push(format!("pid:         {pid}"));
    }
    if let Some(r) = wo.result {
        lines.push(format!("result:      {}", r.as_str()));
    }
    if let Some(c) = wo.exit_code {
        lines.push(format!("exit code:   {c}"));
    }
    if let Some(s) = wo.signal {
        lines.push(format!("signal:      {s}"));
    }
    if let Some(e) = &wo.error {
        lines.push(format!("error:       {e}"));
    }
    if let Some(p) = &wo.parent_id {
        lines.push(format!(
            "follows up:  {p}{}",
            wo.resume_session
                .as_deref()
                .map(|s| format!(" (session {s})"))
                .unwrap_or_default()
        ));
    }
    if let Some(r) = &wo.agent_result {
        lines.push(format!("agent run:   {}", agent_facts(r)));
        if let Some(s) = &r.session_id {
            lines.push(format!("session:     {s}"));
        }
        if let Some(s) = &r.summary {
            let mut first = true;
            for l in s.lines() {
                lines.push(format!(
                    "{}{l}",
                    if first {
                        "summary:     "
                    } else {
                        "             "
                    }
                ));
                first = false;
            }
        }
    }
    if let Some(w) = &wo.worktree {
        lines.push(format!(
            "worktree:    {} (branch {}, from {})",
            w.path,
            w.branch,
            short_sha(&w.base)
        ));
        if let Some(c) = &w.changes {
            lines.push(format!("changes:     {}", c.describe()));
        }
    }
    if !wo.env.is_empty() {
        // Names only: values may be secrets (`--json` has them).
        lines.push(format!(
            "env:         {}",
            wo.env.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    lines.push(format!("prompt:      {}", wo.task_prompt));
    for run in &d.runs {
        lines.push(format!(
            "run {}: {} started {}{}",
            run.id,
            run.status,
            run.started_at,
            run.result
                .map(|r| format!(" ({})", r.as_str()))
                .unwrap_or_default()
        ));
        if let Some(h) = &run.executor {
            let state = match (&run.executor_state, &run.executor_reason) {
                (Some(s), Some(r)) if run.status == Status::Running => format!(", {s}: {r}"),
                (Some(s), None) if run.status == Status::Running => format!(", {s}"),
                _ => String::new(),
            };
            lines.push(format!("  supervised by: {}{state}", h.describe()));
        }
        if let Some(c) = &run.cgroup {
            lines.push(format!("  cgroup:        {c}"));
        }
        if run.peak_memory_bytes.is_some() || run.cpu_time_ms.is_some() {
            lines.push(format!(
                "  usage:         peak memory {}, CPU time {}",
                run.peak_memory_bytes
                    .map(crate::model::units::format_size)
                    .unwrap_or_else(|| "-".into()),
                run.cpu_time_ms
                    .map(|ms| format_duration(Duration::from_millis(ms)))
                    .unwrap_or_else(|| "-".into())
            ));
        }
    }
    lines.join("\n")
}

pub fn health(h: &Health) -> String {
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
            "queued:       {} (limit {}{})",
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
            }
        ),
        format!(
            "finished:     {} succeeded, {} failed, {} canceled",
            h.completed_count, h.failed_count, h.canceled_count
        ),
        format!(
            "memory:       {} MiB available (minimum {} MiB)",
            h.available_mb
                .map(|m| m.to_string())
                .unwrap_or_else(|| "?".into()),
            h.min_memory_mb
        ),
        format!(
            "auto-process: {}, accepting: {}",
            if h.auto_process { "on" } else { "off" },
            if h.accepting { "yes" } else { "no" }
        ),
        format!(
            "storage:      {} quarantined, {} orphan runs removed, {} dangling run refs",
            h.storage.quarantined, h.storage.orphan_runs_removed, h.storage.dangling_run_refs
        ),
    ];
    for e in &h.executors {
        lines.push(format!(
            "{:<13} {} of {} running; {}{}",
            format!("{}:", e.name),
            e.running,
            e.max_concurrent,
            if e.healthy { "" } else { "UNHEALTHY: " },
            e.detail
        ));
    }
    if h.alerts.is_empty() {
        lines.push("alerts:       none".into());
    } else {
        lines.push("alerts:".into());
        for a in &h.alerts {
            lines.push(format!("  [{}] {}", a.kind, a.message));
        }
    }
    lines.join("\n")
}
