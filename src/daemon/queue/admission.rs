//! Admission: when queued work starts (event-driven: after a submit, an exit,
//! a cancel, a tick, or exactly when the stagger delay ends), and why queued
//! work waits. `gate` is the one place that decides whether an automatic start
//! may happen on an executor; the reasons shown for queued work
//! (`queuedReason`) are read from it and from the queue's order.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::{Actor, queue_key};
use crate::model::units::{format_duration, format_size};
use crate::model::{ExecutorKind, Status, WorkOrder};
use crate::sys::proc;

/// Wait after a failed automatic start (a full or read-only disk) before the next.
const START_RETRY: Duration = Duration::from_secs(10);

/// Why a queued work order is not starting now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hold {
    ShuttingDown,
    Paused,
    /// Auto-processing is off: only `queue start` starts work.
    Manual,
    /// A dependency has not succeeded yet (`more` others neither).
    Waiting {
        id: String,
        more: usize,
    },
    /// `on`: the executor, where its limit is its own (not the daemon's
    /// `max_concurrent`).
    Concurrency {
        running: usize,
        max: usize,
        on: Option<ExecutorKind>,
    },
    /// After a failed automatic start.
    Backoff {
        left: Duration,
    },
    Stagger {
        left: Duration,
    },
    Memory {
        available: u64,
        needed: u64,
    },
    /// Others start first: earlier in the same priority, or (`higher`) one
    /// of a higher priority is among them.
    Behind {
        ahead: usize,
        higher: bool,
    },
    /// Nothing holds it: it starts with the next admission pass.
    Starting,
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::ShuttingDown => write!(f, "shutting down"),
            Hold::Paused => write!(f, "paused"),
            Hold::Manual => write!(f, "auto-process off"),
            // A cause, like the others: people read it after `waiting:`.
            Hold::Waiting { id, more: 0 } => write!(f, "dependency {id}"),
            Hold::Waiting { id, more } => write!(f, "dependency {id} (+{more} more)"),
            Hold::Concurrency {
                running,
                max,
                on: None,
            } => write!(f, "concurrency ({running} of {max} running)"),
            Hold::Concurrency {
                running,
                max,
                on: Some(executor),
            } => write!(
                f,
                "concurrency ({running} of {max} running on {})",
                executor.as_str()
            ),
            Hold::Backoff { left } => write!(f, "start failed (retry in {})", seconds(*left)),
            Hold::Stagger { left } => write!(f, "stagger (next start in {})", seconds(*left)),
            Hold::Memory { available, needed } => write!(
                f,
                "memory ({} available, {} needed)",
                spaced(format_size(*available)),
                spaced(format_size(*needed))
            ),
            Hold::Behind {
                ahead,
                higher: true,
            } => write!(f, "priority ({ahead} ahead)"),
            Hold::Behind {
                ahead,
                higher: false,
            } => write!(f, "{ahead} ahead in queue"),
            Hold::Starting => write!(f, "starting"),
        }
    }
}

/// A wait, rounded up to whole seconds: `27s`, `3m`.
fn seconds(d: Duration) -> String {
    let secs = d.as_millis().div_ceil(1000) as u64;
    if secs < 60 {
        format!("{secs}s")
    } else {
        format_duration(Duration::from_secs(secs))
    }
}

/// `1.2GiB` -> `1.2 GiB`.
fn spaced(size: String) -> String {
    match size.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => format!("{} {}", &size[..i], &size[i..]),
        None => size,
    }
}

impl Actor {
    /// Live runs on `kind`.
    pub(crate) fn running_on(&self, kind: ExecutorKind) -> usize {
        self.runs
            .live
            .values()
            .filter(|l| l.executor == kind)
            .count()
    }

    /// How many runs may be in flight on `kind` now: its own limit, else
    /// the daemon's `max_concurrent`.
    pub(crate) fn max_concurrent_for(&self, kind: ExecutorKind) -> usize {
        self.capabilities(kind)
            .max_concurrent
            .unwrap_or_else(|| self.local_max_concurrent())
    }

    pub(crate) fn slot_free(&self, kind: ExecutorKind) -> bool {
        self.running_on(kind) < self.max_concurrent_for(kind)
    }

    /// What holds every queued work order, whatever its executor.
    fn global_hold(&self) -> Option<Hold> {
        if !self.stopping.accepting {
            Some(Hold::ShuttingDown)
        } else if self.paused() {
            Some(Hold::Paused)
        } else if !self.settings.auto_process {
            Some(Hold::Manual)
        } else {
            None
        }
    }

    /// Whether an automatic start on `kind` may happen now, and if not, why:
    /// admission on, a free slot there, no back-off after a failed start, the
    /// stagger delay elapsed, enough memory (for work that runs on this machine).
    pub(super) fn gate(&self, kind: ExecutorKind) -> Option<Hold> {
        self.gate_with(kind, proc::mem_available)
    }

