//! Work orders in memory: the indexes (by id, by creation time, queued in
//! start order, counts per status), the one way a change gets there
//! (`commit`: disk first; `commit_event`: memory follows facts), and the
//! read-only queries (list, show, ids as typed).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Map;

use super::{Actor, Entry, QueueKey, internal, io_block, queue_key};
use crate::model::{ExecutorKind, Run, SharedWorkOrder, Status, Timestamp, WorkOrder, validate_id};
use crate::service::ids::{Candidate, resolve_one};
use crate::service::*;

/// How many of the newest work orders keep their rendered JSON (a listing of
/// them is a concatenation); older ones render it again when listed.
const KEEP_JSON: usize = 10_000;

impl Actor {
    /// Puts a work order into memory and keeps the indexes in step.
    pub(super) fn apply(&mut self, wo: WorkOrder, extra: Option<Map<String, serde_json::Value>>) {
        let wo = Arc::new(SharedWorkOrder::new(wo));
        let old = self.entries.get(&wo.id).map(|e| e.wo.clone());
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
        let old = old.map(|o| o.status);
        let changed = old.is_some_and(|o| o != wo.status);
        // A creation or a status change (no receiver while loading: ignored).
        if old != Some(wo.status) {
            let _ = self.changes.send(StatusChange {
                id: wo.id.clone(),
                status: Some(wo.status),
                previous: old,
                work_order: Some(wo.clone()),
                at: Timestamp::now(),
            });
            if wo.status.is_terminal() && !self.settings.hooks.is_empty() {
                crate::daemon::hooks::fire(&self.settings.hooks, &self.settings.env_remove, &wo);
            }
        }
        if wo.status == Status::Queued {
            self.enqueue_index(&wo);
        }
        let settled = changed.then(|| wo.clone());
        let extra = match extra {
            Some(x) => super::extra_text(&x),
            // Unchanged: what the entry had.
            None => self.entries.get(&wo.id).and_then(|e| e.extra.clone()),
        };
        self.entries.insert(Entry { wo, extra });
        // Dependents look the new status up: only once it is in place.
        if let Some(wo) = settled {
            self.dependency_settled(&wo);
        }
    }

    pub(super) fn remove(&mut self, id: &str) {
        self.unpersisted.remove(id);
        if let Some(e) = self.entries.remove(id) {
            for run in &e.wo.run_ids {
                self.unpersisted_runs.remove(run);
            }
            let key = (e.wo.created_at, e.wo.id.clone());
            self.by_created.remove(key.0, &key.1);
            if e.wo.status == Status::Queued {
                self.unqueue(&queue_key(&e.wo));
            }
            self.dependents.remove(id);
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
            self.ready.entry(kind).or_default().insert(key);
        } else {
            for dep in unmet {
                self.dependents
                    .entry(dep.to_string())
                    .or_default()
                    .push(wo.id.clone());
            }
            self.blocked.insert(key);
        }
    }

    fn unqueue(&mut self, key: &QueueKey) {
        if self.blocked.remove(key) {
            return;
        }
        for q in self.ready.values_mut() {
            if q.remove(key) {
                return;
            }
        }
    }

