//! `queue show` and `GET /api/v1/work-orders/:id`: a work order with its runs,
//! why it waits and its dependencies.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{Reply, WorkOrderDetail};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for ShowRequest {
    type Output = WorkOrderDetail;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrderDetail>) {
        let _ = reply.send(q.show(&self.id));
    }
}
