//! The facts queue health is judged from (`ops::health` judges them),
//! gathered from memory only.

use crate::ops::health::Inputs;
use crate::service::ExecutorHealth;
use crate::store::StorageReport;

impl super::Actor {
    pub(crate) fn health_inputs(&self) -> Inputs<'_> {
        let running_ages: Vec<(String, u64)> = self
            .runs
            .live
            .iter()
            .map(|(id, l)| (id.clone(), l.started.elapsed().as_millis() as u64))
            .collect();
        Inputs {
            counts: &self.counts,
            running_ages,
            settings: &self.settings,
            accepting: self.stopping.accepting,
            stale_detections: self.stale.last_hour(),
            storage: StorageReport {
                journaled: self.pending.journaled.len() as u64,
                ..self.report.clone()
            },
            available_memory: self.mem_available,
            executors: self
                .executor
                .status()
                .into_iter()
                .map(|s| ExecutorHealth {
                    name: s.kind.as_str().to_string(),
                    healthy: s.healthy,
                    detail: s.detail,
                    running: self.running_on(s.kind) as u64,
                    max_concurrent: self.max_concurrent_for(s.kind) as u64,
                })
                .collect(),
            config: self.queue_config(),
            queued_reason: self.next_queued_reason().map(|h| h.to_string()),
            mean_wait_ms: self.runs.mean_wait_ms(),
            can_start_now: self.can_start_now(),
            unpersisted: self.unpersisted_count(),
            total_cost_usd: self.costs.total(),
        }
    }
}
