//! Requests and results of the service's operations. Plain serde types (no
//! `skip_serializing_if`, `flatten`, `untagged` or `Value`), so they travel over
//! bincode unchanged; their JSON form (the HTTP `data` payload, which `--json`
//! prints too) is in `api`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{Run, SharedWorkOrder, Status, Timestamp, WorkOrder};
use crate::store::StorageReport;

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
    /// The sum of the costs agents reported (USD), over the work orders held.
    pub total_cost_usd: f64,
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
