//! `daemon stop|restart`, SIGTERM, SIGHUP: stop accepting, stop (or leave
//! running) the work in progress, answer once the queue has stopped.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::{ResultKind, Status};
use crate::service::Reply;

/// `daemon stop` / `daemon restart` / SIGTERM / SIGHUP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownRequest {
    /// Leave running work to its supervisors, for the next daemon to adopt.
    pub keep_running: bool,
    /// Start again in place (same process, same arguments) once stopped.
    pub restart: bool,
}

impl Operation for ShutdownRequest {
    type Output = ();

    fn apply(self, q: &mut Queue, reply: Reply<()>) {
        let running = q.running_ids();
        if q.stop_accepting(self.keep_running, self.restart, reply) {
            if self.keep_running {
                tracing::info!(
                    running = running.len(),
                    "shutting down; running work stays with its supervisors for the next daemon"
                );
            } else {
                tracing::info!(
                    running = running.len(),
                    "shutting down: stopping running work"
                );
            }
        }
        if q.keeps_running() {
            return;
        }
        for id in running {
            q.request_stop(
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
