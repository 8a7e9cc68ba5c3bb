//! The queue actor: the one task that owns every work order. Front doors,
//! process exits, timers and the stale detector all reach it as messages, so
//! cancel-vs-exit, double start and purge-vs-timeout cannot race: each work
//! order ends in exactly one terminal state, written once.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::executor::{Executor, ExitEvent, RunExit, RunHandle, RunSpec, stop_untracked};
use super::{health, process, workspace};
use crate::config::DaemonSettings;
use crate::model::work_order::{DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME, MAX_TIME_RANGE};
use crate::model::{
    ResultKind, Run, SharedWorkOrder, Status, Timestamp, WorkOrder, WorkspaceInput,
    WorkspaceSource, new_id, validate_id,
};
use crate::service::*;
use crate::store::{StorageReport, Store};

const DEFAULT_AGENT: &str = "claude-code-subscription";
const MAX_PROMPT_BYTES: usize = 512 * 1024;
/// Wait after a failed automatic start (a full or read-only disk) before the next.
const START_RETRY: Duration = Duration::from_secs(10);
/// Longest grace period a kill may ask for.
const MAX_GRACE_MS: u64 = 3_600_000;
/// `lastActivityAt` is persisted at most this often per work order.
const ACTIVITY_PERSIST_EVERY: Duration = Duration::from_secs(5);

struct Entry {
    wo: Arc<SharedWorkOrder>,
    /// Unknown fields from older data, written back unchanged.
    extra: Map<String, Value>,
}

/// Why a running work order is being stopped, and who waits for the outcome.
struct StopIntent {
    status: Status,
    result: ResultKind,
    error: String,
    requested: Instant,
    forced: bool,
    waiters: Vec<Waiter>,
}

enum Waiter {
    Cancel(Reply<CancelOutcome>),
    Kill(Reply<KillOutcome>),
}

/// A run in progress: preparing (no handle yet) or running.
struct Live {
    run: Run,
    handle: Option<RunHandle>,
    stop: Option<StopIntent>,
    started: Instant,
    timer: Option<JoinHandle<()>>,
    last_activity: Instant,
    last_activity_persisted: Instant,
    last_bytes: u64,
    last_cpu: u64,
    last_heartbeat: Option<SystemTime>,
    gone_checks: u32,
}

enum Event {
    Prepared {
        id: String,
        run_id: String,
        result: Result<RunSpec, String>,
    },
    Timeout {
        id: String,
        run_id: String,
    },
}

pub struct Actor {
    settings: Arc<DaemonSettings>,
    store: Store,
    executor: Arc<dyn Executor>,
    entries: HashMap<String, Entry>,
    /// Every work order by creation time; shares the `Arc` with `entries`, so a
    /// listing walks one map and copies pointers, not work orders.
    by_created: BTreeMap<(Timestamp, String), Arc<SharedWorkOrder>>,
    queued: BTreeSet<(Timestamp, String)>,
    counts: HashMap<Status, u64>,
    live: HashMap<String, Live>,
    last_start: Option<Instant>,
    accepting: bool,
    shutdown_waiters: Vec<Reply<()>>,
    stale_detections: VecDeque<Instant>,
    report: StorageReport,
    next_stale_check: Instant,
    exits_tx: mpsc::UnboundedSender<ExitEvent>,
    exits_rx: mpsc::UnboundedReceiver<ExitEvent>,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
    changes: broadcast::Sender<StatusChange>,
    /// MemAvailable as of the last tick: health is served from memory.
    mem_available: Option<u64>,
    /// The newest `createdAt` handed out or loaded.
    last_created: Timestamp,
    /// After a failed automatic start, none is tried before this.
    start_retry_at: Option<Instant>,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(e.to_string())
}

fn io_block<T>(f: impl FnOnce() -> T) -> T {
    // Durable writes block on fsync; let the runtime move other tasks away.
    tokio::task::block_in_place(f)
}

