//! Work orders in memory: the indexes (by id, by creation time, queued in
//! start order, counts per status), the one way a change gets there
//! (`commit`: disk first; `commit_event`: memory follows facts), and the
//! read-only queries (list, show, ids as typed).

use std::sync::Arc;

use serde_json::Map;

use super::{Actor, Entry, QueueKey, internal, io_block, queue_key};
use crate::model::{ExecutorKind, Run, SharedWorkOrder, Status, Timestamp, WorkOrder, validate_id};
use crate::service::ids::{Candidate, resolve_one};
use crate::service::*;

impl Actor {
    /// Puts a work order into memory and keeps the indexes in step.
    pub(super) fn apply(&mut self, wo: WorkOrder, extra: Option<Map<String, serde_json::Value>>) {
        let wo = Arc::new(SharedWorkOrder::new(wo));
        let key = (wo.created_at, wo.id.clone());
        let old = self.entries.get(&wo.id).map(|e| e.wo.clone());
        if let Some(old) = &old {
            if let Some(c) = self.counts.get_mut(&old.status) {
                *c = c.saturating_sub(1);
            }
            if old.status == Status::Queued {
                self.unqueue(&queue_key(old));
            }
        }
        self.by_created.insert(key, wo.clone());
        *self.counts.entry(wo.status).or_default() += 1;
        let changed = old.as_ref().is_some_and(|o| o.status != wo.status);
        if changed {
            let _ = self.changes.send(StatusChange {
                id: wo.id.clone(),
                status: Some(wo.status),
            });
            if wo.status.is_terminal() && !self.settings.hooks.is_empty() {
                crate::daemon::hooks::fire(&self.settings.hooks, &wo);
            }
        }
        if wo.status == Status::Queued {
            self.enqueue_index(&wo);
        }
        let settled = changed.then(|| wo.clone());
        match self.entries.get_mut(&wo.id) {
            Some(e) => {
                e.wo = wo;
                if let Some(x) = extra {
                    e.extra = x;
                }
            }
            None => {
                self.entries.insert(
                    wo.id.clone(),
                    Entry {
                        wo,
                        extra: extra.unwrap_or_default(),
                    },
                );
            }
        }
        // Dependents look the new status up: only once it is in place.
        if let Some(wo) = settled {
            self.dependency_settled(&wo);
        }
    }

    pub(super) fn remove(&mut self, id: &str) {
        if let Some(e) = self.entries.remove(id) {
            let key = (e.wo.created_at, e.wo.id.clone());
            self.by_created.remove(&key);
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

    fn persist(&self, wo: &WorkOrder) -> Result<(), ServiceError> {
        let empty = Map::new();
        let extra = self.entries.get(&wo.id).map(|e| &e.extra).unwrap_or(&empty);
        io_block(|| self.store.save_work_order(wo, extra)).map_err(|e| {
            tracing::error!(work_order = %wo.id, error = %e, "persisting work order failed");
            internal(e)
        })
    }

    /// A change a client asked for: written first, applied only if the write
    /// succeeded, so a failed write leaves memory unchanged.
    pub(super) fn commit(&mut self, wo: WorkOrder) -> Result<(), ServiceError> {
        self.persist(&wo)?;
        self.apply(wo, None);
        self.cancel_doomed_dependents();
        Ok(())
    }

    /// A change that already happened (a process exited): memory follows the
    /// facts even if the disk write fails (logged).
    pub(super) fn commit_event(&mut self, wo: WorkOrder) {
        let _ = self.persist(&wo);
        self.apply(wo, None);
        self.cancel_doomed_dependents();
    }

    /// A run record, written durably (failures logged: the record follows
    /// the work order, which is what clients see).
    pub(super) fn save_run(&self, run: &Run) {
        if let Err(e) = io_block(|| self.store.save_run(run)) {
            tracing::error!(run = %run.id, error = %e, "persisting run record failed");
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

    pub(super) fn list(&self, q: ListQuery) -> ListPage {
        let filter = |wo: &WorkOrder| {
            (q.statuses.is_empty() || q.statuses.contains(&wo.status))
                && q.labels.iter().all(|l| wo.labels.contains(l))
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
        ListPage {
            limit: q.limit.unwrap_or(total.min(u32::MAX as u64) as u32),
            items,
            reasons,
            total,
            offset: q.offset,
            has_more,
        }
    }

    fn run_record(&self, run_id: &str) -> Option<Run> {
        self.live
            .values()
            .find(|l| l.run.id == run_id)
            .map(|l| l.run.clone())
            .or_else(|| self.store.load_run(run_id))
    }

    pub(super) fn show(&self, id: &str) -> Result<WorkOrderDetail, ServiceError> {
        let wo = self.get(id)?.clone();
        let runs = wo
            .run_ids
            .iter()
            .filter_map(|r| self.run_record(r))
            .collect();
        let dependencies = wo
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
    pub(super) fn resolve(&self, req: &ResolveRequest) -> Result<Vec<String>, ServiceError> {
        let mut out: Vec<String> = Vec::with_capacity(req.ids.len() + 1);
        for r in &req.ids {
            let exact = self.entries.contains_key(r.as_str());
            let matches = self
                .entries
                .iter()
                .filter(|(id, _)| !exact && id.starts_with(r.as_str()))
                .map(|(id, e)| Candidate {
                    id,
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

    pub(super) fn get_run(&self, run_id: &str) -> Result<Run, ServiceError> {
        validate_id(run_id).map_err(|e| ServiceError::bad_request("id", e.to_string()))?;
        self.run_record(run_id).ok_or_else(|| {
            ServiceError::new(ErrorCode::NotFound, format!("no run with id {run_id:?}"))
        })
    }
}
