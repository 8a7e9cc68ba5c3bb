//! `GET /api/v1/queue/position/:id`: where a work order stands in the queue.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{QueuePosition, Reply};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for PositionRequest {
    type Output = QueuePosition;

    fn apply(self, q: &mut Queue, reply: Reply<QueuePosition>) {
        let _ = reply.send(q.position(&self.id));
    }
}
