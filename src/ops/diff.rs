//! `queue diff` and `GET /api/v1/work-orders/:id/diff`: a worktree's
//! changes against the commit it started from — its branch's commits plus
//! what the agent left uncommitted or untracked — as git shows them, or
//! summed per file. git runs off the queue's thread.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::land::{self, Busy, DiffStat, DiffView, LandError};
use crate::model::{Status, WorkOrder, Worktree};
use crate::service::{Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRequest {
    pub id: String,
    pub view: DiffView,
    /// Colour the text as git does on a terminal.
    pub color: bool,
}

/// The summary per file (`?stat=true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffStatRequest {
    pub id: String,
}

/// The worktree of work order `id` — a follow-up (`queue continue`) works
/// in its parent's, which owns it — with its owner, or why there is none.
pub(crate) fn worktree_of(q: &Queue, id: &str) -> Result<(WorkOrder, Worktree), ServiceError> {
    let asked = q.get(id)?;
    let mut wo = asked;
    // A follow-up of a follow-up ...: as deep as a chain can sensibly go.
    for _ in 0..64 {
        if let Some(w) = wo.more.worktree.as_deref() {
            if uses_worktree(asked, &w.path) {
                return Ok((wo.clone(), w.clone()));
            }
            break;
        }
        match wo.more.parent_id.as_deref().map(|p| q.get(p)) {
            Some(Ok(parent)) => wo = parent,
            _ => break,
        }
    }
    Err(ServiceError::invalid_state(format!(
        "work order {id} has no worktree: only work submitted with --worktree (and its follow-ups) has changes of its own to review"
    )))
}

/// Whether `wo` runs in the worktree at `path` (its own, or its parent's).
pub(crate) fn uses_worktree(wo: &WorkOrder, path: &str) -> bool {
    wo.more.worktree.as_ref().is_some_and(|t| t.path == path)
        || matches!(&wo.workspace_source, crate::model::WorkspaceSource::Local { path: p } if p == path)
}

/// Claims the worktree at `path` for changing it (merge, discard, push,
/// `doing` being "merged" ...): refused while a run may use it — work order
/// `id` itself or a follow-up in the same worktree queued or running — or
/// while another change of it is under way.
pub(crate) fn claim(q: &Queue, id: &str, path: &str, doing: &str) -> Result<Busy, ServiceError> {
    let user = q
        .work_orders()
        .filter(|o| matches!(o.status, Status::Queued | Status::Running))
        .find(|o| uses_worktree(o, path));
    if let Some(o) = user {
        let who = if o.id == id {
            format!("it is {}", o.status)
        } else {
            format!(
                "work order {}, which uses the same worktree, is {}",
                o.id, o.status
            )
        };
        return Err(ServiceError::invalid_state(format!(
            "work order {id} cannot be {doing} while {who}: wait for it (`agentgate queue wait {}`) or stop it first",
            o.id
        )));
    }
    Busy::take(path).ok_or_else(|| {
        ServiceError::invalid_state(format!(
            "work order {id}: another merge, discard or push of its worktree is under way"
        ))
    })
}

/// The first line of work order `id`'s prompt, for commit messages and
/// titles (a follow-up's own prompt, not its parent's).
pub(crate) fn title_of(q: &Queue, id: &str) -> String {
    q.get(id)
        .ok()
        .and_then(|wo| {
            wo.task_prompt
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| crate::model::agent::cut(l, 72))
        })
        .unwrap_or_default()
}

/// A landing error as the doors say it.
pub(crate) fn land_error(id: &str, e: LandError) -> ServiceError {
    match e {
        LandError::Refused(why) => ServiceError::invalid_state(format!("work order {id}: {why}")),
        other => ServiceError::internal(format!("work order {id}: {other}")),
    }
}

impl Operation for DiffRequest {
    type Output = Vec<u8>;

    fn apply(self, q: &mut Queue, reply: Reply<Vec<u8>>) {
        let w = match worktree_of(q, &self.id) {
            Ok((_, w)) => w,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        tokio::task::spawn_blocking(move || {
            let out = land::diff(&w, self.view, self.color).map_err(|e| land_error(&self.id, e));
            let _ = reply.send(out);
        });
    }
}

impl Operation for DiffStatRequest {
    type Output = DiffStat;

    fn apply(self, q: &mut Queue, reply: Reply<DiffStat>) {
        let w = match worktree_of(q, &self.id) {
            Ok((_, w)) => w,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        tokio::task::spawn_blocking(move || {
            let _ = reply.send(land::stat(&w).map_err(|e| land_error(&self.id, e)));
        });
    }
}
