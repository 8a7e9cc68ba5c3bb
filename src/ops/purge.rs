//! `queue purge` and the HTTP deletes: resolves the set, stops what still
//! runs (all at once, each with its grace) and removes them all.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::Status;
use crate::service::{PurgeOutcome, Reply};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgeRequest {
    pub ids: Vec<String>,
    pub statuses: Vec<Status>,
    pub older_than_ms: Option<u64>,
    pub dry_run: bool,
    /// Also delete purged worktrees' branches.
    pub delete_branch: bool,
}

impl Operation for PurgeRequest {
    type Output = PurgeOutcome;

    fn apply(self, q: &mut Queue, reply: Reply<PurgeOutcome>) {
        q.purge(self, reply);
    }
}
