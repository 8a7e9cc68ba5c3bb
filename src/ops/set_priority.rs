//! `queue set-priority`: reorders a queued work order.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::WorkOrder;
use crate::service::Reply;

/// A queued work order's new priority (higher starts first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPriorityRequest {
    pub id: String,
    pub priority: i32,
}

impl Operation for SetPriorityRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        let _ = reply.send(q.set_priority(self));
        q.schedule();
    }
}
