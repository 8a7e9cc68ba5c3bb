//! `GET /api/v1/runs/:id`: one run's record.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::Run;
use crate::service::Reply;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRunRequest {
    /// A run id.
    pub id: String,
}

impl Operation for GetRunRequest {
    type Output = Run;

    fn apply(self, q: &mut Queue, reply: Reply<Run>) {
        let _ = reply.send(q.get_run(&self.id));
    }
}
