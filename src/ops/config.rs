//! `queue pause|resume|config` and `/api/v1/queue/pause|resume|config`:
//! admission settings of the running daemon, persisted in the root.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{QueueConfig, Reply};

/// A change to the running daemon's admission (`queue pause|resume|config`);
/// `None` leaves a setting as it is. Changes are persisted in the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub paused: Option<bool>,
    pub max_concurrent: Option<u64>,
    pub stagger_delay_ms: Option<u64>,
    pub min_memory_bytes: Option<u64>,
    /// Drop the persisted overrides (back to flags, env and config file).
    pub reset: bool,
}

impl Operation for ConfigChange {
    type Output = QueueConfig;

    fn apply(self, q: &mut Queue, reply: Reply<QueueConfig>) {
        let _ = reply.send(q.configure(self));
        // A resume or a higher limit may let queued work start now.
        q.schedule();
    }
}
