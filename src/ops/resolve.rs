//! Typed ids (unique prefixes, `--last`) to full ids, all or none.

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::service::ids::{Candidate, resolve_one};
use crate::service::{ErrorCode, Reply, ServiceError};

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
        let _ = reply.send(resolve(q, &self));
    }
}

/// Typed ids (full, unique prefixes, `last`) to full ids, in order, without
/// duplicates; one that names nothing (or too much) fails all.
fn resolve(q: &Queue, req: &ResolveRequest) -> Result<Vec<String>, ServiceError> {
    let mut out: Vec<String> = Vec::with_capacity(req.ids.len() + 1);
    for r in &req.ids {
        let exact = q.holds(r);
        let matches = q
            .work_orders()
            .filter(|wo| !exact && wo.id.starts_with(r.as_str()))
            .map(|wo| Candidate {
                id: &wo.id,
                status: wo.status,
                prompt: &wo.task_prompt,
            });
        let id = resolve_one(r, exact, matches)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if req.last {
        let newest = q.work_orders().next_back().ok_or_else(|| {
            ServiceError::new(ErrorCode::NotFound, "--last: there are no work orders")
        })?;
        if !out.contains(&newest.id) {
            out.push(newest.id.clone());
        }
    }
    Ok(out)
}