    /// `gate` with the memory sampled on the last tick: for answers (list,
    /// show, health, positions), which must not read /proc per request.
    pub(super) fn gate_cached(&self, kind: ExecutorKind) -> Option<Hold> {
        self.gate_with(kind, || self.mem_available)
    }

    /// `mem_available` is asked only when a minimum applies and every other
    /// check passed (reading /proc/meminfo has the kernel format the whole
    /// file, on the way to a submit's answer).
    fn gate_with(
        &self,
        kind: ExecutorKind,
        mem_available: impl FnOnce() -> Option<u64>,
    ) -> Option<Hold> {
        if let Some(h) = self.global_hold() {
            return Some(h);
        }
        let running = self.running_on(kind);
        let max = self.max_concurrent_for(kind);
        if running >= max {
            let own_limit = self.capabilities(kind).max_concurrent.is_some();
            return Some(Hold::Concurrency {
                running,
                max,
                on: own_limit.then_some(kind),
            });
        }
        let now = Instant::now();
        if let Some(at) = self.runs.start_retry_at.filter(|at| now < *at) {
            return Some(Hold::Backoff { left: at - now });
        }
        if let Some(last) = self.runs.last_start {
            let at = last + self.stagger_delay();
            if now < at {
                return Some(Hold::Stagger { left: at - now });
            }
        }
        let needed = self.min_memory();
        if needed > 0
            && self.capabilities(kind).uses_host_memory
            && let Some(available) = mem_available()
            && available < needed
        {
            return Some(Hold::Memory { available, needed });
        }
        None
    }

    /// A new work order may skip the queue: nothing to wait for, nobody
    /// ahead on its executor, and the gate open.
    pub(super) fn may_start_at_once(&self, wo: &WorkOrder) -> bool {
        let kind = self.executor_of(wo);
        self.unmet_dependencies(wo).is_empty()
            && self.waiting.ready.get(&kind).is_none_or(|q| q.is_empty())
            && self.gate(kind).is_none()
    }

    /// When the stagger delay will let the next start happen, if that is
    /// what holds it.
    pub(super) fn stagger_wake(&self) -> Option<Instant> {
        if self.global_hold().is_some() {
            return None;
        }
        self.waiting
            .ready
            .iter()
            .filter(|(k, q)| !q.is_empty() && self.slot_free(**k))
            .find_map(|_| {
                let at = self.runs.last_start? + self.stagger_delay();
                (at > Instant::now()).then_some(at)
            })
    }

    /// Event-driven admission: runs after submit, exit, cancel, and on the
    /// tick. Highest priority first, FIFO within one, per executor; among
    /// executors, the one whose next work order comes first.
    pub(crate) fn schedule(&mut self) {
        if self.global_hold().is_some() {
            return;
        }
        loop {
            let next = self
                .waiting
                .ready
                .iter()
                .filter(|(k, q)| !q.is_empty() && self.gate(**k).is_none())
                .filter_map(|(_, q)| q.first().cloned())
                .min();
            let Some((_, _, id)) = next else {
                return;
            };
            // The ready line holds queued work whose dependencies succeeded,
            // and the gate said a slot is free: nothing else to check.
            let Some(wo) = self.copy_of(&id) else {
                // The tables and the ready line change together; if they
                // ever disagree, say so rather than stall without a word.
                tracing::error!(work_order = %id, "queued work order missing from the tables; not started");
                self.runs.start_retry_at = Some(Instant::now() + START_RETRY);
                return;
            };
            if let Err(e) = self.begin_run(wo, false) {
                // Typically the disk (full, read-only): retry later rather than
                // every tick; a manual `queue start` is not held back.
                tracing::error!(work_order = %id, error = %e, retry_in_s = START_RETRY.as_secs(), "automatic start failed");
                self.runs.start_retry_at = Some(Instant::now() + START_RETRY);
                return;
            }
        }
    }

    /// Why each queued work order waits, by id, in one pass over the queue.
    pub(crate) fn queued_reasons(&self) -> HashMap<&str, Hold> {
        let mut out = HashMap::new();
        let global = self.global_hold();
        for (kind, q) in &self.waiting.ready {
            let gate = match &global {
                Some(_) => None,
                None => self.gate_cached(*kind),
            };
            let head = q.first().map(|(p, _, _)| *p);
            for (ahead, (priority, _, id)) in q.iter().enumerate() {
                let hold = match (&global, ahead) {
                    (Some(g), _) => g.clone(),
                    (None, 0) => gate.clone().unwrap_or(Hold::Starting),
                    (None, ahead) => Hold::Behind {
                        ahead,
                        higher: head != Some(*priority),
                    },
                };
                out.insert(id.as_str(), hold);
            }
        }
        for (_, _, id) in &self.waiting.blocked {
            let hold = match (&global, self.entries.get(id)) {
                (Some(g), _) => g.clone(),
                (None, Some(e)) => self.waiting_hold(&e.wo),
                (None, None) => continue,
            };
            out.insert(id.as_str(), hold);
        }
        out
    }

