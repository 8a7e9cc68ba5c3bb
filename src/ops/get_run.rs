//! `GET /api/v1/runs/:id`: one run's record.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::Run;
use crate::service::ids::check_ref;
use crate::service::{ErrorCode, Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRunRequest {
    /// A run id.
    pub id: String,
}

impl Operation for GetRunRequest {
    type Output = Run;

    fn apply(self, q: &mut Queue, reply: Reply<Run>) {
        let _ = reply.send(run(q, &self.id));
    }
}

fn run(q: &Queue, run_id: &str) -> Result<Run, ServiceError> {
    check_ref(run_id)?;
    q.run_record(run_id)
        .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, format!("no run with id {run_id:?}")))
}
