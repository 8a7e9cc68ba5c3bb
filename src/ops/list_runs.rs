//! `GET /api/v1/runs`: runs newest first. The actor picks the page; records
//! of runs that are not live are read from disk off the actor.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::{Run, Status, WorkOrder};
use crate::service::{Reply, RunPage, RunRef, ServiceError};

/// `GET /api/v1/runs`: runs newest first (by their work order's creation,
/// then run), optionally of one work order or with given statuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunQuery {
    pub work_order_id: Option<String>,
    pub statuses: Vec<Status>,
    /// `None` = all.
    pub limit: Option<u32>,
    pub offset: u32,
}

impl Operation for RunQuery {
    type Output = RunPage;

    fn apply(self, q: &mut Queue, reply: Reply<RunPage>) {
        let (refs, mut page) = match page_of(q, self) {
            Ok(v) => v,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let store = q.store().clone();
        // Reading records blocks: the actor goes on meanwhile.
        tokio::task::spawn_blocking(move || {
            page.items = refs
                .into_iter()
                .map(|r| match r {
                    RunRef::Live(run) => run,
                    // The record, else what the work order says of it.
                    RunRef::Stored(known) => store.load_run(&known.id).unwrap_or(known),
                })
                .collect();
            let _ = reply.send(Ok::<_, ServiceError>(page));
        });
    }
}

/// A page of runs, newest work order first and each one's runs newest
/// first. A run's status is known without its record: only failed work
/// orders run again, so every run but the current one failed, and the
/// current one has the work order's status.
fn page_of(q: &Queue, query: RunQuery) -> Result<(Vec<RunRef>, RunPage), ServiceError> {
    let orders: Vec<&WorkOrder> = match &query.work_order_id {
        Some(id) => vec![q.get(id)?],
        None => q.work_orders().rev().collect(),
    };
    let runs = orders.into_iter().flat_map(|wo| {
        wo.run_ids.iter().rev().map(move |run_id| {
            let current = wo.current_run_id.as_ref() == Some(run_id);
            let status = if current { wo.status } else { Status::Failed };
            (wo, run_id, status)
        })
    });
    let wanted = |s: Status| query.statuses.is_empty() || query.statuses.contains(&s.api());
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let mut total = 0u64;
    let mut refs = Vec::new();
    for (wo, run_id, status) in runs.filter(|(_, _, s)| wanted(*s)) {
        if total >= query.offset as u64 && refs.len() < limit {
            refs.push(match q.live_run(&wo.id, run_id) {
                Some(run) => RunRef::Live(run.clone()),
                None => RunRef::Stored(Run {
                    completed_at: wo.completed_at.filter(|_| status.is_terminal()),
                    ..Run::begun(
                        run_id.clone(),
                        wo.id.clone(),
                        status,
                        wo.started_at.unwrap_or(wo.created_at),
                    )
                }),
            });
        }
        total += 1;
    }
    let has_more = (query.offset as u64 + refs.len() as u64) < total;
    let page = RunPage {
        items: vec![],
        total,
        limit: query.limit.unwrap_or(total.min(u32::MAX as u64) as u32),
        offset: query.offset,
        has_more,
    };
    Ok((refs, page))
}
