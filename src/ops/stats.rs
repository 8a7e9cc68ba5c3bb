//! `queue stats` and `GET /api/v1/stats`: usage across work orders, grouped
//! by agent type, label, day (UTC, of creation) or status — counts by
//! outcome, run time (median and total) and cost. Served from memory in one
//! pass over the work orders held; nothing is read from disk.
//!
//! The worked example of an operation in one module: request, validation,
//! effect (here a read of queue state) and result types are all here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Operation, Queue};
use crate::model::{Status, Timestamp, WorkOrder};
use crate::service::{Reply, ServiceError};

/// Longest look-back `since` may ask for: ten years, in ms.
const MAX_SINCE_MS: u64 = 10 * 366 * 24 * 3_600_000;
/// The group of work orders without a label when grouping by label.
pub const NO_LABEL: &str = "(none)";

/// What the rows of a report are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatsGroup {
    #[default]
    Agent,
    /// A work order counts once under each of its labels.
    Label,
    /// The UTC day it was created, `YYYY-MM-DD`.
    Day,
    Status,
}

impl StatsGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            StatsGroup::Agent => "agent",
            StatsGroup::Label => "label",
            StatsGroup::Day => "day",
            StatsGroup::Status => "status",
        }
    }
}

/// Which work orders to count and how to group them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    pub by: StatsGroup,
    /// Only work orders created in the last this many ms.
    pub since_ms: Option<u64>,
    /// Only work orders carrying every one of these labels.
    pub labels: Vec<String>,
}

/// One group's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsRow {
    /// The agent type, label, day or status; `total` for the whole.
    pub key: String,
    pub work_orders: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub canceled: u64,
    /// Queued or running now.
    pub active: u64,
    /// Median run time of the ended ones that ran (ms); null when none did.
    pub median_duration_ms: Option<u64>,
    pub total_duration_ms: u64,
    /// Sum of the costs the agents reported (USD).
    pub cost_usd: f64,
    /// How many reported a cost (the others are not counted as zero).
    pub with_cost: u64,
    /// How many ended without reporting a cost.
    pub without_cost: u64,
}

/// The report: one row per group (ordered by key; days oldest first) and the
/// total over every work order counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsReport {
    pub by: StatsGroup,
    /// Counted from this time (createdAt), when `since` was given.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "crate::model::time::rfc3339::option")]
    pub since: Option<Timestamp>,
    pub groups: Vec<StatsRow>,
    pub total: StatsRow,
}

impl StatsQuery {
    fn matches(&self, wo: &WorkOrder, from: Option<Timestamp>) -> bool {
        from.is_none_or(|t| wo.created_at >= t)
            && self.labels.iter().all(|l| wo.more.labels.contains(l))
    }

    /// The groups `wo` counts in.
    fn keys(&self, wo: &WorkOrder) -> Vec<String> {
        match self.by {
            StatsGroup::Agent => vec![wo.agent_type.clone()],
            StatsGroup::Status => vec![wo.status.to_string()],
            StatsGroup::Day => vec![day_of(wo.created_at)],
            StatsGroup::Label if wo.more.labels.is_empty() => vec![NO_LABEL.to_string()],
            StatsGroup::Label => wo.more.labels.clone(),
        }
    }
}

fn day_of(t: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.millis())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A group being counted: its row, and the durations for the median.
#[derive(Default)]
struct Tally {
    row: StatsRow,
    durations: Vec<u64>,
}

impl Tally {
    fn add(&mut self, wo: &WorkOrder) {
        let r = &mut self.row;
        r.work_orders += 1;
        match wo.status {
            Status::Succeeded => r.succeeded += 1,
            Status::Failed => r.failed += 1,
            Status::Canceled => r.canceled += 1,
            _ => r.active += 1,
        }
        if wo.status.is_terminal() {
            if let (Some(start), Some(end)) = (wo.started_at, wo.completed_at) {
                let ms = (end.millis() - start.millis()).max(0) as u64;
                r.total_duration_ms = r.total_duration_ms.saturating_add(ms);
                self.durations.push(ms);
            }
            match wo.agent_result.as_ref().and_then(|a| a.cost_usd) {
                Some(cost) => {
                    r.cost_usd += cost;
                    r.with_cost += 1;
                }
                None => r.without_cost += 1,
            }
        }
    }

    fn finish(mut self, key: String) -> StatsRow {
        self.row.key = key;
        self.row.median_duration_ms = median(&mut self.durations);
        self.row
    }
}

