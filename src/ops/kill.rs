//! `queue kill` and `POST /api/v1/work-orders/:id/kill`: stops a work order's
//! process tree (SIGTERM, a grace period, SIGKILL); answered once nothing of
//! it is left. A queued one is canceled before it starts.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::daemon::queue::{StopWaiter, canceled_by_dependency};
use crate::model::{ResultKind, Status};
use crate::service::{KillOutcome, Reply, ServiceError};

/// Longest grace period a kill may ask for.
const MAX_GRACE_MS: u64 = 3_600_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillRequest {
    pub id: String,
    pub force: bool,
    pub grace_ms: Option<u64>,
    pub reason: Option<String>,
}

impl KillRequest {
    /// The grace period asked for: zero with `force`, `None` for the
    /// daemon's own.
    fn grace(&self) -> Option<Duration> {
        if self.force {
            return Some(Duration::ZERO);
        }
        self.grace_ms.map(Duration::from_millis)
    }
}

impl Operation for KillRequest {
    type Output = KillOutcome;

    fn validate(&self) -> Result<(), ServiceError> {
        match self.grace_ms {
            Some(ms) if !self.force && ms > MAX_GRACE_MS => Err(ServiceError::bad_request(
                "gracePeriodMs",
                format!("grace period {ms} ms is too long: at most {MAX_GRACE_MS} ms (1h)"),
            )),
            _ => Ok(()),
        }
    }

    fn apply(self, q: &mut Queue, reply: Reply<KillOutcome>) {
        let (status, cascaded) = match q.get(&self.id) {
            Ok(wo) => (wo.status, canceled_by_dependency(wo)),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let grace = self.grace();
        let reason = (self.reason.as_deref())
            .filter(|r| !r.trim().is_empty())
            .map(|r| format!("killed by user: {r}"))
            .unwrap_or_else(|| "killed by user".into());
        let id = self.id;
        if q.is_running(&id) {
            tracing::info!(work_order = %id, force = self.force, grace_ms = ?grace.map(|g| g.as_millis() as u64), "kill requested");
            // Answered by the run's end (`StopWaiter`).
            q.request_stop(
                &id,
                Status::Canceled,
                ResultKind::Killed,
                reason,
                grace,
                Some(StopWaiter::Kill(reply)),
            );
            return;
        }
        let answer = |status, message: String, already_ended| KillOutcome {
            id: id.clone(),
            success: true,
            // Nothing ran, so nothing got a SIGKILL.
            forced_kill: false,
            duration_ms: 0,
            status,
            message,
            already_ended,
            durable: true,
        };
        if status.is_terminal() {
            // AgentGate answers this as a success that stopped nothing; one
            // a dependency's end canceled (`queue kill A B`) is no failure.
            let message = if cascaded {
                "canceled before it started: a work order it depends on ended".into()
            } else {
                format!("work order {id} already {status}; nothing to kill")
            };
            let _ = reply.send(Ok(answer(status, message, !cascaded)));
            return;
        }
        let out = q
            .end_idle(&id, ResultKind::Killed, reason)
            .map(|wo| answer(wo.status, "canceled before it started".into(), false));
        let _ = reply.send(out);
        q.schedule();
    }
}