impl Actor {
    pub fn new(
        settings: Arc<DaemonSettings>,
        store: Store,
        executor: Arc<dyn Executor>,
        orders: Vec<(WorkOrder, Map<String, Value>)>,
        report: StorageReport,
        changes: broadcast::Sender<StatusChange>,
    ) -> Actor {
        let (exits_tx, exits_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let mut actor = Actor {
            next_stale_check: Instant::now() + settings.stale_check_interval,
            settings,
            store,
            executor,
            entries: HashMap::with_capacity(orders.len()),
            by_created: BTreeMap::new(),
            queued: BTreeSet::new(),
            counts: HashMap::new(),
            live: HashMap::new(),
            last_start: None,
            accepting: true,
            shutdown_waiters: Vec::new(),
            stale_detections: VecDeque::new(),
            report,
            exits_tx,
            exits_rx,
            events_tx,
            events_rx,
            changes,
            mem_available: process::mem_available(),
            last_created: Timestamp(0),
            start_retry_at: None,
        };
        for (wo, extra) in orders {
            actor.last_created = actor.last_created.max(wo.created_at);
            actor.apply(wo, Some(extra));
        }
        actor
    }

    /// Work orders found `running` after a restart: a live process (same pid and
    /// start time) has its group stopped; then all are failed as interrupted (or
    /// timeout, if their persisted `timeoutAt` has passed).
    pub async fn recover(&mut self) {
        let running: Vec<WorkOrder> = self
            .entries
            .values()
            .filter(|e| e.wo.status == Status::Running)
            .map(|e| WorkOrder::clone(&e.wo))
            .collect();
        let grace = self.settings.grace_period;
        let stops = running.iter().map(|wo| {
            let target = wo.pid.zip(wo.pid_start_time);
            async move {
                match target {
                    Some((pid, start)) => stop_untracked(pid, start, grace).await,
                    None => false,
                }
            }
        });
        let mut stopped = futures::future::join_all(stops).await;
        // An agent spawned just before a crash may not have its pid on disk yet,
        // and a child may have left its group: find them by the heartbeat path
        // every agent of this root gets in its environment, and stop them too.
        let markers: HashMap<Vec<u8>, usize> = running
            .iter()
            .enumerate()
            .filter_map(|(i, wo)| wo.current_run_id.as_ref().map(|r| (i, r)))
            .map(|(i, run_id)| {
                let path = self.store.heartbeat_path(run_id);
                let mut marker = b"AGENTGATE_HEARTBEAT_FILE=".to_vec();
                marker.extend_from_slice(path.as_os_str().as_encoded_bytes());
                (marker, i)
            })
            .collect();
        let strays = if markers.is_empty() {
            Vec::new()
        } else {
            find_strays(&markers)
        };
        let stray_stops = strays.iter().map(|&(pid, pgid, start, _)| async move {
            if pgid == pid {
                stop_untracked(pid as u32, start, grace).await
            } else {
                process::same_process(pid as u32, start)
                    && nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    )
                    .is_ok()
            }
        });
        let stray_stopped = futures::future::join_all(stray_stops).await;
        for (&(pid, _, _, i), was_alive) in strays.iter().zip(stray_stopped) {
            if was_alive {
                tracing::warn!(work_order = %running[i].id, pid, "stopped an agent process the store did not track");
                stopped[i] = true;
            }
        }
        /// Live processes (pid, pgid, start time, index) whose environment holds
        /// one of `markers`.
        fn find_strays(markers: &HashMap<Vec<u8>, usize>) -> Vec<(i32, i32, u64, usize)> {
            let me = std::process::id() as i32;
            let Ok(all) = procfs::process::all_processes() else {
                return Vec::new();
            };
            let mut found = Vec::new();
            for p in all.flatten() {
                let Ok(stat) = p.stat() else { continue };
                if stat.pid == me || matches!(stat.state, 'Z' | 'X') {
                    continue;
                }
                let Ok(env) = std::fs::read(format!("/proc/{}/environ", stat.pid)) else {
                    continue;
                };
                if let Some(&i) = env.split(|&b| b == 0).find_map(|var| markers.get(var)) {
                    found.push((stat.pid, stat.pgrp, stat.starttime, i));
                }
            }
            found
        }
        let now = Timestamp::now();
        for (mut wo, was_alive) in running.into_iter().zip(stopped) {
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
            tracing::warn!(work_order = %wo.id, run = ?wo.current_run_id, pid = ?wo.pid, was_alive, result = result.as_str(), "recovering work order left running");
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
                    let _ = self.store.save_run(&run);
                }
            }
        }
    }

    /// Serves until shutdown completes.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.schedule();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut wake: Option<Instant> = None;
        loop {
            tokio::select! {
                Some(cmd) = commands.recv() => self.handle(cmd),
                Some(ev) = self.exits_rx.recv() => self.on_exit(ev),
                Some(ev) = self.events_rx.recv() => self.on_event(ev),
                _ = tick.tick() => {
                    self.mem_available = process::mem_available();
                    self.schedule();
                    if self.settings.stale_check && Instant::now() >= self.next_stale_check {
                        self.next_stale_check = Instant::now() + self.settings.stale_check_interval;
                        self.stale_check();
                    }
                }
                _ = sleep_opt(wake) => self.schedule(),
            }
            if !self.accepting && self.live.is_empty() && !self.shutdown_waiters.is_empty() {
                for w in self.shutdown_waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
                tracing::info!("queue actor stopped");
                return;
            }
            // Stagger: wake exactly when the next start becomes allowed.
            wake = self.stagger_wake();
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Submit(req, r) => {
                let out = self.submit(req);
                let _ = r.send(out);
                self.schedule();
            }
            Command::List(q, r) => {
                let _ = r.send(Ok(self.list(q)));
            }
            Command::Show(id, r) => {
                let _ = r.send(self.show(&id));
            }
            Command::GetRun(id, r) => {
                let _ = r.send(self.get_run(&id));
            }
            Command::Cancel(id, r) => self.cancel(id, r),
            Command::Kill(req, r) => self.kill(req, r),
            Command::PurgePlan(req, r) => {
                let _ = r.send(self.purge_plan(req));
            }
            Command::PurgeDelete(ids, r) => {
                let _ = r.send(self.purge_delete(ids));
            }
            Command::Health(r) => {
                let _ = r.send(Ok(self.health()));
            }
            Command::Start(id, r) => {
                let out = self.start_run(&id, true);
                let _ = r.send(out);
            }
            Command::Shutdown(r) => self.shutdown(r),
        }
    }

    // ---- state bookkeeping -------------------------------------------------

    /// Puts a work order into memory and keeps the indexes in step.
    fn apply(&mut self, wo: WorkOrder, extra: Option<Map<String, Value>>) {
        let wo = Arc::new(SharedWorkOrder::new(wo));
        let key = (wo.created_at, wo.id.clone());
        let old = self.entries.get(&wo.id).map(|e| e.wo.status);
        if let Some(old) = old {
            if let Some(c) = self.counts.get_mut(&old) {
                *c = c.saturating_sub(1);
            }
            if old == Status::Queued {
                self.queued.remove(&key);
            }
        }
        self.by_created.insert(key.clone(), wo.clone());
        *self.counts.entry(wo.status).or_default() += 1;
        if old.is_some_and(|o| o != wo.status) {
            let _ = self.changes.send(StatusChange {
                id: wo.id.clone(),
                status: Some(wo.status),
            });
        }
        if wo.status == Status::Queued {
            self.queued.insert(key);
        }
        match self.entries.get_mut(&wo.id) {
            Some(e) => {
                e.wo = wo;
                if let Some(x) = extra {
                    e.extra = x;
                }
            }
            None => {
                self.entries.insert(
                    wo.id.clone(),
                    Entry {
                        wo,
                        extra: extra.unwrap_or_default(),
                    },
                );
            }
        }
    }

    fn remove(&mut self, id: &str) {
        if let Some(e) = self.entries.remove(id) {
            let key = (e.wo.created_at, e.wo.id.clone());
            self.by_created.remove(&key);
            self.queued.remove(&key);
            if let Some(c) = self.counts.get_mut(&e.wo.status) {
                *c = c.saturating_sub(1);
            }
            let _ = self.changes.send(StatusChange {
                id: id.to_string(),
                status: None,
            });
        }
    }

    fn persist(&self, wo: &WorkOrder) -> Result<(), ServiceError> {
        let empty = Map::new();
        let extra = self.entries.get(&wo.id).map(|e| &e.extra).unwrap_or(&empty);
        io_block(|| self.store.save_work_order(wo, extra)).map_err(|e| {
            tracing::error!(work_order = %wo.id, error = %e, "persisting work order failed");
            internal(e)
        })
    }

    /// A change a client asked for: written first, applied only if the write
    /// succeeded, so a failed write leaves memory unchanged.
    fn commit(&mut self, wo: WorkOrder) -> Result<(), ServiceError> {
        self.persist(&wo)?;
        self.apply(wo, None);
        Ok(())
    }

    /// A change that already happened (a process exited): memory follows the
    /// facts even if the disk write fails (logged).
    fn commit_event(&mut self, wo: WorkOrder) {
        let _ = self.persist(&wo);
        self.apply(wo, None);
    }

    fn get(&self, id: &str) -> Result<&WorkOrder, ServiceError> {
        validate_id(id).map_err(|e| ServiceError::bad_request("id", e.to_string()))?;
        self.entries
            .get(id)
            .map(|e| &**e.wo)
            .ok_or_else(|| ServiceError::not_found(id))
    }

    // ---- submit / list / show ------------------------------------------------

    fn submit(&mut self, req: SubmitRequest) -> Result<WorkOrder, ServiceError> {
        if !self.accepting {
            return Err(ServiceError::unavailable(
                "the daemon is shutting down and not accepting work",
            ));
        }
        if req.task_prompt.trim().is_empty() {
            return Err(ServiceError::bad_request(
                "taskPrompt",
                "taskPrompt is too short: it must not be empty",
            ));
        }
        if req.task_prompt.len() > MAX_PROMPT_BYTES {
            return Err(ServiceError::bad_request(
                "taskPrompt",
                format!("taskPrompt is too long: at most {MAX_PROMPT_BYTES} bytes"),
            ));
        }
        let agent_type = req.agent_type.unwrap_or_else(|| DEFAULT_AGENT.to_string());
        if !self.settings.agents.contains_key(&agent_type) {
            let known: Vec<&str> = self.settings.agents.keys().map(String::as_str).collect();
            return Err(ServiceError::bad_request(
                "agentType",
                format!(
                    "unknown agent type {agent_type:?}; known: {} (add more under [agents.NAME] in the config file)",
                    known.join(", ")
                ),
            ));
        }
        let input = req.workspace_source.ok_or_else(|| {
            ServiceError::bad_request(
                "workspaceSource",
                format!(
                    "workspaceSource is required; {}",
                    crate::model::workspace::ACCEPTED_FORMS
                ),
            )
        })?;
        let source = normalise_source(&input, self.settings.github_owner.as_deref())?;
        let max_time = req.max_time.unwrap_or(DEFAULT_MAX_TIME);
        if !MAX_TIME_RANGE.contains(&max_time) {
            return Err(ServiceError::bad_request(
                "maxTime",
                format!(
                    "maxTime {max_time} is out of range: {}-{} seconds",
                    MAX_TIME_RANGE.start(),
                    MAX_TIME_RANGE.end()
                ),
            ));
        }
        let max_iterations = req.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS);
        if !(1..=10_000).contains(&max_iterations) {
            return Err(ServiceError::bad_request(
                "maxIterations",
                "maxIterations must be between 1 and 10000",
            ));
        }
        let mut id = new_id();
        while self.entries.contains_key(&id) {
            id = new_id();
        }
        let wo = WorkOrder::new_queued(
            id,
            req.task_prompt,
            agent_type,
            source,
            max_time,
            max_iterations,
            self.next_created_at(),
        );
        tracing::info!(work_order = %wo.id, agent = %wo.agent_type, "submitted");
        // A free slot and nobody ahead: store it already running, one durable
        // write on the submit-to-running path instead of two.
        if self.queued.is_empty() && self.admission_open() {
            let id = wo.id.clone();
            self.begin_run(wo, false)?;
            return self.get(&id).cloned();
        }
        self.commit(wo.clone())?;
        Ok(wo)
    }

    /// A creation time later than every other: two submits in the same
    /// millisecond still list newest-first and start FIFO in submission order.
    fn next_created_at(&mut self) -> Timestamp {
        let t = Timestamp::now().max(self.last_created.plus_millis(1));
        self.last_created = t;
        t
    }

    fn list(&self, q: ListQuery) -> ListPage {
        let filter = |wo: &WorkOrder| q.statuses.is_empty() || q.statuses.contains(&wo.status);
        let total: u64 = if q.statuses.is_empty() {
            self.entries.len() as u64
        } else {
            let mut wanted = q.statuses.clone();
            wanted.sort();
            wanted.dedup();
            wanted
                .iter()
                .map(|s| self.counts.get(s).copied().unwrap_or(0))
                .sum()
        };
        let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
        let items: Vec<Arc<SharedWorkOrder>> = self
            .by_created
            .values()
            .rev()
            .filter(|wo| filter(wo))
            .skip(q.offset as usize)
            .take(limit)
            .cloned()
            .collect();
        let has_more = (q.offset as u64 + items.len() as u64) < total;
        ListPage {
            limit: q.limit.unwrap_or(total.min(u32::MAX as u64) as u32),
            items,
            total,
            offset: q.offset,
            has_more,
        }
    }

    fn run_record(&self, run_id: &str) -> Option<Run> {
        self.live
            .values()
            .find(|l| l.run.id == run_id)
            .map(|l| l.run.clone())
            .or_else(|| self.store.load_run(run_id))
    }

    fn show(&self, id: &str) -> Result<WorkOrderDetail, ServiceError> {
        let wo = self.get(id)?.clone();
        let runs = wo
            .run_ids
            .iter()
            .filter_map(|r| self.run_record(r))
            .collect();
        Ok(WorkOrderDetail {
            work_order: wo,
            runs,
        })
    }

    fn get_run(&self, run_id: &str) -> Result<Run, ServiceError> {
        validate_id(run_id).map_err(|e| ServiceError::bad_request("id", e.to_string()))?;
        self.run_record(run_id).ok_or_else(|| {
            ServiceError::new(ErrorCode::NotFound, format!("no run with id {run_id:?}"))
        })
    }

    // ---- scheduling ----------------------------------------------------------

    fn stagger_wake(&self) -> Option<Instant> {
        if !self.settings.auto_process || !self.accepting || self.queued.is_empty() {
            return None;
        }
        if self.live.len() >= self.settings.max_concurrent {
            return None;
        }
        let at = self.last_start? + self.settings.stagger_delay;
        (at > Instant::now()).then_some(at)
    }

    /// Whether an automatic start may happen now: a free slot, the stagger delay
    /// elapsed, enough memory, auto-processing on.
    fn admission_open(&self) -> bool {
        if !self.settings.auto_process || !self.accepting {
            return false;
        }
        if self.live.len() >= self.settings.max_concurrent {
            return false;
        }
        if self.start_retry_at.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        if let Some(last) = self.last_start
            && last.elapsed() < self.settings.stagger_delay
        {
            return false;
        }
        if let Some(avail) = process::mem_available()
            && avail < self.settings.min_memory
        {
            tracing::debug!(
                available = avail,
                minimum = self.settings.min_memory,
                "not starting work: low memory"
            );
            return false;
        }
        true
    }

    /// Event-driven admission: runs after submit, exit, cancel, and on the tick.
    fn schedule(&mut self) {
        if !self.settings.auto_process || !self.accepting {
            return;
        }
        while let Some((_, id)) = self.queued.first().cloned() {
            if !self.admission_open() {
                return;
            }
            if let Err(e) = self.start_run(&id, false) {
                // Typically the disk (full, read-only): retry later rather than
                // every tick; a manual `queue start` is not held back.
                tracing::error!(work_order = %id, error = %e, retry_in_s = START_RETRY.as_secs(), "automatic start failed");
                self.start_retry_at = Some(Instant::now() + START_RETRY);
                return;
            }
        }
    }

    fn start_run(&mut self, id: &str, manual: bool) -> Result<StartOutcome, ServiceError> {
        let wo = self.get(id)?.clone();
        if !self.accepting {
            return Err(ServiceError::unavailable(
                "the daemon is shutting down and not starting work",
            ));
        }
        if self.live.contains_key(id) || !matches!(wo.status, Status::Queued | Status::Failed) {
            return Err(ServiceError::invalid_state(format!(
                "work order {id} is {}; only queued or failed work orders can be started",
                wo.status
            )));
        }
        if self.live.len() >= self.settings.max_concurrent {
            return Err(ServiceError::invalid_state(format!(
                "concurrency limit reached ({} of {} running); wait for one to finish or raise --max-concurrent",
                self.live.len(),
                self.settings.max_concurrent
            )));
        }
        self.begin_run(wo, manual)
    }

    /// Moves a work order (as held, or just built by submit and not yet stored)
    /// to running with one durable write, then prepares and spawns its run.
    fn begin_run(&mut self, mut wo: WorkOrder, manual: bool) -> Result<StartOutcome, ServiceError> {
        let id = wo.id.clone();
        let now = Timestamp::now();
        let run_id = new_id();
        wo.transition(Status::Running, now).map_err(internal)?;
        wo.run_count += 1;
        wo.current_run_id = Some(run_id.clone());
        wo.run_ids.push(run_id.clone());
        wo.timeout_at = Some(now.plus_millis(wo.max_time as i64 * 1000));
        let run = Run::begun(run_id.clone(), wo.id.clone(), Status::Running, now);
        // The log files need the directory now; run.json is written once the
        // process exists (with its pid), keeping one fsync pair off the path.
        let run_dir = self.store.run_dir(&run_id);
        std::fs::create_dir_all(&run_dir)
            .map_err(|e| internal(format!("cannot create {}: {e}", run_dir.display())))?;
        if let Err(e) = self.commit(wo.clone()) {
            let _ = std::fs::remove_dir_all(self.store.run_dir(&run_id));
            return Err(e);
        }
        tracing::info!(work_order = %id, run = %run_id, manual, "starting run");
        let started = Instant::now();
        self.last_start = Some(started);
        self.live.insert(
            id.clone(),
            Live {
                run,
                handle: None,
                stop: None,
                started,
                timer: None,
                last_activity: started,
                last_activity_persisted: started,
                last_bytes: 0,
                last_cpu: 0,
                last_heartbeat: None,
                gone_checks: 0,
            },
        );
        self.spawn_prepare(wo.clone(), run_id.clone());
        Ok(StartOutcome {
            id,
            run_id,
            status: Status::Running,
            started_at: now,
        })
    }

    /// Workspace preparation (a clone can take long) runs off the actor.
    fn spawn_prepare(&self, wo: WorkOrder, run_id: String) {
        let Some(agent) = self.settings.agents.get(&wo.agent_type).cloned() else {
            let _ = self.events_tx.send(Event::Prepared {
                id: wo.id.clone(),
                run_id,
                result: Err(format!("unknown agent type {:?}", wo.agent_type)),
            });
            return;
        };
        let clone_dir = self.store.workspace_clone_dir(&wo.id);
        let base = self.settings.github_base_url.clone();
        let stdout = self.store.log_path(&run_id, false);
        let stderr = self.store.log_path(&run_id, true);
        let heartbeat = self.store.heartbeat_path(&run_id);
        let tx = self.events_tx.clone();
        tokio::spawn(async move {
            let result = workspace::prepare(&wo, &clone_dir, &base).await.map(|dir| {
                let argv = workspace::command_line(&agent, &wo, &dir, &run_id);
                let mut env: Vec<(String, String)> = agent.env.clone().into_iter().collect();
                env.push(("AGENTGATE_WORK_ORDER_ID".into(), wo.id.clone()));
                env.push(("AGENTGATE_RUN_ID".into(), run_id.clone()));
                env.push((
                    "AGENTGATE_WORKSPACE".into(),
                    dir.to_string_lossy().into_owned(),
                ));
                env.push((
                    "AGENTGATE_HEARTBEAT_FILE".into(),
                    heartbeat.to_string_lossy().into_owned(),
                ));
                RunSpec {
                    work_order_id: wo.id.clone(),
                    run_id: run_id.clone(),
                    argv,
                    env,
                    cwd: dir,
                    stdout,
                    stderr,
                }
            });
            let _ = tx.send(Event::Prepared {
                id: wo.id,
                run_id,
                result,
            });
        });
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Prepared { id, run_id, result } => self.on_prepared(id, run_id, result),
            Event::Timeout { id, run_id } => self.on_timeout(id, run_id),
        }
    }

    fn on_prepared(&mut self, id: String, run_id: String, result: Result<RunSpec, String>) {
        let Some(live) = self.live.get_mut(&id).filter(|l| l.run.id == run_id) else {
            return;
        };
        if live.stop.is_some() {
            // Canceled (or shut down) while preparing: it never starts.
            self.end_live(&id, None);
            return;
        }
        let spec = match result {
            Ok(spec) => spec,
            Err(msg) => {
                self.fail_spawn(&id, msg);
                return;
            }
        };
        live.run.workspace = Some(spec.cwd.to_string_lossy().into_owned());
        match self.executor.start(spec, self.exits_tx.clone()) {
            Err(e) => self.fail_spawn(&id, e.to_string()),
            Ok(handle) => {
                let pid = handle.pid;
                let start_time = handle.start_time;
                live.run.pid = Some(pid);
                live.run.pid_start_time = start_time;
                live.handle = Some(handle);
                let run = live.run.clone();
                let timer = self
                    .entries
                    .get(&id)
                    .and_then(|e| e.wo.timeout_at)
                    .map(|t| {
                        let wait = Duration::from_millis(
                            (t.millis() - Timestamp::now().millis()).max(0) as u64,
                        );
                        let tx = self.events_tx.clone();
                        let (id, run_id) = (id.clone(), run_id.clone());
                        tokio::spawn(async move {
                            tokio::time::sleep(wait).await;
                            let _ = tx.send(Event::Timeout { id, run_id });
                        })
                    });
                if let Some(live) = self.live.get_mut(&id) {
                    live.timer = timer;
                }
                if let Some(mut wo) = self.entries.get(&id).map(|e| WorkOrder::clone(&e.wo)) {
                    wo.pid = Some(pid);
                    wo.pid_start_time = start_time;
                    wo.updated_at = Timestamp::now();
                    self.commit_event(wo);
                }
                let _ = io_block(|| self.store.save_run(&run));
                tracing::info!(work_order = %id, run = %run_id, pid, "agent started");
            }
        }
    }

    fn fail_spawn(&mut self, id: &str, msg: String) {
        tracing::warn!(work_order = %id, error = %msg, "run could not start");
        if let Some(live) = self.live.get_mut(id) {
            live.stop = Some(StopIntent {
                status: Status::Failed,
                result: ResultKind::SpawnFailed,
                error: msg,
                requested: Instant::now(),
                forced: false,
                waiters: vec![],
            });
        }
        self.end_live(id, None);
    }

    fn on_timeout(&mut self, id: String, run_id: String) {
        if self.live.get(&id).is_none_or(|l| l.run.id != run_id) {
            return;
        }
        let max_time = self.entries.get(&id).map(|e| e.wo.max_time).unwrap_or(0);
        tracing::warn!(work_order = %id, run = %run_id, max_time, "timed out; stopping");
        self.request_stop(
            &id,
            Status::Failed,
            ResultKind::Timeout,
            format!("timed out after {max_time}s"),
            None,
            None,
        );
    }

    // ---- stopping ------------------------------------------------------------

    /// Records why a live run is stopping (the first reason wins) and signals its
    /// group; `grace` `None` = the daemon's grace period, zero = SIGKILL now.
    fn request_stop(
        &mut self,
        id: &str,
        status: Status,
        result: ResultKind,
        error: String,
        grace: Option<Duration>,
        waiter: Option<Waiter>,
    ) {
        let grace = grace.unwrap_or(self.settings.grace_period);
        let Some(live) = self.live.get_mut(id) else {
            return;
        };
        let intent = live.stop.get_or_insert_with(|| StopIntent {
            status,
            result,
            error,
            requested: Instant::now(),
            forced: false,
            waiters: vec![],
        });
        intent.forced |= grace.is_zero();
        if let Some(w) = waiter {
            intent.waiters.push(w);
        }
        if let Some(handle) = &live.handle {
            self.executor.stop(handle, grace);
        }
    }

    fn on_exit(&mut self, ev: ExitEvent) {
        if self
            .live
            .get(&ev.work_order_id)
            .is_none_or(|l| l.run.id != ev.run_id)
        {
            tracing::warn!(work_order = %ev.work_order_id, run = %ev.run_id, "exit of an unknown run ignored");
            return;
        }
        self.end_live(&ev.work_order_id, Some(ev.exit));
    }

    /// The single place a run ends: one terminal state, written once, waiters
    /// answered, the slot freed.
    fn end_live(&mut self, id: &str, exit: Option<RunExit>) {
        let Some(mut live) = self.live.remove(id) else {
            return;
        };
        if let Some(t) = live.timer.take() {
            t.abort();
        }
        let (exit_code, signal) = match exit {
            Some(RunExit::Code(c)) => (Some(c), None),
            Some(RunExit::Signal(s)) => (None, Some(s)),
            None => (None, None),
        };
        let (status, result, error) = match live.stop.as_ref() {
            Some(i) => (i.status, i.result, Some(i.error.clone())),
            None => match exit {
                Some(RunExit::Code(0)) => (Status::Succeeded, ResultKind::Exited, None),
                Some(RunExit::Code(c)) => (
                    Status::Failed,
                    ResultKind::Exited,
                    Some(format!("exited with code {c}")),
                ),
                Some(RunExit::Signal(s)) => (
                    Status::Failed,
                    ResultKind::Signaled,
                    Some(format!("killed by {}", process::signal_name(s))),
                ),
                None => (
                    Status::Failed,
                    ResultKind::Interrupted,
                    Some("run ended without an exit status".into()),
                ),
            },
        };
        let now = Timestamp::now();
        let had_process = live.handle.is_some();
        if let Some(mut wo) = self.entries.get(id).map(|e| WorkOrder::clone(&e.wo)) {
            let pid = wo.pid;
            match wo.finish(status, result, exit_code, signal, error.clone(), now) {
                Ok(()) => {
                    tracing::info!(work_order = %id, run = %live.run.id, pid = ?pid, status = %status, result = result.as_str(), exit_code = ?exit_code, signal = ?signal, error = ?error, "run ended");
                    self.commit_event(wo);
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
        if let Err(e) = io_block(|| self.store.save_run(&live.run)) {
            tracing::error!(run = %live.run.id, error = %e, "persisting run record failed");
        }
        if let Some(intent) = live.stop {
            let duration_ms = intent.requested.elapsed().as_millis() as u64;
            for w in intent.waiters {
                match w {
                    Waiter::Cancel(r) => {
                        let _ = r.send(Ok(CancelOutcome {
                            id: id.to_string(),
                            status,
                            was_running: true,
                            killed: had_process,
                        }));
                    }
                    Waiter::Kill(r) => {
                        let _ = r.send(Ok(KillOutcome {
                            id: id.to_string(),
                            success: true,
                            forced_kill: intent.forced,
                            duration_ms,
                            status,
                            message: if had_process {
                                "process group stopped".into()
                            } else {
                                "stopped before its process started".into()
                            },
                        }));
                    }
                }
            }
        }
        self.schedule();
    }

    /// Ends a work order that has no live run (queued, or a legacy in-progress
    /// status with no process) directly.
    fn end_idle(
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

    fn cancel(&mut self, id: String, reply: Reply<CancelOutcome>) {
        let status = match self.get(&id) {
            Ok(wo) => wo.status,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if self.live.contains_key(&id) {
            self.request_stop(
                &id,
                Status::Canceled,
                ResultKind::Canceled,
                "canceled by user".into(),
                None,
                Some(Waiter::Cancel(reply)),
            );
            return;
        }
        if status.is_terminal() {
            let _ = reply.send(Err(ServiceError::invalid_state(format!(
                "work order {id} already {status}; nothing to cancel"
            ))));
            return;
        }
        let out = self
            .end_idle(&id, ResultKind::Canceled, "canceled by user".into())
            .map(|wo| CancelOutcome {
                id: id.clone(),
                status: wo.status,
                was_running: false,
                killed: false,
            });
        let _ = reply.send(out);
        self.schedule();
    }

    fn kill(&mut self, req: KillRequest, reply: Reply<KillOutcome>) {
        let status = match self.get(&req.id) {
            Ok(wo) => wo.status,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let reason = req
            .reason
            .filter(|r| !r.trim().is_empty())
            .map(|r| format!("killed by user: {r}"))
            .unwrap_or_else(|| "killed by user".into());
        let grace = match req.grace_ms {
            _ if req.force => Duration::ZERO,
            Some(ms) if ms > MAX_GRACE_MS => {
                let _ = reply.send(Err(ServiceError::bad_request(
                    "gracePeriodMs",
                    format!("grace period {ms} ms is too long: at most {MAX_GRACE_MS} ms (1h)"),
                )));
                return;
            }
            Some(ms) => Duration::from_millis(ms),
            None => self.settings.grace_period,
        };
        if self.live.contains_key(&req.id) {
            tracing::info!(work_order = %req.id, force = req.force, grace_ms = grace.as_millis() as u64, "kill requested");
            self.request_stop(
                &req.id,
                Status::Canceled,
                ResultKind::Killed,
                reason,
                Some(grace),
                Some(Waiter::Kill(reply)),
            );
            return;
        }
        if status.is_terminal() {
            let _ = reply.send(Err(ServiceError::invalid_state(format!(
                "work order {} already {status}; nothing to kill",
                req.id
            ))));
            return;
        }
        let out = self
            .end_idle(&req.id, ResultKind::Killed, reason)
            .map(|wo| KillOutcome {
                id: req.id.clone(),
                success: true,
                forced_kill: req.force,
                duration_ms: 0,
                status: wo.status,
                message: "no process was running; canceled before it started".into(),
            });
        let _ = reply.send(out);
        self.schedule();
    }

    // ---- purge -----------------------------------------------------------------

    fn purge_plan(&self, req: PurgeRequest) -> Result<Vec<String>, ServiceError> {
        if !req.ids.is_empty() {
            for id in &req.ids {
                self.get(id)?;
            }
            let mut ids = req.ids.clone();
            ids.dedup();
            return Ok(ids);
        }
        let cutoff = req
            .older_than_ms
            .map(|ms| Timestamp::now().plus_millis(-(ms.min(i64::MAX as u64) as i64)));
        Ok(self
            .by_created
            .values()
            .filter(|wo| {
                if req.statuses.is_empty() {
                    wo.status.is_terminal()
                } else {
                    req.statuses.contains(&wo.status)
                }
            })
            .filter(|wo| cutoff.is_none_or(|c| wo.created_at < c))
            .map(|wo| wo.id.clone())
            .collect())
    }

    fn purge_delete(&mut self, ids: Vec<String>) -> Result<Vec<String>, ServiceError> {
        let mut deleted = Vec::new();
        let mut failure = None;
        for id in ids {
            let Some(e) = self.entries.get(&id) else {
                continue;
            };
            if self.live.contains_key(&id) || !e.wo.status.is_terminal() {
                tracing::warn!(work_order = %id, status = %e.wo.status, "not purged: still in progress");
                continue;
            }
            match io_block(|| self.store.delete_work_order(&e.wo)) {
                Ok(()) => {
                    tracing::info!(work_order = %id, "purged");
                    self.remove(&id);
                    deleted.push(id);
                }
                Err(err) => {
                    tracing::error!(work_order = %id, error = %err, "purge failed");
                    failure = Some(err);
                }
            }
        }
        match failure {
            Some(e) if deleted.is_empty() => Err(internal(e)),
            _ => Ok(deleted),
        }
    }

    // ---- shutdown ----------------------------------------------------------------

    fn shutdown(&mut self, reply: Reply<()>) {
        if self.accepting {
            tracing::info!(
                running = self.live.len(),
                "shutting down: stopping running work"
            );
        }
        self.accepting = false;
        self.shutdown_waiters.push(reply);
        let ids: Vec<String> = self.live.keys().cloned().collect();
        for id in ids {
            self.request_stop(
                &id,
                Status::Failed,
                ResultKind::Interrupted,
                "daemon shut down while it ran".into(),
                None,
                None,
            );
        }
    }

    // ---- stale detection and health ------------------------------------------------

    fn stale_check(&mut self) {
        let now = Instant::now();
        let threshold = self.settings.stale_threshold;
        let max_running = self.settings.max_running_time;
        let mut detections: Vec<(String, String, bool)> = Vec::new();
        // (id, persist now?) for work that showed activity since the last check.
        let mut touched: Vec<(String, bool)> = Vec::new();
        for (id, live) in self.live.iter_mut() {
            let Some(handle) = &live.handle else { continue };
            if live.stop.is_some() {
                continue;
            }
            let act = self.executor.probe(handle);
            if !act.alive {
                live.gone_checks += 1;
                if live.gone_checks >= 2 {
                    detections.push((
                        id.clone(),
                        "process gone but no exit was observed".into(),
                        true,
                    ));
                }
                continue;
            }
            live.gone_checks = 0;
            let bytes = file_len(&self.store.log_path(&live.run.id, false))
                + file_len(&self.store.log_path(&live.run.id, true));
            let hb = std::fs::metadata(self.store.heartbeat_path(&live.run.id))
                .and_then(|m| m.modified())
                .ok();
            if bytes != live.last_bytes
                || act.cpu_ticks != live.last_cpu
                || hb != live.last_heartbeat
            {
                live.last_bytes = bytes;
                live.last_cpu = act.cpu_ticks;
                live.last_heartbeat = hb;
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
                    id.clone(),
                    format!(
                        "no activity (output, CPU time or heartbeat) for {}s",
                        idle.as_secs()
                    ),
                    false,
                ));
            } else if now.duration_since(live.started) >= max_running {
                detections.push((
                    id.clone(),
                    format!(
                        "running longer than max_running_time ({}s)",
                        max_running.as_secs()
                    ),
                    false,
                ));
            }
        }
        // lastActivityAt is current in memory at every check, and written at
        // most every few seconds (not per byte of output).
        for (id, persist) in touched {
            if let Some(mut wo) = self.entries.get(&id).map(|e| WorkOrder::clone(&e.wo)) {
                wo.last_activity_at = Some(Timestamp::now());
                if persist {
                    self.commit_event(wo);
                } else {
                    self.apply(wo, None);
                }
            }
        }
        for (id, reason, gone) in detections {
            tracing::warn!(work_order = %id, %reason, "stale work order detected");
            self.stale_detections.push_back(now);
            self.request_stop(
                &id,
                Status::Failed,
                ResultKind::Stale,
                format!("stale: {reason}"),
                None,
                None,
            );
            if gone {
                self.end_live(&id, None);
            }
        }
        while self
            .stale_detections
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(3600))
        {
            self.stale_detections.pop_front();
        }
    }

    fn health(&self) -> Health {
        let running_ages: Vec<(String, u64)> = self
            .live
            .iter()
            .map(|(id, l)| (id.clone(), l.started.elapsed().as_millis() as u64))
            .collect();
        health::compute(health::Inputs {
            counts: &self.counts,
            running_ages,
            settings: &self.settings,
            accepting: self.accepting,
            stale_detections: self.stale_detections.len() as u64,
            storage: self.report.clone(),
            available_memory: self.mem_available,
        })
    }
}

fn normalise_source(
    input: &WorkspaceInput,
    default_owner: Option<&str>,
) -> Result<WorkspaceSource, ServiceError> {
    let source = input
        .normalise(default_owner)
        .map_err(|e| ServiceError::bad_request("workspaceSource", e.to_string()))?;
    if let WorkspaceSource::Local { path } = &source
        && !std::path::Path::new(path).is_dir()
    {
        return Err(ServiceError::bad_request(
            "workspaceSource.path",
            format!("local workspace directory {path} does not exist"),
        ));
    }
    Ok(source)
}

fn file_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
