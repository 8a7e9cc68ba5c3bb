//! `queue purge` and the HTTP deletes: resolves the set, stops what still
//! runs (all at once, each with its grace) and removes them all once it has
//! ended (`Queue::remove_when_stopped`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::{ResultKind, Status, Timestamp};
use crate::service::{PurgeOutcome, Reply, ServiceError};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgeRequest {
    pub ids: Vec<String>,
    pub statuses: Vec<Status>,
    pub older_than_ms: Option<u64>,
    pub dry_run: bool,
    /// Also delete purged worktrees' branches.
    pub delete_branch: bool,
}

impl Operation for PurgeRequest {
    type Output = PurgeOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<PurgeOutcome>) {
        let ids = match plan(q, &self) {
            Ok(ids) => ids,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if self.dry_run {
            let _ = reply.send(Ok(PurgeOutcome {
                deleted_count: 0,
                deleted_ids: vec![],
                would_delete: Some(ids),
            }));
            return;
        }
        let live: Vec<String> = ids.iter().filter(|id| q.is_running(id)).cloned().collect();
        for id in &live {
            q.request_stop(
                id,
                Status::Canceled,
                ResultKind::Canceled,
                "canceled by user (purged)".into(),
                None,
                None,
            );
        }
        q.remove_when_stopped(live, ids, self.delete_branch, reply);
    }
}

/// The ids a purge covers: those named (each must exist; duplicates once),
/// else every work order of the statuses asked (default: every ended one)
/// created before the cutoff.
fn plan(q: &Queue, req: &PurgeRequest) -> Result<Vec<String>, ServiceError> {
    if !req.ids.is_empty() {
        for id in &req.ids {
            q.get(id)?;
        }
        let mut seen = HashSet::new();
        return Ok(req
            .ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect());
    }
    let cutoff = req
        .older_than_ms
        .map(|ms| Timestamp::now().plus_millis(-(ms.min(i64::MAX as u64) as i64)));
    Ok(q.work_orders()
        .filter(|wo| {
            if req.statuses.is_empty() {
                wo.status.is_terminal()
            } else {
                req.statuses.contains(&wo.status)
            }
        })
        .filter(|wo| cutoff.is_none_or(|c| wo.created_at < c))
        .map(|wo| wo.id.clone())
        .collect())
}
