//! `queue cancel` and `POST /api/v1/work-orders/:id/cancel`: a queued work
//! order never starts; a running one is stopped with the grace period.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::{CancelOutcome, Reply};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// A full work-order id.
    pub id: String,
}

impl Operation for CancelRequest {
    type Output = CancelOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<CancelOutcome>) {
        q.cancel(self.id, reply);
    }
}
