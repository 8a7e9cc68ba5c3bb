//! Work orders in memory: the indexes (by id, by creation time, queued in
//! start order, counts per status), the one way a change gets there
//! (`commit`: disk first; `commit_event`: memory follows facts), and the
//! read-only lookups the query operations (`ops::show`, `ops::resolve`,
//! `ops::list_runs`, ...) are built on.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Map;

use super::{Actor, Entry, QueueKey, internal, io_block, queue_key};
use crate::model::{ExecutorKind, Run, SharedWorkOrder, Status, Timestamp, WorkOrder, validate_id};
use crate::service::*;
use crate::store::LoadedExtra;

/// How many of the newest work orders keep their rendered JSON (a listing of
/// them is a concatenation); older ones render it again when listed.
const KEEP_JSON: usize = 10_000;

/// A work order that is new, or whose status moved: what `after_change`
/// acts on.
pub(super) struct Change {
    wo: Arc<SharedWorkOrder>,
    previous: Option<Status>,
}

impl Actor {
    /// Puts a work order into memory and keeps the indexes in step. Nothing
    /// else: what follows a change (`after_change`) is the caller's next
    /// step. Returns the change when the work order is new or its status moved.
    pub(super) fn apply(&mut self, wo: WorkOrder, extra: Option<LoadedExtra>) -> Option<Change> {
        let wo = Arc::new(SharedWorkOrder::new(wo));
        let old = self.entries.get(&wo.id).map(|e| e.wo.clone());
        let cost = |w: &WorkOrder| w.agent_result.as_ref().and_then(|r| r.cost_usd);
        self.costs
            .changed(old.as_deref().and_then(|o| cost(o)), cost(&wo));
        if let Some(old) = &old {
            if let Some(c) = self.counts.get_mut(&old.status) {
                *c = c.saturating_sub(1);
            }
            if old.status == Status::Queued {
                self.unqueue(&queue_key(old));
            }
            if old.created_at != wo.created_at {
                self.by_created.remove(old.created_at, &wo.id);
            }
        }
        self.by_created.insert(wo.clone());
        *self.counts.entry(wo.status).or_default() += 1;
        let previous = old.map(|o| o.status);
        if wo.status == Status::Queued {
            self.enqueue_index(&wo);
        }
        let (extra, extra_on_disk) = match extra {
            // Left in its file at start (an ended work order is rarely
            // written again; `persist` reads them back).
            Some(LoadedExtra::OnDisk) => (None, true),
            Some(LoadedExtra::Map(x)) => (super::extra_text(&x), false),
            // Unchanged: what the entry had.
            None => self
                .entries
                .get(&wo.id)
                .map_or((None, false), |e| (e.extra.clone(), e.extra_on_disk)),
        };
        let change = (previous != Some(wo.status)).then(|| Change {
            wo: wo.clone(),
            previous,
        });
        let slot = self.entries.get(&wo.id).map(|e| e.stats_slot);
        let stats_slot = self.stats.put(slot, &wo);
        self.entries.insert(Entry {
            wo,
            extra,
            stats_slot,
            extra_on_disk,
        });
        change
    }

    /// What follows a change once it is in place, in this order: followers
    /// hear of it, hooks of a terminal status fire, dependents of a status
    /// that moved are released or doomed, and doomed dependents are canceled.
    pub(super) fn after_change(&mut self, change: Option<Change>) {
        if let Some(Change { wo, previous }) = change {
            let _ = self.changes.send(StatusChange {
                id: wo.id.clone(),
                status: Some(wo.status),
                previous,
                work_order: Some(wo.clone()),
                at: Timestamp::now(),
            });
            if wo.status.is_terminal() && !self.settings.hooks.is_empty() {
                crate::daemon::hooks::fire(&self.settings.hooks, &self.settings.env_remove, &wo);
            }
            // Dependents look the new status up: only once it is in place.
            if previous.is_some() {
                self.dependency_settled(&wo);
            }
        }
        self.cancel_doomed_dependents();
    }

