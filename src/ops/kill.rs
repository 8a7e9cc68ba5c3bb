//! `queue kill` and `POST /api/v1/work-orders/:id/kill`: stops a work order's
//! process tree (SIGTERM, a grace period, SIGKILL); answered once nothing of
//! it is left.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{KillOutcome, Reply};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillRequest {
    pub id: String,
    pub force: bool,
    pub grace_ms: Option<u64>,
    pub reason: Option<String>,
}

impl Operation for KillRequest {
    type Output = KillOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<KillOutcome>) {
        q.kill(self, reply);
    }
}
