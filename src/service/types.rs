//! Requests and results of the service's operations. Plain serde types (no
//! `skip_serializing_if`, `flatten`, `untagged` or `Value`), so they travel over
//! bincode unchanged; `to_json` gives the HTTP `data` payload, which `--json`
//! prints too.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::work_order::WorkOrderApi;
use crate::model::{Run, SharedWorkOrder, Status, Timestamp, WorkOrder, WorkspaceInput};
use crate::store::StorageReport;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub task_prompt: String,
    pub agent_type: Option<String>,
    pub workspace_source: Option<WorkspaceInput>,
    /// Seconds.
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub statuses: Vec<Status>,
    /// `None` = all.
    pub limit: Option<u32>,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    /// Shared with the actor's state: a listing copies pointers.
    pub items: Vec<Arc<SharedWorkOrder>>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrderDetail {
    pub work_order: WorkOrder,
    pub runs: Vec<Run>,
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
    /// False: the new state is not on disk yet (retried every second).
    pub durable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurgeRequest {
    pub ids: Vec<String>,
    pub statuses: Vec<Status>,
    pub older_than_ms: Option<u64>,
    pub dry_run: bool,
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
                out.push_str(&self.items[next].api_json());
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

/// `{items,total,limit,offset,hasMore}` serialised straight from a borrow.
pub struct ListPageJson<'a>(pub &'a ListPage);

impl Serialize for ListPageJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let p = self.0;
        let items: Vec<WorkOrderApi<'_>> = p.items.iter().map(|w| WorkOrderApi(w)).collect();
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
        let mut v = self.work_order.to_json();
        if let Value::Object(m) = &mut v {
            m.insert(
                "runs".into(),
                serde_json::to_value(&self.runs).unwrap_or(Value::Array(vec![])),
            );
        }
        v
    }
}

/// What a reply says of a change that is not on disk yet.
pub const NOT_DURABLE: &str = "the change is not saved to disk yet (a write failed, e.g. a full disk); the daemon keeps it and retries every second";

/// `durable` and a warning, only when the change is not on disk yet (the
/// usual shape stays AgentGate's).
fn mark_not_durable(v: &mut Value, durable: bool) {
    if let (false, Value::Object(m)) = (durable, v) {
        m.insert("durable".into(), Value::Bool(false));
        m.insert("warning".into(), Value::String(NOT_DURABLE.into()));
    }
}

impl CancelOutcome {
    pub fn to_json(&self) -> Value {
        let mut v = json!({"id": self.id, "status": self.status, "wasRunning": self.was_running, "killed": self.killed});
        mark_not_durable(&mut v, self.durable);
        v
    }
}

impl KillOutcome {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id, "success": self.success, "forcedKill": self.forced_kill,
            "durationMs": self.duration_ms, "status": self.status, "message": self.message,
        });
        mark_not_durable(&mut v, self.durable);
        v
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
            "unpersisted": self.unpersisted,
            "timestamp": self.timestamp.to_rfc3339(),
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
    /// The run's stderr instead of its stdout.
    pub stderr: bool,
    /// Only the last this many lines (of the output present when asked).
    pub tail: Option<u64>,
    pub follow: bool,
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
