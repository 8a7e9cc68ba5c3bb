//! The queue's state beside its tables (`tables`), as a few types with their
//! own invariants instead of one struct of loose fields:
//!
//! - `Waiting`: queued work in start order (ready per executor, blocked on a
//!   dependency), who waits for whom, and the doomed dependents still to
//!   cancel;
//! - `Pending`: changes in memory not yet on disk (a full disk), retried;
//! - `LiveRuns`: runs in progress and the figures of recent starts;
//! - `Stopping`: how the daemon's shutdown goes and who waits for it;
//! - `StaleState`: the stale detector's round and its recent detections.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use super::{Live, lifecycle::HeldLaunch};
use crate::model::{ExecutorKind, Run, Timestamp};
use crate::service::Reply;

/// A queued work order's place: higher priority first, then FIFO.
pub(super) type QueueKey = (Reverse<i32>, Timestamp, String);

/// Queued work orders.
#[derive(Default)]
pub(super) struct Waiting {
    /// Free to start, in start order, one queue per executor (each has its
    /// own concurrency limit, so one full executor never holds up another).
    pub(super) ready: HashMap<ExecutorKind, BTreeSet<QueueKey>>,
    /// Waiting for a dependency to succeed.
    pub(super) blocked: BTreeSet<QueueKey>,
    /// Work orders waited for -> the queued ones waiting (may hold stale
    /// entries: checked when used).
    pub(super) dependents: HashMap<String, Vec<String>>,
    /// Failed or canceled work orders with dependents still to cancel.
    pub(super) doomed: VecDeque<String>,
    /// A cascade of dependency cancellations is being worked off.
    pub(super) cascading: bool,
}

impl Waiting {
    /// Work orders waiting, ready or blocked (what `max_queue_size` limits).
    pub(super) fn len(&self) -> usize {
        self.ready.values().map(BTreeSet::len).sum::<usize>() + self.blocked.len()
    }

    /// Takes `key` out of whichever queue holds it.
    pub(super) fn remove(&mut self, key: &QueueKey) {
        for q in self.ready.values_mut() {
            q.remove(key);
        }
        self.blocked.remove(key);
    }
}

/// Changes held in memory that could not be written yet; written again on
/// every tick until they land.
#[derive(Default)]
pub(super) struct Pending {
    /// Work orders whose latest state is not on disk.
    pub(super) orders: BTreeSet<String>,
    /// Run records likewise, by run id (the latest record of each).
    pub(super) runs: HashMap<String, Run>,
    /// New work orders durable in the submit journal only: their files are
    /// written on the next tick (`journal.rs`). Not a health problem.
    pub(super) journaled: BTreeSet<String>,
}

impl Pending {
    pub(super) fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.runs.is_empty() && self.journaled.is_empty()
    }

    /// A work order (and its runs) gone for good: nothing left to write.
    pub(super) fn forget(&mut self, id: &str, run_ids: &[String]) {
        self.orders.remove(id);
        self.journaled.remove(id);
        for run in run_ids {
            self.runs.remove(run);
        }
    }
}

/// Waits from submit to start kept for the mean (AgentGate keeps 100).
const WAIT_SAMPLES: usize = 100;

/// Runs in progress.
#[derive(Default)]
pub(super) struct LiveRuns {
    /// By work order id.
    pub(super) live: HashMap<String, Live>,
    pub(super) last_start: Option<Instant>,
    /// After a failed automatic start, none is tried before this.
    pub(super) start_retry_at: Option<Instant>,
    /// The latest waits from submit to start (ms), for health and positions.
    waits: VecDeque<u64>,
    /// While an operation holds launches (`Actor::hold_launches`): runs
    /// recorded as started whose executor start waits for its answer.
    pub(super) held_launches: Option<Vec<HeldLaunch>>,
}

impl LiveRuns {
    /// A start, `waited_ms` after its submit (`None`: not from the queue).
    pub(super) fn started(&mut self, at: Instant, waited_ms: Option<u64>) {
        self.last_start = Some(at);
        if let Some(ms) = waited_ms {
            if self.waits.len() >= WAIT_SAMPLES {
                self.waits.pop_front();
            }
            self.waits.push_back(ms);
        }
    }

    /// The mean of the recent waits; `None` before any start.
    pub(super) fn mean_wait_ms(&self) -> Option<f64> {
        (!self.waits.is_empty())
            .then(|| self.waits.iter().sum::<u64>() as f64 / self.waits.len() as f64)
    }
}

/// The daemon's shutdown, once asked for.
pub(super) struct Stopping {
    /// Submits are taken (false from the first shutdown request on).
    pub(super) accepting: bool,
    /// Shutting down without stopping running work (left to supervisors).
    pub(super) keep_running: bool,
    /// Shutting down to start again in place.
    pub(super) restart: bool,
    /// Answered once the queue has stopped.
    pub(super) waiters: Vec<Reply<()>>,
}

impl Default for Stopping {
    fn default() -> Stopping {
        Stopping {
            accepting: true,
            keep_running: false,
            restart: false,
            waiters: Vec::new(),
        }
    }
}

/// The stale detector between its rounds.
pub(super) struct StaleState {
    /// A round's probes are out; no second one is started meanwhile.
    pub(super) probing: bool,
    pub(super) next_check: Instant,
    /// When work was found stale, over the last hour.
    detections: VecDeque<Instant>,
}

impl StaleState {
    pub(super) fn new(first_check: Instant) -> StaleState {
        StaleState {
            probing: false,
            next_check: first_check,
            detections: VecDeque::new(),
        }
    }

    pub(super) fn detected(&mut self, at: Instant) {
        self.detections.push_back(at);
    }

    /// Forgets detections over an hour old as of `now`.
    pub(super) fn prune(&mut self, now: Instant) {
        while self
            .detections
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(3600))
        {
            self.detections.pop_front();
        }
    }

    pub(super) fn last_hour(&self) -> u64 {
        self.detections.len() as u64
    }
}

/// The costs agents reported, summed over the work orders held: kept as each
/// work order changes (health is served from memory), in millionths of a
/// dollar so that adding and taking away leave no rounding behind.
#[derive(Default)]
pub(super) struct Costs {
    micros: i128,
}

impl Costs {
    fn micros(cost: Option<f64>) -> i128 {
        cost.filter(|c| c.is_finite())
            .map_or(0, |c| (c * 1_000_000.0).round() as i128)
    }

    /// A work order's cost went from `old` to `new` (either may be none).
    pub(super) fn changed(&mut self, old: Option<f64>, new: Option<f64>) {
        self.micros += Costs::micros(new) - Costs::micros(old);
    }

    pub(super) fn total(&self) -> f64 {
        self.micros as f64 / 1_000_000.0
    }
}
