//! `submit` (CLI) and `POST /api/v1/work-orders`: a new work order, queued or
//! started at once. Answered as soon as it is durable; the start of whatever
//! may start now is the step after the answer.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{Operation, Queue};
use crate::model::{WorkOrder, WorkspaceInput};
use crate::service::Reply;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub task_prompt: String,
    pub agent_type: Option<String>,
    pub workspace_source: Option<WorkspaceInput>,
    /// Seconds.
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
    /// Variables for this work order's agent only.
    pub env: BTreeMap<String, String>,
    /// A git worktree of its own: `Some(true)` asks for one (the source must
    /// be a local git repository), `None` takes the daemon's default.
    pub worktree: Option<bool>,
    /// Full ids of work orders that must succeed before this one starts.
    pub depends_on: Vec<String>,
    /// Higher starts first (default 0); FIFO within a priority.
    pub priority: i32,
    pub labels: Vec<String>,
    /// A shell command run in the workspace before the agent (`--setup`).
    #[serde(default)]
    pub setup: Option<String>,
    /// Confinement choices (`--sandbox`, `--no-network`, ...; AgentGate's `policies`).
    #[serde(default)]
    pub sandbox: Option<crate::model::SandboxRequest>,
}

impl Operation for SubmitRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        // The client has its answer once the work order is durable; a run
        // started at once is handed to its executor after that.
        q.hold_launches();
        let _ = reply.send(q.submit(self));
    }
}
