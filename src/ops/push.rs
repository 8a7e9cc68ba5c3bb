//! `queue push` and `queue pr` (`POST /api/v1/work-orders/:id/push`): pushes
//! a worktree's branch to a remote — what the agent left uncommitted is
//! committed on it first — and, for `pr`, opens a pull request with `gh`.

use serde::{Deserialize, Serialize};

use super::diff::{claim, land_error, title_of, worktree_of};
use super::{Operation, Queue};
use crate::land::{self, Pushed};
use crate::service::{Reply, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub id: String,
    /// [default: the upstream of the branch it was made from, else the only remote]
    pub remote: Option<String>,
    /// Also open a pull request (with `gh`), with this title if given.
    pub pull_request: bool,
    pub title: Option<String>,
    pub draft: bool,
}

impl Operation for PushRequest {
    type Output = Pushed;

    fn validate(&self) -> Result<(), ServiceError> {
        if let Some(r) = &self.remote
            && (r.is_empty() || r.starts_with('-') || r.contains(['\0', '\n']))
        {
            return Err(ServiceError::bad_request(
                "remote",
                format!("{r:?} is not a remote name"),
            ));
        }
        if self
            .title
            .as_deref()
            .is_some_and(|t| t.trim().is_empty() || t.contains('\0'))
        {
            return Err(ServiceError::bad_request(
                "title",
                "must not be empty or hold a NUL byte",
            ));
        }
        Ok(())
    }

    fn apply(self, q: &mut Queue, reply: Reply<Pushed>) {
        let (_, w) = match worktree_of(q, &self.id) {
            Ok(v) => v,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let busy = match claim(q, &self.id, &w.path, "pushed") {
            Ok(b) => b,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let title = title_of(q, &self.id);
        tokio::task::spawn_blocking(move || {
            let out = if self.pull_request {
                land::pull_request(&w, &self.id, &title, self.title.as_deref(), self.draft)
            } else {
                land::push(&w, &self.id, &title, self.remote.as_deref())
            };
            drop(busy);
            let _ = reply.send(out.map_err(|e| land_error(&self.id, e)));
        });
    }
}
