//! The stale detector: every `stale_check_interval`, each running work order's
//! executor is probed off the actor (output bytes, CPU time, I/O counters,
//! heartbeat); a run with no change for `stale_threshold`, or running longer
//! than `max_running_time`, is stopped and failed `stale`. A run whose
//! supervisor vanished is reported by the executor itself (`Lost`).

use std::time::Duration;

use tokio::time::Instant;

use super::{Actor, Event};
use crate::executor::Activity;
use crate::model::{ResultKind, Status, Timestamp};

/// `lastActivityAt` is persisted at most this often per work order.
const ACTIVITY_PERSIST_EVERY: Duration = Duration::from_secs(5);

impl Actor {
    /// Starts a round of probes; their results come back as `Event::Probed`.
    pub(super) fn stale_check(&mut self) {
        if self.stale.probing {
            return;
        }
        let targets: Vec<(String, String)> = self
            .runs
            .live
            .iter()
            .filter(|(_, l)| l.handle.is_some() && l.stop.is_none())
            .map(|(id, l)| (id.clone(), l.run.id.clone()))
            .collect();
        if targets.is_empty() {
            return;
        }
        self.stale.probing = true;
        let executor = self.executor.clone();
        let tx = self.events_tx.clone();
        tokio::task::spawn_blocking(move || {
            let results = targets
                .into_iter()
                .map(|(id, run_id)| {
                    let act = executor.probe(&run_id);
                    (id, run_id, act)
                })
                .collect();
            let _ = tx.send(Event::Probed(results));
        });
    }

    pub(super) fn on_probed(&mut self, results: Vec<(String, String, Option<Activity>)>) {
        self.stale.probing = false;
        let now = Instant::now();
        let threshold = self.settings.stale_threshold;
        let max_running = self.settings.max_running_time;
        let mut detections: Vec<(String, String)> = Vec::new();
        // (id, persist now?) for work that showed activity since the last check.
        let mut touched: Vec<(String, bool)> = Vec::new();
        for (id, run_id, act) in results {
            let Some(live) = self.runs.live.get_mut(&id).filter(|l| l.run.id == run_id) else {
                continue;
            };
            // Stopping already, or gone (its end is on the way).
            let Some(act) = act.filter(|_| live.stop.is_none()) else {
                continue;
            };
            // Waiting in the executor's own queue (a pending batch job) is
            // not idleness.
            if act.waiting || live.activity != Some(act) {
                live.activity = Some(act);
                live.last_activity = now;
                let persist =
                    now.duration_since(live.last_activity_persisted) >= ACTIVITY_PERSIST_EVERY;
                if persist {
                    live.last_activity_persisted = now;
                }
                touched.push((id.clone(), persist));
            }
            let idle = now.duration_since(live.last_activity);
            if idle >= threshold {
                detections.push((
                    id,
                    format!(
                        "no activity (output, CPU time, I/O or heartbeat) for {}s",
                        idle.as_secs()
                    ),
                ));
            } else if now.duration_since(live.started) >= max_running {
                detections.push((
                    id,
                    format!(
                        "running longer than max_running_time ({}s)",
                        max_running.as_secs()
                    ),
                ));
            }
        }
        // lastActivityAt is current in memory at every check, and written at
        // most every few seconds (not per byte of output).
        for (id, persist) in touched {
            if let Some(mut wo) = self.copy_of(&id) {
                wo.last_activity_at = Some(Timestamp::now());
                if persist {
                    self.commit_event(wo);
                } else {
                    // Activity only: no status moves, nothing follows.
                    let _ = self.apply(wo, None);
                }
            }
        }
        for (id, reason) in detections {
            tracing::warn!(work_order = %id, %reason, "stale work order detected");
            self.stale.detected(now);
            self.request_stop(
                &id,
                Status::Failed,
                ResultKind::Stale,
                format!("stale: {reason}"),
                None,
                None,
            );
        }
        self.stale.prune(now);
    }
}
