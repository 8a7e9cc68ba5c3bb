//! `queue discard` and `POST /api/v1/work-orders/:id/discard`: removes a
//! work order's worktree and deletes its branch — refused while the branch
//! holds work that was not merged, unless forced — and records it.

use serde::{Deserialize, Serialize};

use super::diff::{claim, land_error, worktree_of};
use super::{Operation, Queue};
use crate::land;
use crate::model::{Timestamp, WorkOrder};
use crate::service::{Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardRequest {
    pub id: String,
    /// Even with work that was never merged.
    pub force: bool,
}

impl Operation for DiscardRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        let (wo, w) = match worktree_of(q, &self.id) {
            Ok(v) => v,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if w.discarded {
            let _ = reply.send(Ok(wo));
            return;
        }
        let busy = match claim(q, &self.id, &w.path, "discarded") {
            Ok(b) => b,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let id = wo.id.clone();
        let force = self.force;
        q.hand_off(
            move || {
                let out = land::discard(&w, force);
                drop(busy);
                out
            },
            move |q, result| {
                let out = result
                    .map_err(|e| land_error(&id, e))
                    .and_then(|()| mark_discarded(q, &id));
                let _ = reply.send(out);
            },
        );
    }
}

/// Every work order sharing the worktree (a follow-up's) records it gone.
fn mark_discarded(q: &mut Queue, id: &str) -> Result<WorkOrder, ServiceError> {
    tracing::info!(work_order = %id, "worktree discarded");
    let path = q
        .get(id)?
        .more
        .worktree
        .as_ref()
        .map(|w| w.path.clone())
        .unwrap_or_default();
    let sharing: Vec<WorkOrder> = q
        .work_orders()
        .filter(|o| o.more.worktree.as_ref().is_some_and(|t| t.path == path))
        .cloned()
        .collect();
    let now = Timestamp::now();
    for mut o in sharing {
        if let Some(w) = o.more.worktree.as_mut() {
            w.discarded = true;
        }
        o.updated_at = now;
        q.commit(o)?;
    }
    Ok(q.get(id)?.clone())
}