    pub(super) fn remove(&mut self, id: &str) {
        if let Some(e) = self.entries.remove(id) {
            self.pending.forget(id, &e.wo.run_ids);
            self.stats.remove(e.stats_slot);
            self.costs
                .changed(e.wo.agent_result.as_ref().and_then(|r| r.cost_usd), None);
            let key = (e.wo.created_at, e.wo.id.clone());
            self.by_created.remove(key.0, &key.1);
            if e.wo.status == Status::Queued {
                self.unqueue(&queue_key(&e.wo));
            }
            self.waiting.dependents.remove(id);
            if let Some(c) = self.counts.get_mut(&e.wo.status) {
                *c = c.saturating_sub(1);
            }
            let _ = self.changes.send(StatusChange {
                id: id.to_string(),
                status: None,
                previous: Some(e.wo.status),
                work_order: None,
                at: Timestamp::now(),
            });
        }
    }

    /// A queued work order takes its place: ready to start, or waiting for
    /// a dependency (and registered with it).
    fn enqueue_index(&mut self, wo: &WorkOrder) {
        let key = queue_key(wo);
        let unmet = self.unmet_dependencies(wo);
        if unmet.is_empty() {
            let kind = self.executor_of(wo);
            self.waiting.ready.entry(kind).or_default().insert(key);
        } else {
            for dep in unmet {
                self.waiting
                    .dependents
                    .entry(dep.to_string())
                    .or_default()
                    .push(wo.id.clone());
            }
            self.waiting.blocked.insert(key);
        }
    }

    fn unqueue(&mut self, key: &QueueKey) {
        self.waiting.remove(key);
    }

    /// Rebuilds the queue indexes from scratch (after loading, when
    /// dependencies may have been read after their dependents).
    pub(super) fn reindex_queued(&mut self) {
        self.waiting.ready.clear();
        self.waiting.blocked.clear();
        self.waiting.dependents.clear();
        let queued: Vec<Arc<SharedWorkOrder>> = self
            .by_created
            .values()
            .filter(|w| w.status == Status::Queued)
            .cloned()
            .collect();
        for wo in queued {
            self.enqueue_index(&wo);
        }
    }

    /// Where a work order's runs execute: its agent type's choice, else the
    /// daemon's default.
    pub(crate) fn executor_of(&self, wo: &WorkOrder) -> ExecutorKind {
        self.settings
            .agents
            .get(&wo.agent_type)
            .map_or(self.settings.executor, |a| self.settings.executor_for(a))
    }

    pub(super) fn persist(&self, wo: &WorkOrder) -> Result<(), ServiceError> {
        let entry = self.entries.get(&wo.id);
        io_block(|| {
            // Unknown fields kept on disk only are read back from the file
            // this write replaces: a file that cannot be read is not
            // overwritten (they would be lost).
            let extra: Map<String, serde_json::Value> = match entry {
                Some(e) if e.extra_on_disk => self.store.load_extra(&wo.id)?,
                Some(e) => e
                    .extra
                    .as_deref()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default(),
                None => Map::new(),
            };
            self.store.save_work_order(wo, &extra)
        })
        .map_err(|e| {
            tracing::error!(work_order = %wo.id, error = %e, "persisting work order failed");
            internal(e)
        })
    }

    /// A change a client asked for: written first, applied only if the write
    /// succeeded, so a failed write leaves memory unchanged.
    pub(crate) fn commit(&mut self, wo: WorkOrder) -> Result<(), ServiceError> {
        // A new one: one journal record is durable enough to answer; its
        // file follows on the next tick (`journal`).
        if !self.journal_new(&wo) {
            self.persist(&wo)?;
            self.pending.journaled.remove(&wo.id);
        }
        self.pending.orders.remove(&wo.id);
        let change = self.apply(wo, None);
        self.after_change(change);
        Ok(())
    }

    /// A change that already happened (a process exited): memory follows the
    /// facts even if the disk write fails; then the change is pending, and
    /// written on a later tick (see `pending`). Returns whether it is durable.
    pub(super) fn commit_event(&mut self, wo: WorkOrder) -> bool {
        let durable = self.persist(&wo).is_ok();
        if durable {
            self.pending.orders.remove(&wo.id);
            self.pending.journaled.remove(&wo.id);
        } else {
            self.pending.orders.insert(wo.id.clone());
        }
        let change = self.apply(wo, None);
        self.after_change(change);
        durable
    }