    /// Rebuilds the queue indexes from scratch (after loading, when
    /// dependencies may have been read after their dependents).
    pub(super) fn reindex_queued(&mut self) {
        self.ready.clear();
        self.blocked.clear();
        self.dependents.clear();
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
    pub(super) fn executor_of(&self, wo: &WorkOrder) -> ExecutorKind {
        self.settings
            .agents
            .get(&wo.agent_type)
            .map_or(self.settings.executor, |a| self.settings.executor_for(a))
    }

    pub(super) fn persist(&self, wo: &WorkOrder) -> Result<(), ServiceError> {
        let extra: Map<String, serde_json::Value> = self
            .entries
            .get(&wo.id)
            .and_then(|e| e.extra.as_deref())
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        io_block(|| self.store.save_work_order(wo, &extra)).map_err(|e| {
            tracing::error!(work_order = %wo.id, error = %e, "persisting work order failed");
            internal(e)
        })
    }

    /// A change a client asked for: written first, applied only if the write
    /// succeeded, so a failed write leaves memory unchanged.
    pub(super) fn commit(&mut self, wo: WorkOrder) -> Result<(), ServiceError> {
        self.persist(&wo)?;
        self.unpersisted.remove(&wo.id);
        self.apply(wo, None);
        self.cancel_doomed_dependents();
        Ok(())
    }

    /// A change that already happened (a process exited): memory follows the
    /// facts even if the disk write fails; then the change is pending, and
    /// written on a later tick (see `pending`). Returns whether it is durable.
    pub(super) fn commit_event(&mut self, wo: WorkOrder) -> bool {
        let durable = self.persist(&wo).is_ok();
        if durable {
            self.unpersisted.remove(&wo.id);
        } else {
            self.unpersisted.insert(wo.id.clone());
        }
        self.apply(wo, None);
        self.cancel_doomed_dependents();
        durable
    }

    /// A run record, written durably; one that cannot be written is kept
    /// and retried on the tick like a work order.
    pub(super) fn save_run(&mut self, run: &Run) {
        match io_block(|| self.store.save_run(run)) {
            Ok(()) => {
                self.unpersisted_runs.remove(&run.id);
            }
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "persisting run record failed; retried every tick");
                self.unpersisted_runs.insert(run.id.clone(), run.clone());
            }
        }
    }

    pub(super) fn get(&self, id: &str) -> Result<&WorkOrder, ServiceError> {
        validate_id(id).map_err(|e| ServiceError::bad_request("id", e.to_string()))?;
        self.entries
            .get(id)
            .map(|e| &**e.wo)
            .ok_or_else(|| ServiceError::not_found(id))
    }

    /// A copy of a held work order, to change and commit.
    pub(super) fn copy_of(&self, id: &str) -> Option<WorkOrder> {
        self.entries.get(id).map(|e| WorkOrder::clone(&e.wo))
    }

    /// A creation time later than every other: two submits in the same
    /// millisecond still list newest-first and start FIFO in submission order.
    pub(super) fn next_created_at(&mut self) -> Timestamp {
        let t = Timestamp::now().max(self.last_created.plus_millis(1));
        self.last_created = t;
        t
    }

    pub(crate) fn list(&mut self, q: ListQuery) -> ListPage {
        let filter = |wo: &WorkOrder| {
            (q.statuses.is_empty() || q.statuses.contains(&wo.status))
                && q.labels.iter().all(|l| wo.more.labels.contains(l))
        };
        let total: u64 = if !q.labels.is_empty() {
            self.by_created.values().filter(|wo| filter(wo)).count() as u64
        } else if q.statuses.is_empty() {
            self.entries.len() as u64
        } else {
            let mut wanted = q.statuses.clone();
            wanted.sort();
            wanted.dedup();
            wanted
                .iter()
                .map(|s| self.counts.get(s).copied().unwrap_or(0))
                .sum()
        };
        let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
        let items: Vec<Arc<SharedWorkOrder>> = self
            .by_created
            .values()
            .rev()
            .filter(|wo| filter(wo))
            .skip(q.offset as usize)
            .take(limit)
            .cloned()
            .collect();
        let has_more = (q.offset as u64 + items.len() as u64) < total;
        // Reasons only when the page shows queued work: one pass over the queue.
        let reasons = if items.iter().any(|w| w.status == Status::Queued) {
            let all = self.queued_reasons();
            items
                .iter()
                .map(|w| all.get(w.id.as_str()).map(ToString::to_string))
                .collect()
        } else {
            vec![None; items.len()]
        };
        if q.offset as usize + items.len() > KEEP_JSON {
            // Rendered by the door once this reply has gone; let go after.
            self.json_sweep_at = Some(Instant::now() + Duration::from_secs(2));
        }
        ListPage {
            limit: q.limit.unwrap_or(total.min(u32::MAX as u64) as u32),
            items,
            reasons,
            total,
            offset: q.offset,
            has_more,
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

    fn run_record(&self, run_id: &str) -> Option<Run> {
        self.live
            .values()
            .find(|l| l.run.id == run_id)
            .map(|l| l.run.clone())
            .or_else(|| self.store.load_run(run_id))
    }

    pub(crate) fn show(&self, id: &str) -> Result<WorkOrderDetail, ServiceError> {
        let wo = self.get(id)?.clone();
        let runs = wo
            .run_ids
            .iter()
            .filter_map(|r| self.run_record(r))
            .collect();
        let dependencies = wo
            .more
            .depends_on
            .iter()
            .map(|d| (d.clone(), self.entries.get(d).map(|e| e.wo.status)))
            .collect();
        Ok(WorkOrderDetail {
            queued_reason: self.queued_reason(&wo).map(|h| h.to_string()),
            dependencies,
            work_order: wo,
            runs,
        })
    }

    /// Typed ids (full, unique prefixes, `last`) to full ids, in order,
    /// without duplicates; one that names nothing (or too much) fails all.
    pub(crate) fn resolve(&self, req: &ResolveRequest) -> Result<Vec<String>, ServiceError> {
        let mut out: Vec<String> = Vec::with_capacity(req.ids.len() + 1);
        for r in &req.ids {
            let exact = self.entries.contains_key(r.as_str());
            let matches = self
                .entries
                .values()
                .filter(|e| !exact && e.wo.id.starts_with(r.as_str()))
                .map(|e| Candidate {
                    id: &e.wo.id,
                    status: e.wo.status,
                    prompt: &e.wo.task_prompt,
                });
            let id = resolve_one(r, exact, matches)?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        if req.last {
            let newest = self.by_created.values().next_back().ok_or_else(|| {
                ServiceError::new(ErrorCode::NotFound, "--last: there are no work orders")
            })?;
            if !out.contains(&newest.id) {
                out.push(newest.id.clone());
            }
        }
        Ok(out)
    }

    /// A page of runs, newest work order first and each one's runs newest
    /// first. A run's status is known without its record: only failed work
    /// orders run again, so every run but the current one failed, and the
    /// current one has the work order's status.
    pub(crate) fn list_runs(&self, q: RunQuery) -> Result<(Vec<RunRef>, RunPage), ServiceError> {
        let orders: Vec<&WorkOrder> = match &q.work_order_id {
            Some(id) => vec![self.get(id)?],
            None => self.by_created.values().rev().map(|w| &***w).collect(),
        };
        let runs = orders.into_iter().flat_map(|wo| {
            wo.run_ids.iter().rev().map(move |run_id| {
                let current = wo.current_run_id.as_ref() == Some(run_id);
                let status = if current { wo.status } else { Status::Failed };
                (wo, run_id, status)
            })
        });
        let wanted = |s: Status| q.statuses.is_empty() || q.statuses.contains(&s.api());
        let limit = q.limit.map_or(usize::MAX, |l| l as usize);
        let mut total = 0u64;
        let mut refs = Vec::new();
        for (wo, run_id, status) in runs.filter(|(_, _, s)| wanted(*s)) {
            if total >= q.offset as u64 && refs.len() < limit {
                refs.push(
                    match self.live.get(&wo.id).filter(|l| &l.run.id == run_id) {
                        Some(l) => RunRef::Live(l.run.clone()),
                        None => RunRef::Stored(Run {
                            completed_at: wo.completed_at.filter(|_| status.is_terminal()),
                            ..Run::begun(
                                run_id.clone(),
                                wo.id.clone(),
                                status,
                                wo.started_at.unwrap_or(wo.created_at),
                            )
                        }),
                    },
                );
            }
            total += 1;
        }
        let has_more = (q.offset as u64 + refs.len() as u64) < total;
        let page = RunPage {
            items: vec![],
            total,
            limit: q.limit.unwrap_or(total.min(u32::MAX as u64) as u32),
            offset: q.offset,
            has_more,
        };
        Ok((refs, page))
    }

    pub(crate) fn get_run(&self, run_id: &str) -> Result<Run, ServiceError> {
        validate_id(run_id).map_err(|e| ServiceError::bad_request("id", e.to_string()))?;
        self.run_record(run_id).ok_or_else(|| {
            ServiceError::new(ErrorCode::NotFound, format!("no run with id {run_id:?}"))
        })
    }
}
