//! `queue diff` and `GET /api/v1/work-orders/:id/diff`: a worktree's
//! changes against the commit it started from — its branch's commits plus
//! what the agent left uncommitted or untracked — as git shows them, or
//! summed per file. git runs off the queue's thread.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::land::{self, DiffStat, DiffView, LandError};
use crate::model::{WorkOrder, Worktree};
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
