//! Removal of work orders (`ops::purge` decides which, and stops the live
//! ones first; retention uses it too): the work-order file durably, their
//! run directories and clone into the trash (a rename: instant, however much
//! they hold), deleted in the background. Nothing the actor does here waits
//! on a big directory.

use std::collections::HashSet;

use super::{Actor, internal, io_block};
use crate::daemon::workspace;
use crate::service::*;

/// A purge waiting for its live work orders to stop.
pub(super) struct PendingPurge {
    waiting: HashSet<String>,
    ids: Vec<String>,
    delete_branch: bool,
    reply: Reply<PurgeOutcome>,
}

impl Actor {
    /// Removes `ids` once the live ones among them (`live`, being stopped)
    /// have ended, then answers `reply` with those removed.
    pub(crate) fn remove_when_stopped(
        &mut self,
        live: Vec<String>,
        ids: Vec<String>,
        delete_branch: bool,
        reply: Reply<PurgeOutcome>,
    ) {
        self.purges.push(PendingPurge {
            waiting: live.into_iter().collect(),
            ids,
            delete_branch,
            reply,
        });
        self.finish_purges();
    }

    /// A live run ended: a purge waiting for it may go on.
    pub(super) fn purge_stopped(&mut self, id: &str) {
        if self.purges.is_empty() {
            return;
        }
        for p in &mut self.purges {
            p.waiting.remove(id);
        }
        self.finish_purges();
    }

    fn finish_purges(&mut self) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.purges)
            .into_iter()
            .partition(|p| p.waiting.is_empty());
        self.purges = waiting;
        for p in ready {
            let out = self
                .purge_delete(p.ids, p.delete_branch)
                .map(|deleted| PurgeOutcome {
                    deleted_count: deleted.len() as u64,
                    deleted_ids: deleted,
                    would_delete: None,
                });
            let _ = p.reply.send(out);
        }
    }

    /// Removes these work orders (none may still be running); the ids
    /// removed. Also what retention uses.
    pub(super) fn purge_delete(
        &mut self,
        ids: Vec<String>,
        delete_branch: bool,
    ) -> Result<Vec<String>, ServiceError> {
        // No journal record may bring a deleted work order back.
        if !ids.is_empty() {
            self.retire_journal(&ids)?;
        }
        let mut deleted = Vec::new();
        let mut failure = None;
        for id in ids {
            let Some(e) = self.entries.get(&id) else {
                continue;
            };
            if self.runs.live.contains_key(&id) {
                tracing::warn!(work_order = %id, status = %e.wo.status, "not purged: still running");
                continue;
            }
            let wo = e.wo.clone();
            // A worktree goes to the trash and is pruned from its repository;
            // its branch is the user's work and stays unless asked.
            if let Some(w) = &wo.more.worktree
                && let Err(err) =
                    io_block(|| workspace::remove_worktree(w, delete_branch, &self.trash))
            {
                tracing::warn!(work_order = %id, error = %err, "cannot remove worktree");
            }
            match io_block(|| self.store.delete_work_order(&wo, &self.trash)) {
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
