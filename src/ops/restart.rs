//! `queue restart`: a copy of an ended work order, queued anew.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::SubmitRequest;
use super::{Operation, Queue};
use crate::model::{WorkOrder, WorkspaceInput, WorkspaceSource};
use crate::service::{Reply, ServiceError};

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
        let _ = reply.send(restart(q, self));
    }
}

/// `queue restart`: a copy of a finished work order (prompt, agent,
/// workspace, limits, env, labels, priority, dependencies, session),
/// queued anew and linked to it; the request's fields override.
fn restart(q: &mut Queue, req: RestartRequest) -> Result<WorkOrder, ServiceError> {
    let orig = q.get(&req.id)?.clone();
    if !orig.status.is_terminal() {
        return Err(ServiceError::invalid_state(format!(
            "work order {} is {}; restart copies work orders that have ended (cancel it first, or wait for it)",
            orig.id, orig.status
        )));
    }
    let workspace_source = Some(match &orig.workspace_source {
        WorkspaceSource::Local { path } => WorkspaceInput::local(path.clone()),
        WorkspaceSource::Github {
            owner,
            repo,
            branch,
        } => WorkspaceInput {
            kind: Some("github".into()),
            owner: Some(owner.clone()),
            repo: Some(repo.clone()),
            branch: branch.clone(),
            ..WorkspaceInput::default()
        },
        WorkspaceSource::Git { url, branch } => WorkspaceInput {
            kind: Some("git".into()),
            url: Some(url.clone()),
            branch: branch.clone(),
            ..WorkspaceInput::default()
        },
        WorkspaceSource::Other { kind, .. } => {
            return Err(ServiceError::invalid_state(format!(
                "work order {} has a workspace source of type {kind:?}, which this daemon cannot run",
                orig.id
            )));
        }
    });
    let mut env = orig.more.env.clone();
    env.extend(req.env);
    let copy = SubmitRequest {
        task_prompt: req.task_prompt.unwrap_or_else(|| orig.task_prompt.clone()),
        agent_type: Some(req.agent_type.unwrap_or_else(|| orig.agent_type.clone())),
        workspace_source,
        max_time: Some(req.max_time.unwrap_or(orig.max_time)),
        max_iterations: Some(req.max_iterations.unwrap_or(orig.max_iterations)),
        env,
        worktree: Some(orig.more.worktree.is_some()),
        depends_on: req
            .depends_on
            .unwrap_or_else(|| orig.more.depends_on.clone()),
        priority: req.priority.unwrap_or(orig.priority),
        labels: req.labels.unwrap_or_else(|| orig.more.labels.clone()),
        setup: orig.more.setup.clone(),
        sandbox: orig.more.sandbox.as_deref().cloned(),
    };
    let mut wo = super::submit::build(q, copy)?;
    // A follow-up stays one: it resumes the same session.
    wo.more.parent_id = orig.more.parent_id.clone();
    wo.more.resume_session = orig.more.resume_session.clone();
    wo.more.restarted_from = Some(orig.id.clone());
    q.admit_new(wo)
}
