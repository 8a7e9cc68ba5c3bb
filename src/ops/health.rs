//! `queue health`, `/health`, `/api/v1/queue/health|stats`: the queue's
//! health, served from memory: the queue gathers the facts
//! (`Queue::health_inputs`), this judges them (alerts and a status).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::config::DaemonSettings;
use crate::model::{Status, Timestamp};
use crate::service::{Alert, ExecutorHealth, Health, QueueConfig, Reply};
use crate::store::StorageReport;

/// Queue depth above which an alert is raised.
pub const DEEP_QUEUE: u64 = 10;

/// Asks for the queue's health (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRequest;

impl Operation for HealthRequest {
    type Output = Health;

    fn apply(self, q: &mut Queue, reply: Reply<Health>) {
        let _ = reply.send(Ok(compute(q.health_inputs())));
    }
}

/// The facts health is judged from, gathered by the queue from memory.
pub struct Inputs<'a> {
    /// The agents' reported costs, summed (USD).
    pub total_cost_usd: f64,
    pub counts: &'a HashMap<Status, u64>,
    /// (work order id, ms since its run started) for every live run.
    pub running_ages: Vec<(String, u64)>,
    pub settings: &'a DaemonSettings,
    pub accepting: bool,
    pub stale_detections: u64,
    pub storage: StorageReport,
    /// MemAvailable in bytes, as last sampled.
    pub available_memory: Option<u64>,
    /// Each executor: its health, and its runs in flight.
    pub executors: Vec<ExecutorHealth>,
    /// Admission settings in force (live changes included).
    pub config: QueueConfig,
    /// Why the next queued work order waits.
    pub queued_reason: Option<String>,
    /// The mean of recent waits from submit to start, in ms.
    pub mean_wait_ms: Option<f64>,
    pub can_start_now: bool,
    /// Work orders whose latest state could not be written yet.
    pub unpersisted: u64,
}

/// The judgment: alerts, and healthy / degraded / unhealthy.
pub fn compute(i: Inputs<'_>) -> Health {
    let count = |s: Status| i.counts.get(&s).copied().unwrap_or(0);
    let counts: BTreeMap<String, u64> = Status::ALL
        .into_iter()
        .map(|s| (s.as_str().to_string(), count(s)))
        .collect();
    let running_count = count(Status::Running);
    let queued_count = count(Status::Queued);
    let stuck_ms = i.settings.stuck_threshold.as_millis() as u64;
    let available = i.available_memory;
    let min_memory = i.config.min_memory_bytes;
    let min_memory_mb = min_memory / (1024 * 1024);
    let mut alerts = Vec::new();
    for (id, age) in &i.running_ages {
        if *age > stuck_ms {
            alerts.push(Alert {
                kind: "stuck".into(),
                message: format!(
                    "work order {id} has been running for {}s (stuck threshold {}s)",
                    age / 1000,
                    stuck_ms / 1000
                ),
                work_order_id: Some(id.clone()),
            });
        }
    }
    if queued_count > DEEP_QUEUE {
        alerts.push(Alert {
            kind: "queue_depth".into(),
            message: format!("{queued_count} work orders queued (more than {DEEP_QUEUE})"),
            work_order_id: None,
        });
    }
    let low_memory = available.is_some_and(|a| a < min_memory);
    if low_memory {
        alerts.push(Alert {
            kind: "low_memory".into(),
            message: format!(
                "available memory {} MiB is below the minimum {min_memory_mb} MiB; no new work starts",
                available.unwrap_or(0) / (1024 * 1024)
            ),
            work_order_id: None,
        });
    }
    if i.stale_detections > 0 {
        alerts.push(Alert {
            kind: "stale".into(),
            message: format!(
                "{} stale work orders detected in the last hour",
                i.stale_detections
            ),
            work_order_id: None,
        });
    }
    if i.unpersisted > 0 {
        alerts.push(Alert {
            kind: "unpersisted".into(),
            message: format!(
                "{} work order change{} could not be written to disk (full?) and {} retried every second; kept in memory meanwhile",
                i.unpersisted,
                if i.unpersisted == 1 { "" } else { "s" },
                if i.unpersisted == 1 { "is" } else { "are" },
            ),
            work_order_id: None,
        });
    }
    for e in i.executors.iter().filter(|e| !e.healthy) {
        alerts.push(Alert {
            kind: "executor".into(),
            message: format!("the {} executor is unhealthy: {}", e.name, e.detail),
            work_order_id: None,
        });
    }
    let max_queue = i.settings.max_queue_size;
    let queue_full = max_queue > 0 && queued_count >= max_queue;
    if queue_full {
        alerts.push(Alert {
            kind: "queue_full".into(),
            message: format!(
                "the queue is full: {queued_count} waiting (max_queue_size {max_queue}); submits are refused"
            ),
            work_order_id: None,
        });
    } else if max_queue > 0 && queued_count * 10 > max_queue * 8 {
        alerts.push(Alert {
            kind: "queue_nearly_full".into(),
            message: format!(
                "the queue is over 80% full: {queued_count} waiting (max_queue_size {max_queue})"
            ),
            work_order_id: None,
        });
    }
    let accepting = i.accepting && !queue_full;
    let status = if !accepting || (low_memory && queued_count > 0 && running_count == 0) {
        "unhealthy"
    } else if !alerts.is_empty() {
        "degraded"
    } else {
        "healthy"
    };
    Health {
        status: status.into(),
        counts,
        running_count,
        max_concurrent: i.config.max_concurrent,
        queued_count,
        completed_count: count(Status::Succeeded),
        failed_count: count(Status::Failed),
        canceled_count: count(Status::Canceled),
        oldest_running_age: i.running_ages.iter().map(|(_, a)| *a).max(),
        stuck_threshold: stuck_ms,
        available_mb: available.map(|a| a / (1024 * 1024)),
        min_memory_mb,
        auto_process: i.settings.auto_process,
        accepting,
        stale_detections_last_hour: i.stale_detections,
        alerts,
        storage: i.storage,
        executors: i.executors,
        unpersisted: i.unpersisted,
        timestamp: Timestamp::now(),
        paused: i.config.paused,
        queued_reason: i.queued_reason,
        config: i.config,
        max_queue_size: max_queue,
        average_wait_ms: i.mean_wait_ms.map_or(0, |m| m.round() as u64),
        can_start_immediately: accepting && i.can_start_now,
        shutting_down: !i.accepting,
        total_cost_usd: i.total_cost_usd,
    }
}
