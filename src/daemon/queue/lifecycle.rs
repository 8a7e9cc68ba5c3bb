//! A run's life: launched through the executor, started, ended exactly once
//! with one terminal state (stopping it is `stop`).

use futures::FutureExt;
use tokio::time::Instant;

use super::stop::stop_request;
use super::{Actor, Event, Live, Started, StopIntent, StopWaiter, internal};
use crate::agent::login;
use crate::config::{OutputFormat, PromptVia};
use crate::daemon::workspace;
use crate::executor::files::{Setup, Workspace};
use crate::executor::{EndReason, ExecHandle, PromptFile, RunEnd, RunExit, RunSpec};
use crate::model::units::format_size;
use crate::model::{ExecutorKind, ResultKind, Run, Status, Timestamp, WorkOrder, new_id};
use crate::service::*;
use crate::sys::proc;

/// A run recorded as started whose executor start waits for the operation
/// that started it to answer (see `Actor::hold_launches`).
pub(crate) struct HeldLaunch {
    id: String,
    run_id: String,
    spec: Result<RunSpec, String>,
}

/// An executor's start: done at once, or still going.
type Launch = Result<
    Result<
        Result<ExecHandle, String>,
        futures::future::BoxFuture<'static, Result<ExecHandle, crate::executor::ExecError>>,
    >,
    String,
>;

impl Actor {
    /// Until the end of the operation that calls this, a run started is
    /// recorded durably but handed to its executor only after it
    /// (`start_released`, once the door's task has had a turn to send the
    /// answer): an operation (submit) answers its client as soon as the work
    /// order is durable, and the run's start (a supervisor's go, the next
    /// spare supervisor's spawn) does not compete with that reply.
    pub(crate) fn hold_launches(&mut self) {
        self.runs.held_launches.get_or_insert_with(Vec::new);
    }

    /// Whether an operation held runs (`start_released` starts them; the
    /// actor yields first).
    pub(crate) fn launches_due(&self) -> bool {
        self.runs.held_launches.is_some()
    }

    /// After the holding operation (which has answered by then): hands the
    /// held runs to their executors, gates open at once (their start is on
    /// disk already), then starts whatever else may start.
    pub(crate) fn start_released(&mut self) {
        let Some(held_launches) = self.runs.held_launches.take() else {
            return;
        };
        for held in held_launches {
            if self
                .runs
                .live
                .get(&held.id)
                .is_none_or(|l| l.run.id != held.run_id)
            {
                continue; // ended meanwhile
            }
            let (gate, gate_rx) = tokio::sync::oneshot::channel();
            let launch = held.spec.map(|spec| self.executor_start(spec, gate_rx));
            let _ = gate.send(());
            self.after_launch(&held.id, &held.run_id, launch);
        }
        self.schedule();
    }

