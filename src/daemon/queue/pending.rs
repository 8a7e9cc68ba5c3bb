//! Changes that happened but could not be written (a full disk): memory
//! keeps the facts, the work order (or run record) is marked pending, and
//! every tick writes it again until it lands. `queue health` counts them
//! (`unpersisted`, status `degraded`, an alert), and a reply to the request
//! that caused one says so, so nothing is reported as done that is not on
//! disk. Once space is back the files catch up without a restart.

use super::Actor;

impl Actor {
    /// Writes every pending change again (the latest state of each).
    pub(super) fn retry_unpersisted(&mut self) {
        // Also empties the journal once every file it stood for is written.
        self.write_journaled_some();
        if self.pending.is_empty() {
            return;
        }
        let ids: Vec<String> = self.pending.orders.iter().cloned().collect();
        for id in ids {
            let Some(wo) = self.entries.get(&id).map(|e| e.wo.clone()) else {
                self.pending.orders.remove(&id);
                continue;
            };
            if self.persist(&wo).is_ok() {
                self.pending.orders.remove(&id);
                tracing::info!(work_order = %id, status = %wo.status, "pending change written");
            } else {
                // Still failing: the rest would fail the same way.
                return;
            }
        }
        let runs: Vec<_> = self.pending.runs.values().cloned().collect();
        for run in runs {
            self.save_run(&run);
            if self.pending.runs.contains_key(&run.id) {
                return;
            }
            tracing::info!(run = %run.id, "pending run record written");
        }
    }

    /// Number of work orders whose latest state is not on disk yet.
    pub(super) fn unpersisted_count(&self) -> u64 {
        self.pending.orders.len() as u64
    }

    /// At shutdown: what could still not be written is lost with this
    /// process (the run's own exit file still tells the next daemon).
    pub(super) fn report_unpersisted_at_exit(&self) {
        if !self.pending.orders.is_empty() || !self.pending.runs.is_empty() {
            tracing::error!(
                work_orders = ?self.pending.orders,
                runs = ?self.pending.runs.keys().collect::<Vec<_>>(),
                "stopping with changes that could not be written"
            );
        }
    }
}
