//! Stopping work: `cancel` and `kill` (answered once the run has ended),
//! the one way any stop is asked of an executor (`request_stop`: cancel,
//! kill, timeouts, the stale detector, purge, shutdown), and shutdown itself.

use std::time::Duration;

use tokio::time::Instant;

use super::{Actor, StopIntent, Waiter, deps};
use crate::executor::StopRequest;
use crate::model::{ResultKind, Status};
use crate::service::*;

/// Longest grace period a kill may ask for.
const MAX_GRACE_MS: u64 = 3_600_000;

impl Actor {
    pub(crate) fn cancel(&mut self, id: String, reply: Reply<CancelOutcome>) {
        let (status, cascaded) = match self.get(&id) {
            Ok(wo) => (wo.status, deps::canceled_by_dependency(wo)),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if self.runs.live.contains_key(&id) {
            self.request_stop(
                &id,
                Status::Canceled,
                ResultKind::Canceled,
                "canceled by user".into(),
                None,
                Some(Waiter::Cancel(reply)),
            );
            return;
        }
        if cascaded {
            // Canceled a moment ago because what it depends on ended (`queue
            // cancel A B`, B after A): what was asked holds, never ran.
            let _ = reply.send(Ok(CancelOutcome {
                id,
                status,
                was_running: false,
                killed: false,
                durable: true,
            }));
            return;
        }
        if status.is_terminal() {
            let _ = reply.send(Err(ServiceError::invalid_state(format!(
                "work order {id} already {status}; nothing to cancel"
            ))));
            return;
        }
        let out = self
            .end_idle(&id, ResultKind::Canceled, "canceled by user".into())
            .map(|wo| CancelOutcome {
                id: id.clone(),
                status: wo.status,
                was_running: false,
                killed: false,
                durable: true,
            });
        let _ = reply.send(out);
        self.schedule();
    }

    pub(crate) fn kill(&mut self, req: KillRequest, reply: Reply<KillOutcome>) {
        let (status, cascaded) = match self.get(&req.id) {
            Ok(wo) => (wo.status, deps::canceled_by_dependency(wo)),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let reason = req
            .reason
            .filter(|r| !r.trim().is_empty())
            .map(|r| format!("killed by user: {r}"))
            .unwrap_or_else(|| "killed by user".into());
        let grace = match req.grace_ms {
            _ if req.force => Duration::ZERO,
            Some(ms) if ms > MAX_GRACE_MS => {
                let _ = reply.send(Err(ServiceError::bad_request(
                    "gracePeriodMs",
                    format!("grace period {ms} ms is too long: at most {MAX_GRACE_MS} ms (1h)"),
                )));
                return;
            }
            Some(ms) => Duration::from_millis(ms),
            None => self.settings.grace_period,
        };
        if self.runs.live.contains_key(&req.id) {
            tracing::info!(work_order = %req.id, force = req.force, grace_ms = grace.as_millis() as u64, "kill requested");
            self.request_stop(
                &req.id,
                Status::Canceled,
                ResultKind::Killed,
                reason,
                Some(grace),
                Some(Waiter::Kill(reply)),
            );
            return;
        }
        if status.is_terminal() {
            // AgentGate answers this as a success that stopped nothing; one
            // a dependency's end canceled (`queue kill A B`) is no failure.
            let _ = reply.send(Ok(KillOutcome {
                id: req.id.clone(),
                success: true,
                forced_kill: false,
                duration_ms: 0,
                status,
                message: if cascaded {
                    "canceled before it started: a work order it depends on ended".into()
                } else {
                    format!("work order {} already {status}; nothing to kill", req.id)
                },
                already_ended: !cascaded,
                durable: true,
            }));
            return;
        }
        let out = self
            .end_idle(&req.id, ResultKind::Killed, reason)
            .map(|wo| KillOutcome {
                id: req.id.clone(),
                success: true,
                // Nothing ran, so nothing got a SIGKILL.
                forced_kill: false,
                duration_ms: 0,
                status: wo.status,
                message: "canceled before it started".into(),
                already_ended: false,
                durable: true,
            });
        let _ = reply.send(out);
        self.schedule();
    }

    /// Records why a live run is stopping (the first reason wins) and has the
    /// executor stop its tree; `grace` `None` = the daemon's grace period,
    /// zero = SIGKILL now. A later request may only shorten the grace.
    pub(super) fn request_stop(
        &mut self,
        id: &str,
        status: Status,
        result: ResultKind,
        error: String,
        grace: Option<Duration>,
        waiter: Option<Waiter>,
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

    pub(crate) fn shutdown(&mut self, req: ShutdownRequest, reply: Reply<()>) {
        if self.stopping.accepting {
            if req.keep_running {
                tracing::info!(
                    running = self.runs.live.len(),
                    "shutting down; running work stays with its supervisors for the next daemon"
                );
            } else {
                tracing::info!(
                    running = self.runs.live.len(),
                    "shutting down: stopping running work"
                );
            }
        }
        self.stopping.accepting = false;
        self.stopping.keep_running |= req.keep_running;
        self.stopping.restart |= req.restart;
        self.stopping.waiters.push(reply);
        if self.stopping.keep_running {
            return;
        }
        let ids: Vec<String> = self.runs.live.keys().cloned().collect();
        for id in ids {
            self.request_stop(
                &id,
                Status::Failed,
                ResultKind::Interrupted,
                "daemon shut down while it ran".into(),
                None,
                None,
            );
        }
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
