//! `queue set-priority` and its effect: reorders a queued work order (the
//! queue's index follows the committed priority).

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::{Status, Timestamp, WorkOrder};
use crate::service::{Reply, ServiceError};

/// A queued work order's new priority (higher starts first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPriorityRequest {
    pub id: String,
    pub priority: i32,
}

impl SetPriorityRequest {
    /// The work order reordered and committed (unchanged if it already had
    /// this priority).
    fn reorder(self, q: &mut Queue) -> Result<WorkOrder, ServiceError> {
        let mut wo = q.get(&self.id)?.clone();
        if wo.status != Status::Queued {
            return Err(ServiceError::invalid_state(format!(
                "work order {} is {}; a priority orders queued work only",
                wo.id, wo.status
            )));
        }
        if wo.priority == self.priority {
            return Ok(wo);
        }
        tracing::info!(work_order = %wo.id, from = wo.priority, to = self.priority, "priority changed");
        wo.priority = self.priority;
        wo.updated_at = Timestamp::now();
        q.commit(wo.clone())?;
        Ok(wo)
    }
}

impl Operation for SetPriorityRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        let _ = reply.send(self.reorder(q));
        // It may now be first in line.
        q.schedule();
    }
}
