//! The daemon's one event source. The queue actor publishes a `StatusChange`
//! for every status change of a work order (its creation and purge included)
//! on a broadcast channel; every live view (`queue wait`, `queue logs
//! --follow`, the WebSocket and SSE streams) is a subscriber. `events` names
//! what a change means in AgentGate's terms.

use std::sync::Arc;

use crate::model::{SharedWorkOrder, Status, Timestamp};

/// Published by the actor whenever a work order's status changes, it is
/// created, or purged, so followers need no polling.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub id: String,
    /// `None`: purged.
    pub status: Option<Status>,
    /// `None`: created just now.
    pub previous: Option<Status>,
    /// The work order as the change left it (`None`: purged).
    pub work_order: Option<Arc<SharedWorkOrder>>,
    /// When the change took effect.
    pub at: Timestamp,
}

/// What a change means to a subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueEvent {
    Created {
        task_prompt: String,
        status: Status,
    },
    Updated {
        status: Status,
        previous: Status,
        /// A landing of its worktree (`queue merge`), when that is the change.
        merge: Option<crate::model::Merge>,
    },
    RunStarted {
        run_id: String,
        run_number: u32,
    },
    RunCompleted {
        run_id: String,
    },
    /// The run ended failed or canceled.
    RunFailed {
        run_id: String,
        error: String,
    },
    Purged,
}

impl StatusChange {
    /// The events of this change, in the order they happened: a creation (a
    /// work order may be created already running), a status update, then what
    /// it meant for the run.
    pub fn events(&self) -> Vec<QueueEvent> {
        let Some(wo) = &self.work_order else {
            return vec![QueueEvent::Purged];
        };
        let status = wo.status;
        let run_id = wo.current_run_id.clone().unwrap_or_default();
        let mut out = Vec::with_capacity(2);
        match self.previous {
            None => out.push(QueueEvent::Created {
                task_prompt: wo.task_prompt.clone(),
                status,
            }),
            Some(previous) => out.push(QueueEvent::Updated {
                status,
                previous,
                // An update that moves no status and comes with a merge of
                // the same moment is that merge.
                merge: (previous == status)
                    .then(|| wo.more.worktree.as_ref()?.merges.last().cloned())
                    .flatten()
                    .filter(|m| m.at == self.at),
            }),
        }
        let was_running = self.previous.is_some_and(|p| p.api() == Status::Running);
        match status {
            Status::Running if !was_running => out.push(QueueEvent::RunStarted {
                run_id,
                run_number: wo.run_count,
            }),
            Status::Succeeded if was_running => out.push(QueueEvent::RunCompleted { run_id }),
            Status::Failed | Status::Canceled if was_running => out.push(QueueEvent::RunFailed {
                run_id,
                error: wo
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("the run ended {status}")),
            }),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{WorkOrder, WorkspaceSource};

    fn change(previous: Option<Status>, status: Status) -> StatusChange {
        let mut wo = WorkOrder::new_queued(
            "abc".into(),
            "do it".into(),
            "shell".into(),
            WorkspaceSource::Local { path: "/".into() },
            60,
            3,
            Timestamp(1),
        );
        wo.status = status;
        wo.run_count = 2;
        wo.current_run_id = Some("run2".into());
        wo.error = (status == Status::Failed).then(|| "exited with code 3".to_string());
        StatusChange {
            id: "abc".into(),
            status: Some(status),
            previous,
            work_order: Some(Arc::new(SharedWorkOrder::new(wo))),
            at: Timestamp(2),
        }
    }

    #[test]
    fn a_change_names_its_events() {
        use QueueEvent::*;
        let created = change(None, Status::Queued).events();
        assert_eq!(
            created,
            [Created {
                task_prompt: "do it".into(),
                status: Status::Queued
            }]
        );
        let started_at_once = change(None, Status::Running).events();
        assert_eq!(started_at_once.len(), 2);
        assert_eq!(
            started_at_once[1],
            RunStarted {
                run_id: "run2".into(),
                run_number: 2
            }
        );
        let done = change(Some(Status::Running), Status::Succeeded).events();
        assert_eq!(
            done[1],
            RunCompleted {
                run_id: "run2".into()
            }
        );
        let failed = change(Some(Status::Integrating), Status::Failed).events();
        assert_eq!(
            failed[1],
            RunFailed {
                run_id: "run2".into(),
                error: "exited with code 3".into()
            }
        );
        // Canceled before it ran: an update, no run event.
        assert_eq!(
            change(Some(Status::Queued), Status::Canceled)
                .events()
                .len(),
            1
        );
        let purged = StatusChange {
            id: "abc".into(),
            status: None,
            previous: Some(Status::Failed),
            work_order: None,
            at: Timestamp(3),
        };
        assert_eq!(purged.events(), [Purged]);
    }
}
