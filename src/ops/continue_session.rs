//! `queue continue`: a follow-up resuming an ended work order's agent session.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::daemon::workspace;
use crate::model::work_order::MAX_TIME_RANGE;
use crate::model::{WorkOrder, WorkspaceSource};
use crate::service::{Reply, ServiceError};

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
        let _ = reply.send(continue_session(q, self));
    }
}

/// `queue continue`: a new work order resuming `req.id`'s agent session,
/// in the same workspace, linked to it.
fn continue_session(q: &mut Queue, req: ContinueRequest) -> Result<WorkOrder, ServiceError> {
    if !q.accepting() {
        return Err(ServiceError::unavailable(
            "the daemon is shutting down and not accepting work",
        ));
    }
    let parent = q.get(&req.id)?.clone();
    if req.task_prompt.trim().is_empty() {
        return Err(ServiceError::bad_request(
            "taskPrompt",
            "the follow-up prompt must not be empty",
        ));
    }
    let Some(agent) = q.settings().agents.get(&parent.agent_type) else {
        return Err(ServiceError::invalid_state(format!(
            "agent type {:?} of work order {} is not configured any more",
            parent.agent_type, parent.id
        )));
    };
    if agent.resume_command.is_none() {
        return Err(ServiceError::bad_request(
            "id",
            format!(
                "agent type {} cannot resume a session: give [agents.{}] a resume_command (with {{session_id}})",
                parent.agent_type, parent.agent_type
            ),
        ));
    }
    if !parent.status.is_terminal() {
        return Err(ServiceError::invalid_state(format!(
            "work order {} is {}; continue it once it has ended",
            parent.id, parent.status
        )));
    }
    let Some(session) = parent
        .agent_result
        .as_ref()
        .and_then(|r| r.session_id.clone())
    else {
        return Err(ServiceError::invalid_state(format!(
            "no session id is known for work order {}: its agent reported no result to resume",
            parent.id
        )));
    };
    if let Some(problem) = workspace::prompt_problem(&parent.agent_type, agent, &req.task_prompt) {
        return Err(ServiceError::bad_request("taskPrompt", problem));
    }
    // The same workspace: its worktree, its clone, or its directory.
    let dir = match (&parent.more.worktree, parent.workspace_source.is_cloned()) {
        (Some(w), _) => w.path.clone(),
        (None, true) => q
            .store()
            .workspace_clone_dir(&parent.id)
            .display()
            .to_string(),
        (None, false) => match &parent.workspace_source {
            WorkspaceSource::Local { path } => path.clone(),
            other => {
                return Err(ServiceError::invalid_state(format!(
                    "work order {} has no workspace to continue in ({})",
                    parent.id,
                    other.describe()
                )));
            }
        },
    };
    if !std::path::Path::new(&dir).is_dir() {
        return Err(ServiceError::invalid_state(format!(
            "the workspace of work order {} ({dir}) is gone (purged?)",
            parent.id
        )));
    }
    let max_time = req.max_time.unwrap_or(parent.max_time);
    let max_iterations = req.max_iterations.unwrap_or(parent.max_iterations);
    if !MAX_TIME_RANGE.contains(&max_time) {
        return Err(ServiceError::bad_request(
            "maxTime",
            format!("the time limit {max_time}s is out of range: 1s to 7d"),
        ));
    }
    super::submit::check_iterations(max_iterations)?;
    let id = q.new_work_order_id();
    let mut wo = WorkOrder::new_queued(
        id,
        req.task_prompt,
        parent.agent_type.clone(),
        WorkspaceSource::Local { path: dir },
        max_time,
        max_iterations,
        q.next_created_at(),
    );
    wo.more.env = parent.more.env.clone();
    wo.more.labels = parent.more.labels.clone();
    wo.more.sandbox = parent.more.sandbox.clone();
    wo.priority = parent.priority;
    wo.more.parent_id = Some(parent.id.clone());
    wo.more.resume_session = Some(session);
    q.admit_new(wo)
}
