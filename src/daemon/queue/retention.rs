//! Retention: terminal work orders beyond `retention_max_count`, or that
//! ended longer ago than `retention_max_age`, are purged automatically,
//! oldest first, a small batch per tick (so the queue never stalls on it).
//! Queued and running work is never touched. Off unless configured.

use super::Actor;
use crate::model::{Status, Timestamp};

/// Work orders removed per tick at most.
const BATCH: usize = 32;

impl Actor {
    pub(super) fn enforce_retention(&mut self) {
        let (max_age, max_count) = (
            self.settings.retention_max_age,
            self.settings.retention_max_count,
        );
        if max_age.is_none() && max_count.is_none() {
            return;
        }
        let count = |s: Status| self.counts.get(&s).copied().unwrap_or(0);
        let terminal = count(Status::Succeeded) + count(Status::Failed) + count(Status::Canceled);
        let mut excess = max_count.map_or(0, |m| terminal.saturating_sub(m as u64));
        let cutoff = max_age
            .map(|a| Timestamp::now().plus_millis(-(a.as_millis().min(i64::MAX as u128) as i64)));
        let mut doomed = Vec::new();
        // Oldest first; a work order created after the cutoff cannot have
        // ended before it, so the walk stops there once the count is met.
        for wo in self.by_created.values() {
            if doomed.len() >= BATCH || (excess == 0 && cutoff.is_none_or(|c| wo.created_at >= c)) {
                break;
            }
            if !wo.status.is_terminal()
                || self.runs.live.contains_key(&wo.id)
                || self.pending.orders.contains(&wo.id)
            {
                continue;
            }
            let ended = wo.completed_at.unwrap_or(wo.updated_at);
            if excess > 0 {
                excess -= 1;
                doomed.push(wo.id.clone());
            } else if cutoff.is_some_and(|c| ended < c) {
                doomed.push(wo.id.clone());
            }
        }
        if doomed.is_empty() {
            return;
        }
        match self.purge_delete(doomed, false) {
            Ok(ids) => {
                self.report.retention_purged += ids.len() as u64;
                tracing::info!(
                    purged = ids.len(),
                    "retention: removed old terminal work orders"
                );
            }
            Err(e) => tracing::error!(error = %e, "retention: purge failed"),
        }
    }
}
