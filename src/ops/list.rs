//! `queue list` and `GET /api/v1/work-orders`: a page of work orders, newest
//! first, served from memory (the streamed forms of `rpc::follow` page
//! through this too).

use serde::{Deserialize, Serialize};

use super::{Operation, Queue};
use crate::model::{Status, WorkOrder};
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
        let _ = reply.send(Ok(page(q, &self)));
    }
}

impl ListQuery {
    fn matches(&self, wo: &WorkOrder) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&wo.status))
            && self.labels.iter().all(|l| wo.more.labels.contains(l))
            && self
                .id_prefix
                .as_deref()
                .is_none_or(|p| wo.id.starts_with(p))
    }

    /// How many work orders match, from the counts where the filter is by
    /// status only.
    fn total(&self, q: &Queue) -> u64 {
        if !self.labels.is_empty() || self.id_prefix.is_some() {
            q.work_orders().filter(|wo| self.matches(wo)).count() as u64
        } else if self.statuses.is_empty() {
            q.held_count()
        } else {
            let mut wanted = self.statuses.clone();
            wanted.sort();
            wanted.dedup();
            wanted.into_iter().map(|s| q.count_of(s)).sum()
        }
    }
}

fn page(q: &mut Queue, query: &ListQuery) -> ListPage {
    let total = query.total(q);
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let items: Vec<_> = q
        .shared_orders()
        .rev()
        .filter(|wo| query.matches(wo))
        .skip(query.offset as usize)
        .take(limit)
        .cloned()
        .collect();
    let has_more = (query.offset as u64 + items.len() as u64) < total;
    // Reasons only when the page shows queued work: one pass over the queue.
    let reasons = if items.iter().any(|w| w.status == Status::Queued) {
        let all = q.queued_reasons();
        items
            .iter()
            .map(|w| all.get(w.id.as_str()).map(ToString::to_string))
            .collect()
    } else {
        vec![None; items.len()]
    };
    q.listed(query.offset as usize + items.len());
    ListPage {
        limit: query.limit.unwrap_or(total.min(u32::MAX as u64) as u32),
        items,
        reasons,
        total,
        offset: query.offset,
        has_more,
    }
}
