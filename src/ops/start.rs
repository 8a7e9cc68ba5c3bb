//! `queue start` and `POST /api/v1/work-orders/:id/runs`: starts a queued
//! work order now, past admission's limits.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{Reply, StartOutcome};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for StartRequest {
    type Output = StartOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<StartOutcome>) {
        let _ = reply.send(q.start_run(&self.id, true));
    }
}
