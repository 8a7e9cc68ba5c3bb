//! Purge, as one actor command: resolve which work orders a request covers,
//! stop the live ones (all at once, each with its grace period), then remove
//! them all: the work-order file durably, their run directories and clone
//! into the trash (a rename: instant, however much they hold), deleted in
//! the background. Nothing the actor does here waits on a big directory.

use std::collections::HashSet;

use super::{Actor, internal, io_block};
use crate::daemon::workspace;
use crate::model::Timestamp;
use crate::model::{ResultKind, Status};
use crate::service::*;

/// A purge waiting for its live work orders to stop.
pub(super) struct PendingPurge {
    waiting: HashSet<String>,
    ids: Vec<String>,
    delete_branch: bool,
    reply: Reply<PurgeOutcome>,
}

impl Actor {
    pub(crate) fn purge(&mut self, req: PurgeRequest, reply: Reply<PurgeOutcome>) {
        let ids = match self.purge_plan(&req) {
            Ok(ids) => ids,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if req.dry_run {
            let _ = reply.send(Ok(PurgeOutcome {
                deleted_count: 0,
                deleted_ids: vec![],
                would_delete: Some(ids),
            }));
            return;
        }
        let live: Vec<String> = ids
            .iter()
            .filter(|id| self.runs.live.contains_key(*id))
            .cloned()
            .collect();
        for id in &live {
            self.request_stop(
                id,
                Status::Canceled,
                ResultKind::Canceled,
                "canceled by user (purged)".into(),
                None,
                None,
            );
        }
        self.purges.push(PendingPurge {
            waiting: live.into_iter().collect(),
            ids,
            delete_branch: req.delete_branch,
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

    fn purge_plan(&self, req: &PurgeRequest) -> Result<Vec<String>, ServiceError> {
        if !req.ids.is_empty() {
            for id in &req.ids {
                self.get(id)?;
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
