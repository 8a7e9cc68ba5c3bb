//! `queue restart`: a copy of an ended work order, queued anew.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{Operation, Queue};
use crate::model::WorkOrder;
use crate::service::Reply;

/// `queue restart`: a copy of a finished work order, queued again; each
/// `Some` (and every `env` entry) overrides what is copied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestartRequest {
    pub id: String,
    pub task_prompt: Option<String>,
    pub agent_type: Option<String>,
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
    pub priority: Option<i32>,
    /// Replaces the copied labels.
    pub labels: Option<Vec<String>>,
    /// Added to (or replacing values of) the copied variables.
    pub env: BTreeMap<String, String>,
    /// Replaces the copied dependencies (`Some(vec![])` drops them).
    pub depends_on: Option<Vec<String>>,
}

impl Operation for RestartRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        // The client has its answer once the work order is durable; a run
        // started at once is handed to its executor after that.
        q.hold_launches();
        let _ = reply.send(q.restart(self));
    }
}
