//! `GET /api/v1/queue/position/:id`: where a work order stands in the queue,
//! and AgentGate's estimate of its wait: as many rounds of `max_concurrent`
//! starts as it takes to reach it, at the mean recent wait.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::Status;
use crate::service::{ErrorCode, QueuePosition, Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for PositionRequest {
    type Output = QueuePosition;

    fn apply(self, q: &mut Queue, reply: Reply<QueuePosition>) {
        let _ = reply.send(position(q, &self.id));
    }
}

fn position(q: &Queue, id: &str) -> Result<QueuePosition, ServiceError> {
    let wo = q.get(id)?;
    if let Some(run) = q.current_run(id) {
        return Ok(QueuePosition {
            id: id.to_string(),
            position: 0,
            ahead: 0,
            running: true,
            estimated_wait_ms: Some(0),
            enqueued_at: run.started_at,
        });
    }
    if wo.status != Status::Queued {
        return Err(ServiceError::new(
            ErrorCode::NotFound,
            format!(
                "work order {id} is not in the queue: it is {}",
                wo.status.api()
            ),
        ));
    }
    let kind = q.executor_of(wo);
    let ahead = q.ahead_in_line(wo);
    let estimated_wait_ms = if ahead == 0 && q.may_start_on(kind) {
        Some(0)
    } else {
        q.mean_wait_ms().map(|mean| {
            let rounds = (ahead + 1).div_ceil(q.max_concurrent_for(kind).max(1) as u64);
            (rounds as f64 * mean).round() as u64
        })
    };
    Ok(QueuePosition {
        id: id.to_string(),
        position: ahead + 1,
        ahead,
        running: false,
        estimated_wait_ms,
        enqueued_at: wo.created_at,
    })
}
