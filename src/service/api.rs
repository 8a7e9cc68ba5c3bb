//! The JSON form of the service's results: the HTTP `data` payloads, which
//! `--json` prints too. Each is a struct serialised as is, and the OpenAPI
//! document is generated from these same structs (`ToSchema`), so the
//! document and the bodies cannot drift apart.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::types::*;
use crate::model::work_order::WorkOrderWithReason;
use crate::model::{Run, Status};
use crate::store::StorageReport;

fn to_value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A page of a listing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageJson<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub has_more: bool,
}

/// `{items,total,limit,offset,hasMore}` of work orders, serialised straight
/// from a borrow.
pub struct ListPageJson<'a>(pub &'a ListPage);

impl Serialize for ListPageJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        PageJson {
            items: p
                .items
                .iter()
                .enumerate()
                .map(|(i, w)| WorkOrderWithReason(w, p.reason(i)))
                .collect(),
            total: p.total,
            limit: p.limit,
            offset: p.offset,
            has_more: p.has_more,
        }
        .serialize(s)
    }
}

impl ListPage {
    pub fn to_json(&self) -> Value {
        to_value(ListPageJson(self))
    }

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

/// One iteration of a run, as AgentGate's clients type it. Runs here report
/// none individually (`iterations` is empty; `iterationCount` counts them).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IterationJson {
    pub number: u32,
    pub status: String,
}

/// A run: its record, plus what AgentGate's clients read.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RunDetail)]
pub struct RunJson<'a> {
    #[serde(flatten)]
    #[schema(inline)]
    pub run: &'a Run,
    /// One per run unless the run recorded more.
    pub iteration_count: u32,
    pub iterations: Vec<IterationJson>,
}

impl<'a> RunJson<'a> {
    pub fn of(run: &'a Run) -> RunJson<'a> {
        RunJson {
            run,
            iteration_count: run.iteration_count(),
            iterations: vec![],
        }
    }
}

pub fn run_json(run: &Run) -> Value {
    to_value(RunJson::of(run))
}

impl RunPage {
    pub fn to_json(&self) -> Value {
        to_value(PageJson {
            items: self.items.iter().map(RunJson::of).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
            has_more: self.has_more,
        })
    }
}

/// A work order with its runs.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WorkOrderDetail)]
pub struct WorkOrderDetailJson<'a> {
    #[serde(flatten)]
    pub work_order: WorkOrderWithReason<'a>,
    pub runs: Vec<RunJson<'a>>,
}

