//! `queue list` and `GET /api/v1/work-orders`: a page of work orders, served
//! from memory (the streamed forms of `rpc::follow` page through this too).

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::Status;
use crate::service::{ListPage, Reply};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    pub statuses: Vec<Status>,
    /// Only work orders carrying every one of these labels.
    pub labels: Vec<String>,
    /// `None` = all.
    pub limit: Option<u32>,
    pub offset: u32,
    /// Only work orders whose id starts with this (TAB completion: the
    /// filter comes before the limit).
    pub id_prefix: Option<String>,
}

impl Operation for ListQuery {
    type Output = ListPage;

    fn apply(self, q: &mut Queue, reply: Reply<ListPage>) {
        let _ = reply.send(Ok(q.list(self)));
    }
}
