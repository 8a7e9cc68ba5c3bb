//! Typed ids (unique prefixes, `--last`) to full ids, all or none.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::Reply;

/// Ids as a person types them: full ids, unique prefixes (4+ characters),
/// and `last` for the newest work order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    pub ids: Vec<String>,
    pub last: bool,
}

impl Operation for ResolveRequest {
    type Output = Vec<String>;

    fn apply(self, q: &mut Queue, reply: Reply<Vec<String>>) {
        let _ = reply.send(q.resolve(&self));
    }
}
