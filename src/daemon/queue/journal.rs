//! The queue's side of the submit journal (`store::journal`): a new work
//! order is made durable by one journal record, the client is answered, and
//! its own file is written on the next tick (or by its next change, which
//! writes the file anyway). Before files are deleted the journal is emptied,
//! so a crash can never bring a purged work order back.

use super::{Actor, internal, io_block};
use crate::model::WorkOrder;
use crate::service::ServiceError;

/// Files written from the journal per tick: a burst of submits is written
/// out over a few ticks instead of holding the queue for one long stretch.
const FILES_PER_TICK: usize = 64;

impl Actor {
    /// Makes a work order this queue has never held durable through the
    /// journal. False: not new, no journal, or no room (write its file).
    pub(super) fn journal_new(&mut self, wo: &WorkOrder) -> bool {
        if self.entries.contains_key(&wo.id) {
            return false;
        }
        let Some(journal) = self.journal.as_mut() else {
            return false;
        };
        // On a (nearly) full disk the file could not follow: write it now,
        // so the request fails there and says why.
        if !self.store.has_room() {
            return false;
        }
        let payload = wo.to_json_line_with(&serde_json::Map::new());
        // Blocks this worker for the one flush (about a millisecond) rather
        // than `io_block`: handing the worker to another thread and back
        // costs two cross-thread wake-ups on the submit's path, and the
        // answer is then sent from this thread right after (the door's task
        // is woken here and runs here next).
        match journal.append(&payload) {
            Ok(true) => {
                self.pending.journaled.insert(wo.id.clone());
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::warn!(work_order = %wo.id, error = %e, "cannot write the submit journal; writing the work order's file instead");
                false
            }
        }
    }

    /// Writes the files of journaled work orders (at most `budget`), and
    /// empties the journal once none is left.
    pub(super) fn write_journaled(&mut self, budget: usize) {
        let ids: Vec<String> = self
            .pending
            .journaled
            .iter()
            .take(budget)
            .cloned()
            .collect();
        for id in ids {
            let Some(wo) = self.entries.get(&id).map(|e| e.wo.clone()) else {
                self.pending.journaled.remove(&id);
                continue;
            };
            if self.persist(&wo).is_err() {
                return; // retried next tick; the journal still holds it
            }
            self.pending.journaled.remove(&id);
        }
        if self.pending.journaled.is_empty()
            && let Some(journal) = self.journal.as_mut()
            && !journal.is_empty()
            && let Err(e) = io_block(|| journal.reset())
        {
            tracing::warn!(error = %e, "cannot empty the submit journal; retried next tick");
        }
    }

    /// Files of this tick's share of the journaled work orders.
    pub(super) fn write_journaled_some(&mut self) {
        self.write_journaled(FILES_PER_TICK);
    }

    /// Between requests: the journaled files, written behind the answers.
    pub(super) fn write_journaled_when_idle(&mut self) {
        if !self.pending.journaled.is_empty()
            || self.journal.as_ref().is_some_and(|j| !j.is_empty())
        {
            self.write_journaled(FILES_PER_TICK);
        }
    }

    /// Before work orders' files are deleted: no journal record may outlive
    /// them. Every journaled file is written and the journal emptied; what
    /// cannot be written yet (a full disk) is journaled again on its own,
    /// except the ones being deleted.
    pub(super) fn retire_journal(&mut self, deleting: &[String]) -> Result<(), ServiceError> {
        if self.journal.as_ref().is_none_or(|j| j.is_empty()) {
            return Ok(());
        }
        self.write_journaled(usize::MAX);
        let Some(journal) = self.journal.as_mut() else {
            return Ok(());
        };
        if journal.is_empty() {
            return Ok(());
        }
        let keep: Vec<Vec<u8>> = (self.pending.journaled.iter())
            .filter(|id| !deleting.contains(id))
            .filter_map(|id| self.entries.get(id))
            .map(|e| e.wo.to_json_line_with(&serde_json::Map::new()))
            .collect();
        io_block(|| {
            journal.reset()?;
            for payload in &keep {
                if !journal.append(payload)? {
                    return Err(std::io::Error::other("the journal has no room"));
                }
            }
            Ok(())
        })
        .map_err(|e| {
            internal(format!(
                "cannot empty the submit journal before deleting files: {e}"
            ))
        })
    }
}
