//! Purge: resolving which work orders a request covers, and deleting them
//! (file, runs and logs, a clone the daemon made) once they are terminal.

use super::{Actor, internal, io_block};
use crate::daemon::workspace;
use crate::model::Timestamp;
use crate::service::*;

impl Actor {
    pub(super) fn purge_plan(&self, req: PurgeRequest) -> Result<Vec<String>, ServiceError> {
        if !req.ids.is_empty() {
            for id in &req.ids {
                self.get(id)?;
            }
            let mut ids = req.ids.clone();
            ids.dedup();
            return Ok(ids);
        }
        let cutoff = req
            .older_than_ms
            .map(|ms| Timestamp::now().plus_millis(-(ms.min(i64::MAX as u64) as i64)));
        Ok(self
            .by_created
            .values()
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

    pub(super) fn purge_delete(
        &mut self,
        ids: Vec<String>,
        delete_branch: bool,
    ) -> Result<Vec<String>, ServiceError> {
        let mut deleted = Vec::new();
        let mut failure = None;
        for id in ids {
            let Some(e) = self.entries.get(&id) else {
                continue;
            };
            if self.live.contains_key(&id) || !e.wo.status.is_terminal() {
                tracing::warn!(work_order = %id, status = %e.wo.status, "not purged: still in progress");
                continue;
            }
            // A worktree is pruned from its repository; its branch is the
            // user's work and stays unless asked.
            if let Some(w) = &e.wo.worktree
                && let Err(err) = io_block(|| workspace::remove_worktree(w, delete_branch))
            {
                tracing::warn!(work_order = %id, error = %err, "cannot remove worktree");
            }
            match io_block(|| self.store.delete_work_order(&e.wo)) {
                Ok(()) => {
                    tracing::info!(work_order = %id, "purged");
                    self.remove(&id);
                    deleted.push(id);
                }
                Err(err) => {
                    tracing::error!(work_order = %id, error = %err, "purge failed");
                    failure = Some(err);
                }
            }
        }
        match failure {
            Some(e) if deleted.is_empty() => Err(internal(e)),
            _ => Ok(deleted),
        }
    }
}