impl WorkOrderDetail {
    pub fn to_json(&self) -> Value {
        to_value(WorkOrderDetailJson {
            work_order: WorkOrderWithReason(&self.work_order, self.queued_reason.as_deref()),
            runs: self.runs.iter().map(RunJson::of).collect(),
        })
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CancelResult)]
pub struct CancelJson {
    pub id: String,
    pub status: Status,
    pub was_running: bool,
    /// A process tree was stopped.
    pub killed: bool,
    pub message: String,
    /// Only when false: the change is not on disk yet (see `warning`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// What a reply says of a change that is not on disk yet.
pub const NOT_DURABLE: &str = "the change is not saved to disk yet (a write failed, e.g. a full disk); the daemon keeps it and retries every second";

/// `durable: false` and a warning, only when the change is not on disk yet
/// (the usual shape stays AgentGate's).
fn not_durable(durable: bool) -> (Option<bool>, Option<String>) {
    if durable {
        (None, None)
    } else {
        (Some(false), Some(NOT_DURABLE.into()))
    }
}

impl CancelOutcome {
    pub fn to_json(&self) -> Value {
        let message = if self.killed {
            "work order canceled; its process tree was stopped"
        } else if self.was_running {
            "work order canceled before its process started"
        } else {
            "work order canceled; it had not started"
        };
        let (durable, warning) = not_durable(self.durable);
        to_value(CancelJson {
            id: self.id.clone(),
            status: self.status.api(),
            was_running: self.was_running,
            killed: self.killed,
            message: message.into(),
            durable,
            warning,
        })
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = KillResult)]
pub struct KillJson {
    pub id: String,
    pub success: bool,
    /// SIGKILL at once (no grace period).
    pub forced_kill: bool,
    pub duration_ms: u64,
    pub status: Status,
    pub message: String,
    /// Only when false: the change is not on disk yet (see `warning`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl KillOutcome {
    pub fn to_json(&self) -> Value {
        let (durable, warning) = not_durable(self.durable);
        to_value(KillJson {
            id: self.id.clone(),
            success: self.success,
            forced_kill: self.forced_kill,
            duration_ms: self.duration_ms,
            status: self.status.api(),
            message: self.message.clone(),
            durable,
            warning,
        })
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PurgeResult)]
pub struct PurgeJson {
    pub deleted_count: u64,
    pub deleted_ids: Vec<String>,
    /// Dry run only: what would be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_delete: Option<Vec<String>>,
}

impl PurgeOutcome {
    pub fn to_json(&self) -> Value {
        to_value(PurgeJson {
            deleted_count: self.deleted_count,
            deleted_ids: self.deleted_ids.clone(),
            would_delete: self.would_delete.clone(),
        })
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StartResult)]
pub struct StartJson {
    pub id: String,
    pub run_id: String,
    pub status: Status,
    #[schema(format = DateTime)]
    pub started_at: String,
}

impl StartOutcome {
    pub fn to_json(&self) -> Value {
        to_value(StartJson {
            id: self.id.clone(),
            run_id: self.run_id.clone(),
            status: self.status.api(),
            started_at: self.started_at.to_rfc3339(),
        })
    }
}

/// AgentGate's queue statistics.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = QueueStats)]
pub struct QueueStatsJson {
    pub waiting: u64,
    pub running: u64,
    pub max_concurrent: u64,
    pub average_wait_ms: u64,
    /// 0 = no limit.
    pub max_queue_size: u64,
    pub accepting: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorsJson {
    pub accepting: bool,
    pub can_start_immediately: bool,
    pub queue_depth: u64,
    pub running_count: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryJson {
    pub available_mb: Option<u64>,
    pub min_memory_mb: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertJson {
    pub kind: String,
    pub message: String,
    pub work_order_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorHealthJson {
    /// `local` or `slurm`.
    pub name: String,
    pub healthy: bool,
    /// How runs execute there (supervision, cgroups, cluster), or what is wrong.
    pub detail: String,
    pub running: u64,
    pub max_concurrent: u64,
}

/// Queue health: AgentGate's fields (`status`, `stats`, `utilization`,
/// `indicators`, `timestamp`) and this daemon's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = QueueHealth)]
pub struct HealthJson {
    /// healthy, degraded or unhealthy.
    pub status: String,
    pub stats: QueueStatsJson,
    /// Waiting work orders as a share of `maxQueueSize` (0 with no limit).
    pub utilization: f64,
    pub indicators: IndicatorsJson,
    pub counts: BTreeMap<String, u64>,
    pub running_count: u64,
    pub max_concurrent: u64,
    pub queued_count: u64,
    pub completed_count: u64,
    pub failed_count: u64,
    pub canceled_count: u64,
    pub oldest_running_age: Option<u64>,
    pub stuck_threshold: u64,
    pub memory: MemoryJson,
    pub auto_process: bool,
    pub accepting: bool,
    pub stale_detections_last_hour: u64,
    pub alerts: Vec<AlertJson>,
    pub storage: StorageReport,
    /// Where runs execute: each executor's health and load.
    pub executors: Vec<ExecutorHealthJson>,
    /// Work orders whose latest state is not on disk yet (retried every tick).
    pub unpersisted: u64,
    /// Admission is paused (`queue pause`).
    pub paused: bool,
    /// Why the queued work order that would start next waits.
    pub queued_reason: Option<String>,
    /// Admission settings in force.
    pub config: QueueConfigJson,
    /// The sum of the costs agents reported (USD), over the work orders held.
    pub total_cost_usd: f64,
    #[schema(format = DateTime)]
    pub timestamp: String,
}

impl Health {
    pub fn stats(&self) -> QueueStatsJson {
        QueueStatsJson {
            waiting: self.queued_count,
            running: self.running_count,
            max_concurrent: self.max_concurrent,
            average_wait_ms: self.average_wait_ms,
            max_queue_size: self.max_queue_size,
            accepting: self.accepting,
        }
    }

    pub fn to_json(&self) -> Value {
        let utilization = if self.max_queue_size > 0 {
            self.queued_count as f64 / self.max_queue_size as f64
        } else {
            0.0
        };
        to_value(HealthJson {
            status: self.status.clone(),
            stats: self.stats(),
            utilization,
            indicators: IndicatorsJson {
                accepting: self.accepting,
                can_start_immediately: self.can_start_immediately,
                queue_depth: self.queued_count,
                running_count: self.running_count,
            },
            counts: self.counts.clone(),
            running_count: self.running_count,
            max_concurrent: self.max_concurrent,
            queued_count: self.queued_count,
            completed_count: self.completed_count,
            failed_count: self.failed_count,
            canceled_count: self.canceled_count,
            oldest_running_age: self.oldest_running_age,
            stuck_threshold: self.stuck_threshold,
            memory: MemoryJson {
                available_mb: self.available_mb,
                min_memory_mb: self.min_memory_mb,
            },
            auto_process: self.auto_process,
            accepting: self.accepting,
            stale_detections_last_hour: self.stale_detections_last_hour,
            alerts: self
                .alerts
                .iter()
                .map(|a| AlertJson {
                    kind: a.kind.clone(),
                    message: a.message.clone(),
                    work_order_id: a.work_order_id.clone(),
                })
                .collect(),
            storage: self.storage.clone(),
            executors: self
                .executors
                .iter()
                .map(|e| ExecutorHealthJson {
                    name: e.name.clone(),
                    healthy: e.healthy,
                    detail: e.detail.clone(),
                    running: e.running,
                    max_concurrent: e.max_concurrent,
                })
                .collect(),
            unpersisted: self.unpersisted,
            paused: self.paused,
            queued_reason: self.queued_reason.clone(),
            config: self.config.json(),
            total_cost_usd: self.total_cost_usd,
            timestamp: self.timestamp.to_rfc3339(),
        })
    }
}

/// Admission settings as configured (flags > env > config file > default).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfiguredJson {
    pub max_concurrent: u64,
    pub stagger_delay_ms: u64,
    pub min_memory_bytes: u64,
}

/// Admission settings in force; `overrides` names those changed while the
/// daemon runs (persisted in the root, they win over `configured`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = QueueConfig)]
pub struct QueueConfigJson {
    pub paused: bool,
    pub max_concurrent: u64,
    pub stagger_delay_ms: u64,
    pub min_memory_bytes: u64,
    pub configured: ConfiguredJson,
    /// maxConcurrent, staggerDelayMs, minMemoryBytes.
    pub overrides: Vec<String>,
}

impl QueueConfig {
    pub fn json(&self) -> QueueConfigJson {
        QueueConfigJson {
            paused: self.paused,
            max_concurrent: self.max_concurrent,
            stagger_delay_ms: self.stagger_delay_ms,
            min_memory_bytes: self.min_memory_bytes,
            configured: ConfiguredJson {
                max_concurrent: self.configured_max_concurrent,
                stagger_delay_ms: self.configured_stagger_delay_ms,
                min_memory_bytes: self.configured_min_memory_bytes,
            },
            overrides: self.overrides.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        to_value(self.json())
    }
}

/// AgentGate's queue position, plus the work order's id.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = QueuePosition)]
pub struct PositionJson {
    /// 1 = next to start; 0 = running.
    pub position: u64,
    /// `null` until a start has been measured; 0 when it would start now.
    pub estimated_wait_ms: Option<u64>,
    pub ahead: u64,
    /// waiting or running.
    pub state: String,
    #[schema(format = DateTime)]
    pub enqueued_at: String,
    pub work_order_id: String,
}

impl QueuePosition {
    pub fn to_json(&self) -> Value {
        to_value(PositionJson {
            position: self.position,
            estimated_wait_ms: self.estimated_wait_ms,
            ahead: self.ahead,
            state: if self.running { "running" } else { "waiting" }.into(),
            enqueued_at: self.enqueued_at.to_rfc3339(),
            work_order_id: self.id.clone(),
        })
    }
}
