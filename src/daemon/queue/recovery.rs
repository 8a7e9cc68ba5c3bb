//! After a restart: every work order left `running` is handed to the executor
//! to adopt. A live run is taken back (status, logs, stop and follow work as
//! before); a run that ended while no daemon ran gets its real end; a run
//! whose supervisor vanished without recording an end is `failed`/`stale`.
//! Runs of versions without supervisors (no executor trace) are stopped and
//! marked `interrupted`, as those versions did; so are AgentGate's in-progress
//! statuses `waiting_for_children` and `integrating`.

use std::collections::HashSet;

use tokio::time::Instant;

use super::{Actor, Live, instant_of};
use crate::executor::{AdoptTarget, Adopted, ExecHandle, legacy};
use crate::model::{ResultKind, Run, Status, Timestamp, WorkOrder};

impl Actor {
    pub async fn recover(&mut self) {
        // Dependents of work that ended while no daemon ran, and cycles
        // written by hand, are settled before anything starts.
        self.repair_dependencies();
        let started = Instant::now();
        let running: Vec<WorkOrder> = self
            .entries
            .values()
            // AgentGate's `waiting_for_children` and `integrating` were
            // in progress too: recovered the same way (never left forever).
            .filter(|e| {
                matches!(
                    e.wo.status,
                    Status::Running | Status::WaitingForChildren | Status::Integrating
                )
            })
            .map(|e| WorkOrder::clone(&e.wo))
            .collect();
        if running.is_empty() {
            return;
        }
        let adoptions = running.iter().map(|wo| {
            let run_id = wo.current_run_id.clone();
            let run = run_id.as_deref().and_then(|r| self.store.load_run(r));
            let target = run_id.as_ref().map(|r| AdoptTarget {
                work_order_id: wo.id.clone(),
                run_id: r.clone(),
                run_dir: self.store.run_dir(r),
                handle: run.as_ref().and_then(|r| r.executor.clone()),
            });
            let executor = self.executor.clone();
            let events = self.exec_tx.clone();
            async move {
                let adopted = match target {
                    Some(t) => executor.adopt(t, events).await,
                    None => Adopted::Unknown,
                };
                (run, adopted)
            }
        });
        let outcomes = futures::future::join_all(adoptions).await;
        let mut legacy_runs = Vec::new();
        let (mut adopted, mut ended) = (0, 0);
        for (wo, (run, outcome)) in running.into_iter().zip(outcomes) {
            let run_id = wo.current_run_id.clone().unwrap_or_default();
            let mut run = run.unwrap_or_else(|| {
                Run::begun(
                    run_id.clone(),
                    wo.id.clone(),
                    Status::Running,
                    wo.started_at.unwrap_or(wo.updated_at),
                )
            });
            // The executor that made the handle, else the work order's own.
            let own = self.executor_of(&wo);
            let live = |run: Run, handle: Option<ExecHandle>| Live {
                run,
                executor: handle.as_ref().and_then(ExecHandle::kind).unwrap_or(own),
                handle,
                agent_started: false,
                stop: None,
                started: instant_of(wo.started_at),
                activity: None,
                last_activity: instant_of(wo.last_activity_at.or(wo.started_at)),
                last_activity_persisted: Instant::now(),
            };
            match outcome {
                Adopted::Live(handle) => {
                    tracing::info!(work_order = %wo.id, run = %run_id, executor = %handle.describe(), "adopted running work");
                    run.executor = Some(handle.clone());
                    self.runs
                        .live
                        .insert(wo.id.clone(), live(run, Some(handle)));
                    adopted += 1;
                }
                Adopted::Ended(end) => {
                    tracing::info!(work_order = %wo.id, run = %run_id, reason = ?end.reason, "run ended while no daemon ran");
                    let handle = run.executor.clone();
                    self.runs.live.insert(wo.id.clone(), live(run, handle));
                    self.end_live(&wo.id, end);
                    ended += 1;
                }
                Adopted::Unknown => legacy_runs.push(wo),
            }
        }
        if !legacy_runs.is_empty() {
            self.recover_legacy(legacy_runs).await;
        }
        tracing::info!(
            adopted,
            ended,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "recovered running work"
        );
    }

    /// Runs of versions without supervisors: stop what is alive of them, then
    /// fail them as interrupted (or timeout, if their deadline has passed).
    async fn recover_legacy(&mut self, running: Vec<WorkOrder>) {
        let runs: Vec<legacy::LegacyRun> = running
            .iter()
            .map(|wo| {
                let heartbeat = wo
                    .current_run_id
                    .as_ref()
                    .map(|r| self.store.heartbeat_path(r));
                legacy::LegacyRun::of(wo, heartbeat)
            })
            .collect();
        let stopped = legacy::stop(&runs, self.settings.grace_period).await;
        let now = Timestamp::now();
        let mut seen = HashSet::new();
        for (mut wo, was_alive) in running.into_iter().zip(stopped) {
            if !seen.insert(wo.id.clone()) {
                continue;
            }
            let timed_out = wo.timeout_at.is_some_and(|t| t <= now);
            let (result, error) = if timed_out {
                (
                    ResultKind::Timeout,
                    format!("timed out after {}s", wo.max_time),
                )
            } else if was_alive {
                (
                    ResultKind::Interrupted,
                    "daemon restarted while it ran; its process tree was stopped".to_string(),
                )
            } else {
                (
                    ResultKind::Interrupted,
                    "daemon restarted while it ran; its process was already gone".to_string(),
                )
            };
            tracing::warn!(work_order = %wo.id, run = ?wo.current_run_id, was_alive, result = result.as_str(), "recovering work order of an older version left running");
            let run_id = wo.current_run_id.clone();
            if wo
                .finish(Status::Failed, result, None, None, Some(error.clone()), now)
                .is_ok()
            {
                self.commit_event(wo);
                if let Some(run_id) = run_id
                    && let Some(mut run) = self.store.load_run(&run_id)
                {
                    run.status = Status::Failed;
                    run.completed_at = Some(now);
                    run.result = Some(result);
                    run.error = Some(error);
                    self.save_run(&run);
                }
            }
        }
    }
}