/// The median (the lower of the two middle values for an even count).
fn median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mid = (values.len() - 1) / 2;
    let (_, m, _) = values.select_nth_unstable(mid);
    Some(*m)
}

/// Counts `work_orders` as `q` asks, as of `now`.
pub fn report<'a>(
    q: &StatsQuery,
    work_orders: impl Iterator<Item = &'a WorkOrder>,
    now: Timestamp,
) -> StatsReport {
    let from = q
        .since_ms
        .map(|ms| Timestamp(now.millis().saturating_sub(ms as i64)));
    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for wo in work_orders.filter(|wo| q.matches(wo, from)) {
        total.add(wo);
        for key in q.keys(wo) {
            groups.entry(key).or_default().add(wo);
        }
    }
    StatsReport {
        by: q.by,
        since: from,
        groups: groups.into_iter().map(|(k, t)| t.finish(k)).collect(),
        total: total.finish("total".into()),
    }
}

impl Operation for StatsQuery {
    type Output = StatsReport;

    fn validate(&self) -> Result<(), ServiceError> {
        if self.since_ms.is_some_and(|ms| ms == 0 || ms > MAX_SINCE_MS) {
            return Err(ServiceError::bad_request(
                "since",
                "since must be a duration from 1ms to 10 years (e.g. 7d, 24h)",
            ));
        }
        Ok(())
    }

    fn apply(self, q: &mut Queue, reply: Reply<StatsReport>) {
        let out = report(&self, q.work_orders(), Timestamp::now());
        let _ = reply.send(Ok(out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentResult, WorkspaceSource};

    fn wo(
        id: &str,
        agent: &str,
        status: Status,
        ran_ms: Option<i64>,
        cost: Option<f64>,
    ) -> WorkOrder {
        let mut wo = WorkOrder::new_queued(
            id.into(),
            "p".into(),
            agent.into(),
            WorkspaceSource::Local { path: "/".into() },
            60,
            1,
            Timestamp(86_400_000 * 3 + 5),
        );
        wo.status = status;
        if let Some(ms) = ran_ms {
            wo.started_at = Some(Timestamp(1_000));
            wo.completed_at = Some(Timestamp(1_000 + ms));
        }
        if cost.is_some() {
            // Built from its JSON form: fields added later need no edit here.
            let result: AgentResult =
                serde_json::from_value(serde_json::json!({"costUsd": cost, "isError": false}))
                    .expect("an agent result");
            wo.agent_result = Some(Box::new(result));
        }
        wo
    }

    #[test]
    fn groups_medians_and_costs() {
        let all = [
            wo("a1", "claude", Status::Succeeded, Some(100), Some(0.5)),
            wo("a2", "claude", Status::Failed, Some(300), None),
            wo("a3", "claude", Status::Succeeded, Some(200), Some(0.25)),
            wo("b1", "shell", Status::Canceled, None, None),
            wo("b2", "shell", Status::Queued, None, None),
        ];
        let q = StatsQuery::default();
        let r = report(&q, all.iter(), Timestamp(86_400_000 * 4));
        assert_eq!(r.groups.len(), 2);
        let c = &r.groups[0];
        assert_eq!(
            (c.key.as_str(), c.work_orders, c.succeeded, c.failed),
            ("claude", 3, 2, 1)
        );
        assert_eq!(c.median_duration_ms, Some(200));
        assert_eq!(c.total_duration_ms, 600);
        assert_eq!((c.cost_usd, c.with_cost, c.without_cost), (0.75, 2, 1));
        let s = &r.groups[1];
        assert_eq!((s.canceled, s.active, s.median_duration_ms), (1, 1, None));
        // The queued one has not ended: neither with nor without a cost.
        assert_eq!(s.without_cost, 1);
        assert_eq!(r.total.work_orders, 5);
        assert_eq!(r.total.median_duration_ms, Some(200));
    }

    #[test]
    fn since_and_day() {
        let all = [wo("a1", "claude", Status::Succeeded, Some(1), None)];
        let day = StatsQuery {
            by: StatsGroup::Day,
            ..Default::default()
        };
        let r = report(&day, all.iter(), Timestamp(86_400_000 * 4));
        assert_eq!(r.groups[0].key, "1970-01-04");
        let recent = StatsQuery {
            since_ms: Some(1000),
            ..Default::default()
        };
        let r = report(&recent, all.iter(), Timestamp(86_400_000 * 4));
        assert_eq!(r.total.work_orders, 0);
        assert!(recent.validate().is_ok());
        let zero = StatsQuery {
            since_ms: Some(0),
            ..Default::default()
        };
        assert!(zero.validate().is_err());
    }
}