    /// A run record, written durably; one that cannot be written is kept
    /// and retried on the tick like a work order.
    pub(super) fn save_run(&mut self, run: &Run) {
        match io_block(|| self.store.save_run(run)) {
            Ok(()) => {
                self.pending.runs.remove(&run.id);
            }
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "persisting run record failed; retried every tick");
                self.pending.runs.insert(run.id.clone(), run.clone());
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Result<&WorkOrder, ServiceError> {
        validate_id(id).map_err(|e| ServiceError::bad_request("id", e.to_string()))?;
        self.entries
            .get(id)
            .map(|e| &**e.wo)
            .ok_or_else(|| ServiceError::not_found(id))
    }

    /// A copy of a held work order, to change and commit.
    pub(crate) fn copy_of(&self, id: &str) -> Option<WorkOrder> {
        self.entries.get(id).map(|e| WorkOrder::clone(&e.wo))
    }

    /// A creation time later than every other: two submits in the same
    /// millisecond still list newest-first and start FIFO in submission order.
    pub(crate) fn next_created_at(&mut self) -> Timestamp {
        let t = Timestamp::now().max(self.last_created.plus_millis(1));
        self.last_created = t;
        t
    }

    /// Work orders held as shared (with their rendered JSON), oldest first
    /// (`.rev()`: newest first): what a listing hands its door.
    pub(crate) fn shared_orders(&self) -> impl DoubleEndedIterator<Item = &Arc<SharedWorkOrder>> {
        self.by_created.values()
    }

    /// How many work orders are held.
    pub(crate) fn held_count(&self) -> u64 {
        self.entries.len() as u64
    }

    /// How many work orders have `status` (kept as they change: no scan).
    pub(crate) fn count_of(&self, status: Status) -> u64 {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    /// A listing showed the first `upto` work orders, newest first: past the
    /// newest `KEEP_JSON`, the JSON rendered for older ones is let go of a
    /// little later (the door renders it once this reply has gone).
    pub(crate) fn listed(&mut self, upto: usize) {
        if upto > KEEP_JSON {
            self.json_sweep_at = Some(Instant::now() + Duration::from_secs(2));
        }
    }

    /// After a listing reached past the newest `KEEP_JSON` work orders: the
    /// older ones let go of the JSON it rendered for them.
    pub(super) fn sweep_json_cache(&mut self) {
        if self.json_sweep_at.is_none_or(|at| Instant::now() < at) {
            return;
        }
        self.json_sweep_at = None;
        let old = self.by_created.len().saturating_sub(KEEP_JSON);
        let mut dropped = 0;
        for wo in self.by_created.values().take(old) {
            if wo.has_api_json() {
                wo.forget_api_json();
                dropped += 1;
            }
        }
        if dropped > 0 {
            crate::sys::mem::return_freed_memory();
            tracing::debug!(dropped, "let go of rendered JSON of older work orders");
        }
    }

    /// A run's record: the live one, else the stored one.
    pub(crate) fn run_record(&self, run_id: &str) -> Option<Run> {
        self.runs
            .live
            .values()
            .find(|l| l.run.id == run_id)
            .map(|l| l.run.clone())
            .or_else(|| self.store.load_run(run_id))
    }

    /// The record of `id`'s run `run_id`, if that run is in progress.
    pub(crate) fn live_run(&self, id: &str, run_id: &str) -> Option<&Run> {
        self.runs
            .live
            .get(id)
            .filter(|l| l.run.id == run_id)
            .map(|l| &l.run)
    }

    /// The run `id` has in progress, if any.
    pub(crate) fn current_run(&self, id: &str) -> Option<&Run> {
        self.runs.live.get(id).map(|l| &l.run)
    }

    /// The status of `id`, if it is held.
    pub(crate) fn status_of(&self, id: &str) -> Option<Status> {
        self.entries.get(id).map(|e| e.wo.status)
    }

    /// Whether `id` is the full id of a work order held.
    pub(crate) fn holds(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }
}
