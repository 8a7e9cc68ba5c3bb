//! `queue merge` and `POST /api/v1/work-orders/:id/merge`: lands a
//! worktree's work on a branch (see `land::merge` for how nothing is ever
//! half-applied), then records the merge on the work order and tells
//! followers (`work_order_updated` with the merge).

use serde::{Deserialize, Serialize};

use super::diff::{claim, land_error, title_of, worktree_of};
use super::{Operation, Queue};
use crate::land::{self, MergePlan};
use crate::model::{Merge, WorkOrder};
use crate::service::{Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRequest {
    pub id: String,
    /// One commit on the target instead of a merge.
    pub squash: bool,
    /// The commit message [default: one naming the work order and its prompt].
    pub message: Option<String>,
    /// The branch to land on [default: the one the worktree was made from].
    pub into: Option<String>,
}

/// What a merge did, and the work order that records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeOutcome {
    pub merge: Merge,
    pub work_order: WorkOrder,
}

impl MergeRequest {
    fn check(&self) -> Result<(), ServiceError> {
        if let Some(b) = &self.into
            && (b.is_empty()
                || b.starts_with('-')
                || b.contains(['\0', '\n', ' ', '~', '^', ':', '\\'])
                || b.contains(".."))
        {
            return Err(ServiceError::bad_request(
                "into",
                format!("{b:?} is not a branch name"),
            ));
        }
        if self
            .message
            .as_deref()
            .is_some_and(|m| m.trim().is_empty() || m.contains('\0'))
        {
            return Err(ServiceError::bad_request(
                "message",
                "must not be empty or hold a NUL byte",
            ));
        }
        Ok(())
    }
}

impl Operation for MergeRequest {
    type Output = MergeOutcome;

    fn validate(&self) -> Result<(), ServiceError> {
        self.check()
    }

    fn apply(self, q: &mut Queue, reply: Reply<MergeOutcome>) {
        let (wo, w) = match worktree_of(q, &self.id) {
            Ok(v) => v,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let busy = match claim(q, &self.id, &w.path, "merged") {
            Ok(b) => b,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let plan = MergePlan {
            id: self.id.clone(),
            title: title_of(q, &self.id),
            squash: self.squash,
            message: self.message,
            into: self.into,
        };
        let id = wo.id.clone();
        q.hand_off(
            move || {
                let out = land::merge(&w, &plan);
                drop(busy);
                out
            },
            move |q, result| {
                let _ = reply.send(record(q, &id, result.map_err(|e| land_error(&id, e))));
            },
        );
    }
}

/// Records a landed merge on the work order (it is on the branch already:
/// a failed write of the record is said, the merge stands).
fn record(
    q: &mut Queue,
    id: &str,
    merged: Result<Merge, ServiceError>,
) -> Result<MergeOutcome, ServiceError> {
    let merge = merged?;
    tracing::info!(work_order = %id, into = %merge.into, commit = %merge.commit, squash = merge.squash, "merged");
    let mut wo = q.get(id)?.clone();
    if let Some(w) = wo.more.worktree.as_mut() {
        w.merges.push(merge.clone());
    }
    wo.updated_at = merge.at;
    q.commit(wo.clone()).map_err(|e| {
        ServiceError::internal(format!(
            "merged into {} as {}, but the record of it could not be written: {}",
            merge.into, merge.commit, e.message
        ))
    })?;
    q.announce_update(&wo, merge.at);
    Ok(MergeOutcome {
        merge,
        work_order: wo,
    })
}
