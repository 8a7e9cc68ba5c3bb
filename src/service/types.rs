//! Requests and results of the service's operations. Plain serde types (no
//! `skip_serializing_if`, `flatten`, `untagged` or `Value`), so they travel over
//! bincode unchanged; `to_json` gives the HTTP `data` payload, which `--json`
//! prints too.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::work_order::WorkOrderWithReason;
use crate::model::{Run, SharedWorkOrder, Status, Timestamp, WorkOrder, WorkspaceInput};
use crate::store::StorageReport;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub task_prompt: String,
    pub agent_type: Option<String>,
    pub workspace_source: Option<WorkspaceInput>,
    /// Seconds.
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
    /// Variables for this work order's agent only.
    pub env: BTreeMap<String, String>,
    /// A git worktree of its own: `Some(true)` asks for one (the source must
    /// be a local git repository), `None` takes the daemon's default.
    pub worktree: Option<bool>,
    /// Full ids of work orders that must succeed before this one starts.
    pub depends_on: Vec<String>,
    /// Higher starts first (default 0); FIFO within a priority.
    pub priority: i32,
    pub labels: Vec<String>,
}

/// `queue restart`: a copy of a finished work order, queued again; each
/// `Some` (and every `env` entry) overrides what is copied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestartRequest {
    pub id: String,
    pub task_prompt: Option<String>,
    pub agent_type: Option<String>,
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
    pub priority: Option<i32>,
    /// Replaces the copied labels.
    pub labels: Option<Vec<String>>,
    /// Added to (or replacing values of) the copied variables.
    pub env: BTreeMap<String, String>,
    /// Replaces the copied dependencies (`Some(vec![])` drops them).
    pub depends_on: Option<Vec<String>>,
}

/// Ids as a person types them: full ids, unique prefixes (4+ characters),
/// and `last` for the newest work order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    pub ids: Vec<String>,
    pub last: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPriorityRequest {
    pub id: String,
    pub priority: i32,
}

/// A change to the running daemon's admission (`queue pause|resume|config`);
/// `None` leaves a setting as it is. Changes are persisted in the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub paused: Option<bool>,
    pub max_concurrent: Option<u64>,
    pub stagger_delay_ms: Option<u64>,
    pub min_memory_bytes: Option<u64>,
    /// Drop the persisted overrides (back to flags, env and config file).
    pub reset: bool,
}

/// Admission settings as the daemon applies them now, and as configured at
/// start (flags > env > config file > default); `overrides` names those
/// changed at run time (persisted, they win over the configured value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub paused: bool,
    pub max_concurrent: u64,
    pub stagger_delay_ms: u64,
    pub min_memory_bytes: u64,
    pub configured_max_concurrent: u64,
    pub configured_stagger_delay_ms: u64,
    pub configured_min_memory_bytes: u64,
    /// API names (`maxConcurrent`, `staggerDelayMs`, `minMemoryBytes`).
    pub overrides: Vec<String>,
}