    /// Why `wo` waits, in words (`None`: it is not queued, or may start).
    pub(crate) fn why_queued(&self, wo: &WorkOrder) -> Option<String> {
        self.queued_reason(wo).map(|h| h.to_string())
    }

    /// Why one queued work order waits (`None` if it is not queued); costs
    /// its place in the queue.
    pub(super) fn queued_reason(&self, wo: &WorkOrder) -> Option<Hold> {
        if wo.status != Status::Queued {
            return None;
        }
        if let Some(g) = self.global_hold() {
            return Some(g);
        }
        let key = queue_key(wo);
        if self.waiting.blocked.contains(&key) {
            return Some(self.waiting_hold(wo));
        }
        let kind = self.executor_of(wo);
        let q = self.waiting.ready.get(&kind)?;
        let ahead = q.range(..&key).count();
        Some(match ahead {
            0 => self.gate_cached(kind).unwrap_or(Hold::Starting),
            // The head is the highest priority waiting.
            ahead => Hold::Behind {
                ahead,
                higher: q.first().is_some_and(|h| h.0 != key.0),
            },
        })
    }

    fn waiting_hold(&self, wo: &WorkOrder) -> Hold {
        let unmet = self.unmet_dependencies(wo);
        Hold::Waiting {
            id: unmet.first().map_or_else(String::new, |d| d.to_string()),
            more: unmet.len().saturating_sub(1),
        }
    }

    /// Why the queued work order that would start next waits (health).
    pub(super) fn next_queued_reason(&self) -> Option<Hold> {
        let head = self
            .waiting
            .ready
            .values()
            .filter_map(|q| q.first())
            .min()
            .or_else(|| self.waiting.blocked.first())?;
        self.queued_reason(&self.entries.get(&head.2)?.wo)
    }
}

impl Actor {
    /// Whether a work order submitted now for the default executor would start
    /// at once (health's `canStartImmediately`).
    pub(super) fn can_start_now(&self) -> bool {
        let kind = self.settings.executor;
        self.waiting.ready.get(&kind).is_none_or(|q| q.is_empty())
            && self.gate_cached(kind).is_none()
    }

    /// How many queued work orders start before `wo` (queued), in the order
    /// `schedule` starts them (priority, then FIFO) on its executor; one
    /// waiting for a dependency stands behind every ready one. Work on
    /// another executor does not wait in this line.
    pub(crate) fn ahead_in_line(&self, wo: &WorkOrder) -> u64 {
        let kind = self.executor_of(wo);
        let key = queue_key(wo);
        let ready = self.waiting.ready.get(&kind);
        let ahead = if self.waiting.blocked.contains(&key) {
            ready.map_or(0, |q| q.len())
                + self
                    .waiting
                    .blocked
                    .range(..key)
                    .filter(|(_, _, other)| {
                        self.entries
                            .get(other)
                            .is_some_and(|e| self.executor_of(&e.wo) == kind)
                    })
                    .count()
        } else {
            ready.map_or(0, |q| q.range(..key).count())
        };
        ahead as u64
    }

    /// Whether admission would let a run start on `kind` now.
    pub(crate) fn may_start_on(&self, kind: ExecutorKind) -> bool {
        self.gate_cached(kind).is_none()
    }

    /// The mean of recent waits from submit to start, in ms.
    pub(crate) fn mean_wait_ms(&self) -> Option<f64> {
        self.runs.mean_wait_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_documented() {
        let cases = [
            (Hold::Paused, "paused"),
            (
                Hold::Concurrency {
                    running: 2,
                    max: 2,
                    on: None,
                },
                "concurrency (2 of 2 running)",
            ),
            (
                Hold::Stagger {
                    left: Duration::from_millis(26_100),
                },
                "stagger (next start in 27s)",
            ),
            (
                Hold::Memory {
                    available: 1_288_490_189,
                    needed: 2 << 30,
                },
                "memory (1.2 GiB available, 2 GiB needed)",
            ),
            (
                Hold::Waiting {
                    id: "abcDEF123456".into(),
                    more: 0,
                },
                "dependency abcDEF123456",
            ),
            (
                Hold::Behind {
                    ahead: 3,
                    higher: true,
                },
                "priority (3 ahead)",
            ),
            (
                Hold::Behind {
                    ahead: 1,
                    higher: false,
                },
                "1 ahead in queue",
            ),
        ];
        for (hold, text) in cases {
            assert_eq!(hold.to_string(), text);
        }
    }
}
