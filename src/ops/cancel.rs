//! `queue cancel` and `POST /api/v1/work-orders/:id/cancel`: a queued work
//! order never starts; a running one is stopped with the grace period and
//! answered once its run has ended.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::daemon::queue::{StopWaiter, canceled_by_dependency};
use crate::model::{ResultKind, Status};
use crate::service::{CancelOutcome, Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for CancelRequest {
    type Output = CancelOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<CancelOutcome>) {
        let id = self.id;
        let (status, cascaded) = match q.get(&id) {
            Ok(wo) => (wo.status, canceled_by_dependency(wo)),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if q.is_running(&id) {
            // Answered by the run's end (`StopWaiter`).
            q.request_stop(
                &id,
                Status::Canceled,
                ResultKind::Canceled,
                "canceled by user".into(),
                None,
                Some(StopWaiter::Cancel(reply)),
            );
            return;
        }
        let answer = |status| CancelOutcome {
            id: id.clone(),
            status,
            was_running: false,
            killed: false,
            durable: true,
        };
        if cascaded {
            // Canceled a moment ago because what it depends on ended (`queue
            // cancel A B`, B after A): what was asked holds, never ran.
            let _ = reply.send(Ok(answer(status)));
            return;
        }
        if status.is_terminal() {
            let _ = reply.send(Err(ServiceError::invalid_state(format!(
                "work order {id} already {status}; nothing to cancel"
            ))));
            return;
        }
        let out = q
            .end_idle(&id, ResultKind::Canceled, "canceled by user".into())
            .map(|wo| answer(wo.status));
        let _ = reply.send(out);
        // Its slot in line is free: the next may start.
        q.schedule();
    }
}
