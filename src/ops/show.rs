//! `queue show` and `GET /api/v1/work-orders/:id`: a work order with its runs,
//! why it waits and its dependencies.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{Reply, ServiceError, WorkOrderDetail};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for ShowRequest {
    type Output = WorkOrderDetail;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrderDetail>) {
        let _ = reply.send(detail(q, &self.id));
    }
}

fn detail(q: &Queue, id: &str) -> Result<WorkOrderDetail, ServiceError> {
    let wo = q.get(id)?.clone();
    let runs = wo.run_ids.iter().filter_map(|r| q.run_record(r)).collect();
    let dependencies = wo
        .more
        .depends_on
        .iter()
        .map(|d| (d.clone(), q.status_of(d)))
        .collect();
    Ok(WorkOrderDetail {
        queued_reason: q.why_queued(&wo),
        dependencies,
        work_order: wo,
        runs,
    })
}
