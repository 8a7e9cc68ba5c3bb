//! Stopping work: the one way any stop is asked of an executor
//! (`request_stop`: `ops::cancel`, `ops::kill`, timeouts, the stale detector,
//! purge, `ops::shutdown`), answered once the run has ended, and the state a
//! shutdown changes (no longer accepting, who waits for the stop).

use std::time::Duration;

use tokio::time::Instant;

use super::{Actor, StopIntent, StopWaiter};
use crate::executor::StopRequest;
use crate::model::{ResultKind, Status};
use crate::service::*;

impl Actor {
    /// Whether a run of `id` is in progress (a stop then ends it).
    pub(crate) fn is_running(&self, id: &str) -> bool {
        self.runs.live.contains_key(id)
    }

    /// Records why a live run is stopping (the first reason wins) and has the
    /// executor stop its tree; `grace` `None` = the daemon's grace period,
    /// zero = SIGKILL now. A later request may only shorten the grace.
    pub(crate) fn request_stop(
        &mut self,
        id: &str,
        status: Status,
        result: ResultKind,
        error: String,
        grace: Option<Duration>,
        waiter: Option<StopWaiter>,
    ) {
        let grace = grace.unwrap_or(self.settings.grace_period);
        let Some(live) = self.runs.live.get_mut(id) else {
            return;
        };
        let intent = live.stop.get_or_insert_with(|| StopIntent {
            status,
            result,
            error,
            requested: Instant::now(),
            forced: false,
            waiters: vec![],
        });
        intent.forced |= grace.is_zero();
        if let Some(w) = waiter {
            intent.waiters.push(w);
        }
        if live.handle.is_some() {
            let req = stop_request(intent, grace);
            self.executor.stop(&live.run.id, &req);
        }
    }

    /// Stops accepting work (a shutdown); `reply` answers once the queue
    /// has stopped. Returns whether it was accepting until now.
    pub(crate) fn stop_accepting(
        &mut self,
        keep_running: bool,
        restart: bool,
        reply: Reply<()>,
    ) -> bool {
        let was = std::mem::replace(&mut self.stopping.accepting, false);
        self.stopping.keep_running |= keep_running;
        self.stopping.restart |= restart;
        self.stopping.waiters.push(reply);
        was
    }

    /// Whether a shutdown leaves running work to its supervisors.
    pub(crate) fn keeps_running(&self) -> bool {
        self.stopping.keep_running
    }

    /// The work orders with a run in progress.
    pub(crate) fn running_ids(&self) -> Vec<String> {
        self.runs.live.keys().cloned().collect()
    }
}

pub(super) fn stop_request(intent: &StopIntent, grace: Duration) -> StopRequest {
    StopRequest {
        grace_ms: grace.as_millis().min(u64::MAX as u128) as u64,
        status: intent.status,
        result: intent.result,
        error: intent.error.clone(),
    }
}
