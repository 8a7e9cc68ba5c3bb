//! Requests and results of the service's operations. Plain serde types (no
//! `skip_serializing_if`, `flatten`, `untagged` or `Value`), so they travel over
//! bincode unchanged; their JSON form (the HTTP `data` payload, which `--json`
//! prints too) is in `api`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// False: the new state is not on disk yet (a failed write, retried
    /// every second until it lands).
    pub durable: bool,
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
    /// The work order had already ended: nothing was stopped (AgentGate
    /// answers this as a success; our CLI reports it as an error).
    pub already_ended: bool,
    /// False: the new state is not on disk yet (retried every second).
    pub durable: bool,
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
    /// Work orders whose latest state is not on disk yet (retried every tick).
    pub unpersisted: u64,
    pub timestamp: Timestamp,
    /// Admission is paused (`queue pause`).
    pub paused: bool,
    /// Why the next queued work order waits.
    pub queued_reason: Option<String>,
    pub config: QueueConfig,
    /// Most work orders waiting at once (0 = no limit).
    pub max_queue_size: u64,
    /// Mean time from submit to start of the recent starts (0 = none yet).
    pub average_wait_ms: u64,
    /// A work order submitted now would start at once.
    pub can_start_immediately: bool,
    /// The daemon is shutting down (it accepts no work, whatever the queue).
    pub shutting_down: bool,
}

/// `GET /api/v1/runs`: runs newest first (by their work order's creation,
/// then run), optionally of one work order or with given statuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunQuery {
    pub work_order_id: Option<String>,
    pub statuses: Vec<Status>,
    /// `None` = all.
    pub limit: Option<u32>,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub items: Vec<Run>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub has_more: bool,
}

/// A run of a page as the actor knows it: live ones as held in memory, the
/// others read from disk by the service, outside the actor.
#[derive(Debug, Clone, PartialEq)]
pub enum RunRef {
    Live(Run),
    Stored(Run),
}

/// Where a work order stands in the queue, in the order admission takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePosition {
    pub id: String,
    /// 1 = next to start; 0 = running.
    pub position: u64,
    /// Work orders that start before it.
    pub ahead: u64,
    pub running: bool,
    /// `None` until some start has been measured.
    pub estimated_wait_ms: Option<u64>,
    /// When it was queued (for a running one: when its run started).
    pub enqueued_at: Timestamp,
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
    /// Why item `i` waits, if it does.
    pub fn reason(&self, i: usize) -> Option<&str> {
        self.reasons.get(i).and_then(|r| r.as_deref())
    }
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
