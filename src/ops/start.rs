//! `queue start` and `POST /api/v1/work-orders/:id/runs`: starts a queued (or
//! failed) work order now, past admission's other limits (pause, stagger,
//! memory, priority), but not past a dependency or a full executor.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::{Status, WorkOrder};
use crate::service::{Reply, ServiceError, StartOutcome};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for StartRequest {
    type Output = StartOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<StartOutcome>) {
        let out = startable(q, &self.id).and_then(|wo| q.begin_run(wo, true));
        let _ = reply.send(out);
    }
}

/// A copy of the work order to start, or why it cannot start now.
fn startable(q: &Queue, id: &str) -> Result<WorkOrder, ServiceError> {
    let wo = q.get(id)?;
    if !q.accepting() {
        return Err(ServiceError::unavailable(
            "the daemon is shutting down and not starting work",
        ));
    }
    if q.is_running(id) || !matches!(wo.status, Status::Queued | Status::Failed) {
        return Err(ServiceError::invalid_state(format!(
            "work order {id} is {}; only queued or failed work orders can be started (`agentgate queue restart {id}` queues a copy of any that ended)",
            wo.status
        )));
    }
    if let Some(dep) = q.unmet_dependencies(wo).first() {
        return Err(ServiceError::invalid_state(format!(
            "work order {id} waits for {dep} ({}); it starts once that has succeeded",
            q.status_of(dep).map_or("gone", Status::as_str)
        )));
    }
    let kind = q.executor_of(wo);
    if !q.slot_free(kind) {
        let hint = match q.capabilities(kind).max_concurrent {
            None => "raise it with `agentgate queue config --max-concurrent N`".to_string(),
            Some(_) => format!("raise max_concurrent under [{}]", kind.as_str()),
        };
        return Err(ServiceError::invalid_state(format!(
            "concurrency limit reached ({} of {} running on the {} executor); wait for one to finish or {hint}",
            q.running_on(kind),
            q.max_concurrent_for(kind),
            kind.as_str()
        )));
    }
    Ok(wo.clone())
}