    fn executor_start(
        &self,
        spec: RunSpec,
        gate: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<
        Result<ExecHandle, String>,
        futures::future::BoxFuture<'static, Result<ExecHandle, crate::executor::ExecError>>,
    > {
        let mut start = self.executor.start(spec, gate, self.exec_tx.clone());
        match (&mut start).now_or_never() {
            Some(result) => Ok(result.map_err(|e| e.to_string())),
            None => Err(start),
        }
    }

    /// What follows an executor's start: its handle, a failure, or a wait.
    fn after_launch(&mut self, id: &str, run_id: &str, launch: Launch) {
        match launch {
            Err(msg) => self.fail_spawn(id, msg),
            Ok(Ok(result)) => self.on_launched(id, run_id, result),
            Ok(Err(pending)) => {
                let tx = self.events_tx.clone();
                let (id, run_id) = (id.to_string(), run_id.to_string());
                tokio::spawn(async move {
                    let result = pending.await.map_err(|e| e.to_string());
                    let _ = tx.send(Event::Launched { id, run_id, result });
                });
            }
        }
    }

    /// Moves a work order (as held, or just built by submit and not yet stored)
    /// to running with one durable write, then hands its run to the executor.
    pub(crate) fn begin_run(
        &mut self,
        mut wo: WorkOrder,
        manual: bool,
    ) -> Result<StartOutcome, ServiceError> {
        let id = wo.id.clone();
        let now = Timestamp::now();
        let run_id = new_id();
        let waited = (wo.status == Status::Queued)
            .then(|| (now.millis() - wo.created_at.millis()).max(0) as u64);
        wo.transition(Status::Running, now).map_err(internal)?;
        wo.run_count = wo.run_count.saturating_add(1);
        wo.current_run_id = Some(run_id.clone());
        wo.run_ids.push(run_id.clone());
        wo.timeout_at = Some(now.plus_millis((wo.max_time as i64).saturating_mul(1000)));
        let mut run = Run::begun(run_id.clone(), wo.id.clone(), Status::Running, now);
        let run_dir = self.store.run_dir(&run_id);
        let kind = self.executor_of(&wo);
        let spec = self.run_spec(&wo, &run_id, kind);
        if let Ok(spec) = &spec {
            run.workspace = Some(spec.workspace.dir().to_string_lossy().into_owned());
            run.output_format = spec.output_format.clone();
        }
        // Unless launches are held, the executor makes the run's directory and
        // starts preparing (a supervisor's process start) while the start is
        // written durably; it runs nothing before the gate opens.
        let (now_launch, held_spec) = if self.runs.held_launches.is_some() {
            (None, Some(spec))
        } else {
            let (gate, gate_rx) = tokio::sync::oneshot::channel();
            let launch = spec.map(|spec| self.executor_start(spec, gate_rx));
            (Some((gate, launch)), None)
        };
        if let Err(e) = self.commit(wo.clone()) {
            drop(now_launch); // abandons the run (its gate is never opened)
            let _ = std::fs::remove_dir_all(&run_dir);
            return Err(e);
        }
        tracing::info!(work_order = %id, run = %run_id, manual, "starting run");
        let started = Instant::now();
        self.runs.started(started, waited);
        self.runs.live.insert(
            id.clone(),
            Live {
                run,
                executor: kind,
                handle: None,
                agent_started: false,
                stop: None,
                started,
                activity: None,
                last_activity: started,
                last_activity_persisted: started,
            },
        );
        match (now_launch, held_spec) {
            (Some((gate, launch)), _) => {
                let _ = gate.send(());
                self.after_launch(&id, &run_id, launch);
            }
            (None, Some(spec)) => {
                if let Some(held) = self.runs.held_launches.as_mut() {
                    held.push(HeldLaunch {
                        id: id.clone(),
                        run_id: run_id.clone(),
                        spec,
                    });
                }
            }
            (None, None) => {}
        }
        Ok(StartOutcome {
            id,
            run_id,
            status: Status::Running,
            started_at: now,
        })
    }

    /// What the executor needs to run this work order.
    fn run_spec(
        &self,
        wo: &WorkOrder,
        run_id: &str,
        executor: ExecutorKind,
    ) -> Result<RunSpec, String> {
        let agent = self
            .settings
            .agents
            .get(&wo.agent_type)
            .ok_or_else(|| format!("unknown agent type {:?}", wo.agent_type))?;
        if let Some(problem) = login::missing_for(wo, agent, &self.settings.env_remove) {
            return Err(problem);
        }
        let ws = workspace::plan(
            wo,
            &self.store.workspace_clone_dir(&wo.id),
            &self.settings.github_base_url,
        )?;
        let run_dir = self.store.run_dir(run_id);
        let prompt_path = run_dir.join(workspace::PROMPT_FILE);
        let argv = workspace::command_line(agent, wo, ws.dir(), run_id, &prompt_path);
        let stdin = agent.prompt_via == PromptVia::Stdin;
        let prompt = (stdin || workspace::uses_prompt_file(agent)).then(|| PromptFile {
            path: prompt_path,
            text: wo.task_prompt.clone(),
            stdin,
        });
        let heartbeat = self.store.heartbeat_path(run_id);
        // The agent type's variables, then the work order's own, then ours.
        let mut env: Vec<(String, String)> = agent.env.clone().into_iter().collect();
        env.extend(wo.more.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.push(("AGENTGATE_WORK_ORDER_ID".into(), wo.id.clone()));
        env.push(("AGENTGATE_RUN_ID".into(), run_id.to_string()));
        env.push((
            "AGENTGATE_WORKSPACE".into(),
            ws.dir().to_string_lossy().into_owned(),
        ));
        env.push((
            "AGENTGATE_HEARTBEAT_FILE".into(),
            heartbeat.to_string_lossy().into_owned(),
        ));
        let fresh = matches!(ws, Workspace::Worktree { .. } | Workspace::Clone { .. });
        let sandbox = self.sandbox_plan(wo, agent, &ws, &run_dir)?;
        if let Some(plan) = &sandbox {
            env.push(("TMPDIR".into(), plan.tmpdir.to_string_lossy().into_owned()));
        }
        Ok(RunSpec {
            executor,
            work_order_id: wo.id.clone(),
            run_id: run_id.to_string(),
            run_dir,
            argv,
            env,
            workspace: ws,
            stdout: self.store.log_path(run_id, false),
            stderr: self.store.log_path(run_id, true),
            heartbeat,
            // A run that may wait in its executor's queue (a batch job)
            // gets its clock when it starts there; any other starts now.
            deadline: wo
                .timeout_at
                .filter(|_| !self.capabilities(executor).queues_runs),
            max_time_s: wo.max_time,
            grace: self.settings.grace_period,
            memory_max: agent.memory_max,
            output_format: (agent.output != OutputFormat::Text)
                .then(|| agent.output.as_str().to_string()),
            prompt,
            // An explicit `--setup` always runs; the agent type's, or the
            // repository's own script, in a workspace made fresh for the run.
            setup: match (&wo.more.setup, fresh) {
                (Some(c), _) => Some(Setup {
                    command: Some(c.clone()),
                }),
                (None, true) => Some(Setup {
                    command: agent.setup.clone(),
                }),
                (None, false) => None,
            },
            env_remove: (self.settings.env_remove.iter().cloned())
                .chain(
                    login::withheld(&wo.agent_type)
                        .iter()
                        .map(|v| v.to_string()),
                )
                .collect(),
            sandbox,
            forbidden: wo
                .more
                .sandbox
                .as_ref()
                .map(|s| s.forbidden_patterns.clone())
                .unwrap_or_default(),
        })
    }

    pub(super) fn on_launched(
        &mut self,
        id: &str,
        run_id: &str,
        result: Result<ExecHandle, String>,
    ) {
        let Some(live) = self.runs.live.get_mut(id).filter(|l| l.run.id == run_id) else {
            return;
        };
        let handle = match result {
            Ok(h) => h,
            Err(msg) => {
                self.fail_spawn(id, msg);
                return;
            }
        };
        tracing::info!(work_order = %id, run = %run_id, executor = %handle.describe(), "run launched");
        live.handle = Some(handle.clone());
        live.run.executor = Some(handle);
        let run = live.run.clone();
        // Stopped before the executor had it: pass the stop on now.
        if let Some(intent) = &live.stop {
            let req = stop_request(intent, self.settings.grace_period);
            self.executor.stop(run_id, &req);
        }
        self.save_run(&run);
    }

    pub(super) fn on_started(&mut self, id: &str, run_id: &str, started: Started) {
        let Some(live) = self.runs.live.get_mut(id).filter(|l| l.run.id == run_id) else {
            return;
        };
        let Some(mut wo) = self.entries.get(id).map(|e| WorkOrder::clone(&e.wo)) else {
            return;
        };
        live.agent_started = true;
        // The clock of `maxTime` starts when the agent does (the run may
        // have waited in its executor's queue).
        let deadline = started.deadline.filter(|d| wo.timeout_at != Some(*d));
        let changed = started.details.record(&mut live.run, &mut wo);
        if !changed && deadline.is_none() {
            return; // nothing new (an adopted run)
        }
        let run = live.run.clone();
        if let Some(d) = deadline {
            wo.timeout_at = Some(d);
        }
        wo.updated_at = Timestamp::now();
        wo.more.sandbox_applied = self.sandbox_applied(&wo);
        self.commit_event(wo);
        self.save_run(&run);
        tracing::info!(work_order = %id, run = %run_id, agent = %started.details, "agent started");
    }

    /// The run's state in its executor changed (a batch job's PENDING, and
    /// why, then RUNNING): kept with the run, shown by `queue show`.
    pub(super) fn on_status(
        &mut self,
        id: &str,
        run_id: &str,
        state: String,
        reason: Option<String>,
    ) {
        let Some(live) = self.runs.live.get_mut(id).filter(|l| l.run.id == run_id) else {
            return;
        };
        if live.run.executor_state.as_ref() == Some(&state) && live.run.executor_reason == reason {
            return;
        }
        tracing::info!(work_order = %id, run = %run_id, %state, reason = ?reason, "executor state");
        live.run.executor_state = Some(state);
        live.run.executor_reason = reason;
        let run = live.run.clone();
        self.save_run(&run);
    }

    pub(super) fn fail_spawn(&mut self, id: &str, msg: String) {
        tracing::warn!(work_order = %id, error = %msg, "run could not start");
        let end = RunEnd {
            reason: EndReason::SpawnFailed,
            error: Some(msg),
            ..RunEnd::lost(String::new())
        };
        self.end_live(id, end);
    }

    /// The single place a run ends: one terminal state, written once, waiters
    /// answered, the slot freed.
    pub(super) fn end_live(&mut self, id: &str, end: RunEnd) {
        let Some(mut live) = self.runs.live.remove(id) else {
            return;
        };
        let (exit_code, signal) = match end.exit {
            Some(RunExit::Code(c)) => (Some(c), None),
            Some(RunExit::Signal(s)) => (None, Some(s)),
            None => (None, None),
        };
        let (status, result, error) = outcome(live.stop.as_ref(), &end);
        // When it ended, which may be long before now (while no daemon ran).
        let now = Timestamp(end.ended_at_ms).min(Timestamp::now());
        let had_process = live.agent_started;
        let mut durable = true;
        if let Some(mut wo) = self.copy_of(id) {
            if end.agent_result.is_some() {
                wo.agent_result = end.agent_result.clone();
            }
            // Read first: a write through `more` allocates it.
            if let Some(c) = end.changes
                && wo.more.worktree.is_some()
                && let Some(w) = wo.more.worktree.as_mut()
            {
                w.changes = Some(c);
            }
            match wo.finish(status, result, exit_code, signal, error.clone(), now) {
                Ok(()) => {
                    tracing::info!(work_order = %id, run = %live.run.id, status = %status, result = result.as_str(), exit_code = ?exit_code, signal = ?signal, error = ?error, peak_memory = ?end.peak_memory_bytes, cpu_ms = ?end.cpu_time_ms, "run ended");
                    durable = self.commit_event(wo);
                }
                Err(e) => tracing::error!(work_order = %id, error = %e, "cannot end run"),
            }
        }
        live.run.status = status;
        live.run.completed_at = Some(now);
        live.run.result = Some(result);
        live.run.exit_code = exit_code;
        live.run.signal = signal;
        live.run.error = error;
        live.run.peak_memory_bytes = end.peak_memory_bytes.or(live.run.peak_memory_bytes);
        live.run.cpu_time_ms = end.cpu_time_ms.or(live.run.cpu_time_ms);
        live.run.malformed_lines = (end.malformed_lines > 0).then_some(end.malformed_lines);
        live.run.changes = end.changes;
        self.save_run(&live.run);
        if let Some(intent) = live.stop {
            let duration_ms = intent.requested.elapsed().as_millis() as u64;
            for w in intent.waiters {
                match w {
                    StopWaiter::Cancel(r) => {
                        let _ = r.send(Ok(CancelOutcome {
                            id: id.to_string(),
                            status,
                            was_running: true,
                            killed: had_process,
                            durable,
                        }));
                    }
                    StopWaiter::Kill(r) => {
                        let _ = r.send(Ok(KillOutcome {
                            id: id.to_string(),
                            success: true,
                            forced_kill: intent.forced,
                            duration_ms,
                            status,
                            message: if had_process {
                                "process tree stopped".into()
                            } else {
                                "stopped before its process started".into()
                            },
                            already_ended: false,
                            durable,
                        }));
                    }
                }
            }
        }
        self.purge_stopped(id);
        self.schedule();
    }

    /// Ends a work order that has no live run (queued, or a legacy in-progress
    /// status with no process) directly.
    pub(crate) fn end_idle(
        &mut self,
        id: &str,
        result: ResultKind,
        error: String,
    ) -> Result<WorkOrder, ServiceError> {
        let mut wo = self.get(id)?.clone();
        wo.finish(
            Status::Canceled,
            result,
            None,
            None,
            Some(error),
            Timestamp::now(),
        )
        .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
        self.commit(wo.clone())?;
        tracing::info!(work_order = %id, result = result.as_str(), "canceled before it ran");
        Ok(wo)
    }
}

/// Status, result and error of a run that ended: the daemon's own stop
/// intent first, then one recorded with the run (a stop asked of it before a
/// restart), then how the run itself ended.
fn outcome(intent: Option<&StopIntent>, end: &RunEnd) -> (Status, ResultKind, Option<String>) {
    if let Some(i) = intent {
        return (i.status, i.result, Some(i.error.clone()));
    }
    if let Some(s) = &end.stop {
        return (s.status, s.result, Some(s.error.clone()));
    }
    let (status, result, error) = match end.reason {
        EndReason::Exited => match end.exit {
            // Exit 0 with the supervisor's objection (forbidden files left).
            Some(RunExit::Code(0)) if end.error.is_some() => {
                (Status::Failed, ResultKind::Exited, end.error.clone())
            }
            Some(RunExit::Code(0)) => (Status::Succeeded, ResultKind::Exited, None),
            // The supervisor may know better (a failed setup).
            Some(RunExit::Code(c)) => (
                Status::Failed,
                ResultKind::Exited,
                Some(
                    end.error
                        .clone()
                        .unwrap_or_else(|| format!("exited with code {c}")),
                ),
            ),
            Some(RunExit::Signal(s)) => (
                Status::Failed,
                ResultKind::Signaled,
                Some(format!("killed by {}", proc::signal_name(s))),
            ),
            None => (
                Status::Failed,
                ResultKind::Interrupted,
                Some("run ended without an exit status".into()),
            ),
        },
        EndReason::Timeout => (
            Status::Failed,
            ResultKind::Timeout,
            end.error.clone().or_else(|| Some("timed out".into())),
        ),
        EndReason::Stopped => (
            Status::Failed,
            ResultKind::Interrupted,
            end.error.clone().or_else(|| {
                Some("stopped by a SIGTERM to its supervisor from outside agentgate".into())
            }),
        ),
        EndReason::PrepareFailed | EndReason::SpawnFailed => {
            (Status::Failed, ResultKind::SpawnFailed, end.error.clone())
        }
        EndReason::Lost => (
            Status::Failed,
            ResultKind::Stale,
            end.error.clone().or_else(|| Some("supervisor lost".into())),
        ),
    };
    // The agent's own account of why it ended says more than its exit code
    // (Claude exits 1 on `error_max_turns`).
    let error = match end.agent_result.as_ref().and_then(|r| r.failure()) {
        Some(why) if status == Status::Failed && end.reason == EndReason::Exited => {
            Some(match error {
                Some(e) => format!("{why} ({e})"),
                None => why,
            })
        }
        _ => error,
    };
    if end.oom_kills > 0 && status == Status::Failed {
        let limit = end
            .memory_max
            .map(|m| format!(" (memory_max {})", format_size(m)))
            .unwrap_or_default();
        let why = format!(
            "out of memory: the run exceeded its memory limit{limit}; the kernel killed {} process{}",
            end.oom_kills,
            if end.oom_kills == 1 { "" } else { "es" }
        );
        let error = match error {
            Some(e) => format!("{why}; {e}"),
            None => why,
        };
        return (status, result, Some(error));
    }
    (status, result, error)
}
