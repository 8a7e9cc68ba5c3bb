//! `queue stats` and `GET /api/v1/stats`: usage across work orders, grouped
//! by agent type, label, day (UTC, of creation) or status — counts by
//! outcome, run time (median and total), tokens and cost. Served from memory in one
//! pass over the work orders held; nothing is read from disk.
//!
//! The worked example of an operation in one module: request, validation,
//! effect (here a read of queue state) and result types are all here.

use std::collections::HashMap;

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
    /// Sums of the tokens the agents reported.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    /// How many reported tokens.
    pub with_tokens: u64,
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

const DAY_MS: i64 = 86_400_000;

fn day_of(t: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.millis())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// What `queue stats` counts of one work order, kept compact and side by
/// side with the others' (a report is one pass over contiguous memory, not
/// a walk over every work order's heap allocations).
#[derive(Debug, Clone)]
struct Facts {
    created_ms: i64,
    /// The run time of an ended work order that ran.
    ran_ms: Option<u64>,
    cost: Option<f64>,
    /// Input, output and cached input tokens, when it reported tokens.
    tokens: Option<[u64; 3]>,
    /// Interned agent type.
    agent: u32,
    /// Interned labels (an empty one allocates nothing).
    labels: Box<[u32]>,
    status: Status,
    alive: bool,
}