/// `queue continue`: a follow-up that resumes a finished work order's agent
/// session in its workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinueRequest {
    /// The work order followed up.
    pub id: String,
    pub task_prompt: String,
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub statuses: Vec<Status>,
    /// Only work orders carrying every one of these labels.
    pub labels: Vec<String>,
    /// `None` = all.
    pub limit: Option<u32>,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    /// Shared with the actor's state: a listing copies pointers.
    pub items: Vec<Arc<SharedWorkOrder>>,
    /// Why each item waits (queued ones only), by position in `items`.
    pub reasons: Vec<Option<String>>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrderDetail {
    pub work_order: WorkOrder,
    pub runs: Vec<Run>,
    /// Why it waits, while queued.
    pub queued_reason: Option<String>,
    /// Its dependencies as they stand (`None`: purged).
    pub dependencies: Vec<(String, Option<Status>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelOutcome {
    pub id: String,
    pub status: Status,
    pub was_running: bool,
    pub killed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillRequest {
    pub id: String,
    pub force: bool,
    pub grace_ms: Option<u64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillOutcome {
    pub id: String,
    pub success: bool,
    pub forced_kill: bool,
    pub duration_ms: u64,
    pub status: Status,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgeRequest {
    pub ids: Vec<String>,
    pub statuses: Vec<Status>,
    pub older_than_ms: Option<u64>,
    pub dry_run: bool,
    /// Also delete purged worktrees' branches.
    pub delete_branch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurgeOutcome {
    pub deleted_count: u64,
    pub deleted_ids: Vec<String>,
    /// Dry run only: what would be deleted.
    pub would_delete: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartOutcome {
    pub id: String,
    pub run_id: String,
    pub status: Status,
    pub started_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: String,
    pub message: String,
    pub work_order_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub counts: BTreeMap<String, u64>,
    pub running_count: u64,
    pub max_concurrent: u64,
    pub queued_count: u64,
    pub completed_count: u64,
    pub failed_count: u64,
    pub canceled_count: u64,
    pub oldest_running_age: Option<u64>,
    pub stuck_threshold: u64,
    pub available_mb: Option<u64>,
    pub min_memory_mb: u64,
    pub auto_process: bool,
    pub accepting: bool,
    pub stale_detections_last_hour: u64,
    pub alerts: Vec<Alert>,
    pub storage: StorageReport,
    /// Where runs execute: each executor's health and load.
    pub executors: Vec<ExecutorHealth>,
    pub timestamp: Timestamp,
    /// Admission is paused (`queue pause`).
    pub paused: bool,
    /// Why the next queued work order waits.
    pub queued_reason: Option<String>,
    pub config: QueueConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorHealth {
    /// `local` or `slurm`.
    pub name: String,
    pub healthy: bool,
    /// How runs execute there (supervision, cgroups, cluster), or what is wrong.
    pub detail: String,
    pub running: u64,
    pub max_concurrent: u64,
}

/// `daemon stop` / `daemon restart` / SIGTERM / SIGHUP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownRequest {
    /// Leave running work to its supervisors, for the next daemon to adopt.
    pub keep_running: bool,
    /// Start again in place (same process, same arguments) once stopped.
    pub restart: bool,
}

impl ListPage {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(ListPageJson(self)).unwrap_or(Value::Null)
    }
}

impl ListPage {
    /// `{items,total,limit,offset,hasMore}` as compact JSON text, in pieces of
    /// about `chunk` bytes, assembled from each work order's cached JSON (the
    /// form `queue list --json` prints). Concatenated, the pieces are one value.
    pub fn compact_json_chunks(&self, chunk: usize) -> impl Iterator<Item = String> + '_ {
        let mut next = 0;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut out = String::with_capacity(chunk + 1024);
            if next == 0 {
                out.push_str("{\"items\":[");
            }
            // At least one item per piece, however small `chunk` is.
            let first = next;
            while next < self.items.len() && (out.len() < chunk || next == first) {
                if next > 0 {
                    out.push(',');
                }
                out.push_str(&self.items[next].api_json_with_reason(self.reason(next)));
                next += 1;
            }
            if next == self.items.len() {
                out.push_str(&format!(
                    "],\"total\":{},\"limit\":{},\"offset\":{},\"hasMore\":{}}}",
                    self.total, self.limit, self.offset, self.has_more
                ));
                done = true;
            }
            Some(out)
        })
    }
}

impl ListPage {
    /// Why item `i` waits, if it does.
    pub fn reason(&self, i: usize) -> Option<&str> {
        self.reasons.get(i).and_then(|r| r.as_deref())
    }
}

/// `{items,total,limit,offset,hasMore}` serialised straight from a borrow.
pub struct ListPageJson<'a>(pub &'a ListPage);

impl Serialize for ListPageJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let p = self.0;
        let items: Vec<WorkOrderWithReason<'_>> = p
            .items
            .iter()
            .enumerate()
            .map(|(i, w)| WorkOrderWithReason(w, p.reason(i)))
            .collect();
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("items", &items)?;
        m.serialize_entry("total", &p.total)?;
        m.serialize_entry("limit", &p.limit)?;
        m.serialize_entry("offset", &p.offset)?;
        m.serialize_entry("hasMore", &p.has_more)?;
        m.end()
    }
}

