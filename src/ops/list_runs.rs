//! `GET /api/v1/runs`: runs newest first. The actor picks the page; records
//! of runs that are not live are read from disk off the actor.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::Status;
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
        let (refs, mut page) = match q.list_runs(self) {
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