/// Every held work order's `Facts`, in slots the queue keeps per work order
/// (freed slots are reused), with agent types and labels interned.
#[derive(Debug, Default)]
pub struct StatsIndex {
    facts: Vec<Facts>,
    free: Vec<u32>,
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl StatsIndex {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    /// Records `wo` in its slot (a new one when `slot` is `None`); returns
    /// the slot.
    pub fn put(&mut self, slot: Option<u32>, wo: &WorkOrder) -> u32 {
        let a = wo.agent_result.as_deref();
        let facts = Facts {
            created_ms: wo.created_at.millis(),
            ran_ms: match (wo.status.is_terminal(), wo.started_at, wo.completed_at) {
                (true, Some(start), Some(end)) => {
                    Some((end.millis() - start.millis()).max(0) as u64)
                }
                _ => None,
            },
            cost: a.and_then(|a| a.cost_usd),
            tokens: a
                .filter(|a| a.input_tokens.is_some() || a.output_tokens.is_some())
                .map(|a| {
                    [
                        a.input_tokens.unwrap_or(0),
                        a.output_tokens.unwrap_or(0),
                        a.cached_input_tokens.unwrap_or(0),
                    ]
                }),
            agent: self.intern(&wo.agent_type),
            labels: wo.more.labels.iter().map(|l| self.intern(l)).collect(),
            status: wo.status,
            alive: true,
        };
        match slot.or_else(|| self.free.pop()) {
            Some(i) if (i as usize) < self.facts.len() => {
                self.facts[i as usize] = facts;
                i
            }
            _ => {
                self.facts.push(facts);
                u32::try_from(self.facts.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    /// The work order of `slot` is gone.
    pub fn remove(&mut self, slot: u32) {
        if let Some(f) = self.facts.get_mut(slot as usize)
            && f.alive
        {
            f.alive = false;
            f.labels = Box::default();
            self.free.push(slot);
        }
    }

    /// Counts as `q` asks, as of `now`.
    pub fn report(&self, q: &StatsQuery, now: Timestamp) -> StatsReport {
        let from = q
            .since_ms
            .map(|ms| Timestamp(now.millis().saturating_sub(ms as i64)));
        // A label nobody carries matches nothing.
        let wanted: Option<Vec<u32>> = q
            .labels
            .iter()
            .map(|l| self.ids.get(l.as_str()).copied())
            .collect();
        let mut groups: HashMap<Key, Tally> = HashMap::new();
        let mut total = Tally::default();
        if let Some(wanted) = wanted {
            let from_ms = from.map(|t| t.millis());
            for f in self.facts.iter().filter(|f| {
                f.alive
                    && from_ms.is_none_or(|t| f.created_ms >= t)
                    && wanted.iter().all(|l| f.labels.contains(l))
            }) {
                total.add(f);
                let mut add = |k: Key| groups.entry(k).or_default().add(f);
                match q.by {
                    StatsGroup::Agent => add(Key::Name(f.agent)),
                    StatsGroup::Status => add(Key::Status(f.status)),
                    StatsGroup::Day => add(Key::Day(f.created_ms.div_euclid(DAY_MS))),
                    StatsGroup::Label if f.labels.is_empty() => add(Key::NoLabel),
                    StatsGroup::Label => f.labels.iter().for_each(|l| add(Key::Name(*l))),
                }
            }
        }
        let mut groups: Vec<StatsRow> = groups
            .into_iter()
            .map(|(k, t)| t.finish(self.key_name(k)))
            .collect();
        // By key: days oldest first (their names sort so).
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        StatsReport {
            by: q.by,
            since: from,
            groups,
            total: total.finish("total".into()),
        }
    }

    fn key_name(&self, k: Key) -> String {
        match k {
            Key::Name(i) => self.names.get(i as usize).cloned().unwrap_or_default(),
            Key::Status(s) => s.to_string(),
            Key::Day(d) => day_of(Timestamp(d * DAY_MS)),
            Key::NoLabel => NO_LABEL.to_string(),
        }
    }
}

/// A group's key while counting.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// An interned agent type or label.
    Name(u32),
    Status(Status),
    /// Days since the Unix epoch (UTC).
    Day(i64),
    NoLabel,
}

/// A group being counted: its row, and the durations for the median.
#[derive(Default)]
struct Tally {
    row: StatsRow,
    durations: Vec<u64>,
}

impl Tally {
    fn add(&mut self, f: &Facts) {
        let r = &mut self.row;
        r.work_orders += 1;
        match f.status {
            Status::Succeeded => r.succeeded += 1,
            Status::Failed => r.failed += 1,
            Status::Canceled => r.canceled += 1,
            _ => r.active += 1,
        }
        if f.status.is_terminal() {
            if let Some(ms) = f.ran_ms {
                r.total_duration_ms = r.total_duration_ms.saturating_add(ms);
                self.durations.push(ms);
            }
            if let Some([i, o, c]) = f.tokens {
                r.with_tokens += 1;
                r.input_tokens = r.input_tokens.saturating_add(i);
                r.output_tokens = r.output_tokens.saturating_add(o);
                r.cached_input_tokens = r.cached_input_tokens.saturating_add(c);
            }
            match f.cost {
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

/// Counts `work_orders` as `q` asks, as of `now` (through an index of
/// their own).
#[cfg(test)]
fn report<'a>(
    q: &StatsQuery,
    work_orders: impl Iterator<Item = &'a WorkOrder>,
    now: Timestamp,
) -> StatsReport {
    let mut index = StatsIndex::default();
    for wo in work_orders {
        index.put(None, wo);
    }
    index.report(q, now)
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
        let out = q.stats().report(&self, Timestamp::now());
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

    #[test]
    fn the_index_follows_changes_and_removals() {
        let mut index = StatsIndex::default();
        let a = index.put(None, &wo("a", "claude", Status::Running, None, None));
        let b = index.put(None, &wo("b", "shell", Status::Succeeded, Some(5), None));
        // a ends: its slot is updated in place.
        assert_eq!(
            index.put(
                Some(a),
                &wo("a", "claude", Status::Failed, Some(7), Some(0.5))
            ),
            a
        );
        index.remove(b);
        index.remove(b);
        // A freed slot is reused.
        let c = index.put(None, &wo("c", "codex", Status::Queued, None, None));
        assert_eq!(c, b);
        let r = index.report(&StatsQuery::default(), Timestamp(86_400_000 * 4));
        let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["claude", "codex"]);
        assert_eq!(r.total.work_orders, 2);
        assert_eq!((r.total.failed, r.total.active), (1, 1));
        assert_eq!(r.total.cost_usd, 0.5);
        assert_eq!(r.total.median_duration_ms, Some(7));
        // A label nobody carries matches nothing.
        let q = StatsQuery {
            labels: vec!["nope".into()],
            ..Default::default()
        };
        assert_eq!(index.report(&q, Timestamp(0)).total.work_orders, 0);
    }
}