impl WorkOrderDetail {
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(WorkOrderWithReason(
            &self.work_order,
            self.queued_reason.as_deref(),
        ))
        .unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert(
                "runs".into(),
                serde_json::to_value(&self.runs).unwrap_or(Value::Array(vec![])),
            );
        }
        v
    }
}

impl QueueConfig {
    pub fn to_json(&self) -> Value {
        json!({
            "paused": self.paused,
            "maxConcurrent": self.max_concurrent,
            "staggerDelayMs": self.stagger_delay_ms,
            "minMemoryBytes": self.min_memory_bytes,
            "configured": {
                "maxConcurrent": self.configured_max_concurrent,
                "staggerDelayMs": self.configured_stagger_delay_ms,
                "minMemoryBytes": self.configured_min_memory_bytes,
            },
            "overrides": self.overrides,
        })
    }
}

impl CancelOutcome {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "status": self.status, "wasRunning": self.was_running, "killed": self.killed})
    }
}

impl KillOutcome {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "success": self.success, "forcedKill": self.forced_kill,
            "durationMs": self.duration_ms, "status": self.status, "message": self.message,
        })
    }
}

impl PurgeOutcome {
    pub fn to_json(&self) -> Value {
        let mut v = json!({"deletedCount": self.deleted_count, "deletedIds": self.deleted_ids});
        if let (Some(w), Value::Object(m)) = (&self.would_delete, &mut v) {
            m.insert("wouldDelete".into(), json!(w));
        }
        v
    }
}

impl StartOutcome {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "runId": self.run_id, "status": self.status, "startedAt": self.started_at.to_rfc3339()})
    }
}

impl Health {
    pub fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "counts": self.counts,
            "runningCount": self.running_count,
            "maxConcurrent": self.max_concurrent,
            "queuedCount": self.queued_count,
            "completedCount": self.completed_count,
            "failedCount": self.failed_count,
            "canceledCount": self.canceled_count,
            "oldestRunningAge": self.oldest_running_age,
            "stuckThreshold": self.stuck_threshold,
            "memory": {"availableMb": self.available_mb, "minMemoryMb": self.min_memory_mb},
            "autoProcess": self.auto_process,
            "accepting": self.accepting,
            "staleDetectionsLastHour": self.stale_detections_last_hour,
            "alerts": self.alerts.iter().map(|a| json!({"kind": a.kind, "message": a.message, "workOrderId": a.work_order_id})).collect::<Vec<_>>(),
            "storage": self.storage,
            "executors": self.executors.iter().map(|e| json!({
                "name": e.name, "healthy": e.healthy, "detail": e.detail,
                "running": e.running, "maxConcurrent": e.max_concurrent,
            })).collect::<Vec<_>>(),
            "timestamp": self.timestamp.to_rfc3339(),
            "paused": self.paused,
            "queuedReason": self.queued_reason,
            "config": self.config.to_json(),
        })
    }
}

pub fn run_json(run: &Run) -> Value {
    serde_json::to_value(run).unwrap_or(Value::Null)
}

/// `queue logs`: a run's output, optionally the last `tail` lines only, and with
/// `follow` new output as it is written, until the work order ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogsRequest {
    pub id: String,
    /// Which output: both interleaved, or one of them.
    pub streams: LogStreams,
    /// Only the last this many lines (of the output present when asked).
    pub tail: Option<u64>,
    pub follow: bool,
    /// An earlier run: its number (1-based) or id; `None`: the current one.
    pub run: Option<String>,
    /// Lines prefixed with the time they were written.
    pub timestamps: bool,
    /// A structured output as written, not as a transcript.
    pub raw: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogStreams {
    Both,
    Stdout,
    Stderr,
}

/// `queue wait`: blocks until every listed work order is terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitRequest {
    pub ids: Vec<String>,
}

/// One awaited work order's current status (a `queue wait` progress report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitItem {
    pub id: String,
    pub status: Status,
}
