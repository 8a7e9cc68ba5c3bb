//! `queue health`, `/health`, `/api/v1/queue/health|stats`: the queue's health,
//! served from memory.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{Health, Reply};

/// Asks for the queue's health (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRequest;

impl Operation for HealthRequest {
    type Output = Health;

    fn apply(self, q: &mut Queue, reply: Reply<Health>) {
        let _ = reply.send(Ok(q.health()));
    }
}
