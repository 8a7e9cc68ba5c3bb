//! `queue continue`: a follow-up resuming an ended work order's agent session.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::WorkOrder;
use crate::service::Reply;

/// `queue continue`: a follow-up that resumes a finished work order's agent
/// session in its workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinueRequest {
    /// The work order followed up.
    pub id: String,
    pub task_prompt: String,
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
}

impl Operation for ContinueRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        // The client has its answer once the work order is durable; a run
        // started at once is handed to its executor after that.
        q.hold_launches();
        let _ = reply.send(q.continue_session(self));
    }
}
