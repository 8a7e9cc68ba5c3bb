//! The queue actor: the one task that owns every work order. Front doors,
//! executor events, timers and the stale detector all reach it as messages,
//! so cancel-vs-exit, double start and purge-vs-timeout cannot race: each work
//! order ends in exactly one terminal state, written once.
//!
//! State: `tables` (work orders by id and by creation), `state` (queued
//! work, pending writes, live runs, shutdown, stale detector: each a type
//! with its own methods). A change goes to disk, then into the tables
//! (`index::apply`, nothing else), then what follows it is an explicit step
//! (`index::after_change`: followers, hooks, dependents).
//!
//! One file per reason to change: `index` (memory, indexes, commits, ids),
//! `intake` (a new work order enters: queued, or started at once),
//! `deps` (`--after`: waiting, releasing, cancelling dependents),
//! `admission` (when queued work starts, and why it waits), `tuning` (pause
//! and live settings), `lifecycle` (runs from launch to end), `stop` (cancel,
//! kill, every stop, shutdown), `stale`
//! (the stale detector), `purge` (removal), `recovery` (adoption after a
//! restart), `health` (the facts it is judged from).
//!
//! What each operation does is in its module under `crate::ops`, built on
//! the primitives these files offer; nothing here knows a request type.

mod admission;
mod confine;
mod deps;
pub(crate) use deps::canceled_by_dependency;
pub mod health;
mod index;
mod intake;
mod journal;
mod lifecycle;
mod pending;
mod purge;
mod recovery;
mod retention;
mod stale;
mod state;
mod stop;
mod tables;
pub mod tuning;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use crate::config::DaemonSettings;
use crate::executor::{Activity, AgentDetails, Capabilities, ExecEvent, ExecHandle, Executor};
use crate::model::{ExecutorKind, ResultKind, Run, Status, Timestamp, WorkOrder};
use crate::service::*;
use crate::store::trash::Trash;
use crate::store::{LoadedExtra, StorageReport, Store};
use crate::sys::proc;
use tables::{ByCreated, Entries, Entry};

/// Work orders read at start, with the fields this daemon does not know,
/// and what reading them found.
pub type Loaded = (Vec<(WorkOrder, LoadedExtra)>, StorageReport);

use state::QueueKey;

fn queue_key(wo: &WorkOrder) -> QueueKey {
    (Reverse(wo.priority), wo.created_at, wo.id.clone())
}

/// The text form of `Entry::extra`.
fn extra_text(extra: &Map<String, Value>) -> Option<Box<str>> {
    if extra.is_empty() {
        return None;
    }
    serde_json::to_string(extra)
        .ok()
        .map(String::into_boxed_str)
}

/// Why a running work order is being stopped, and who waits for the outcome.
struct StopIntent {
    status: Status,
    result: ResultKind,
    error: String,
    requested: Instant,
    forced: bool,
    waiters: Vec<StopWaiter>,
}

/// Who waits for a stopping run's end: answered with its outcome then.
pub(crate) enum StopWaiter {
    Cancel(Reply<CancelOutcome>),
    Kill(Reply<KillOutcome>),
}

/// A run in progress.
struct Live {
    run: Run,
    /// Which executor runs it (for its concurrency limit).
    executor: ExecutorKind,
    /// `None` until the executor has taken the run.
    handle: Option<ExecHandle>,
    /// The executor reported the agent started (a stop then ends a process).
    agent_started: bool,
    stop: Option<StopIntent>,
    started: Instant,
    /// The last probe's counters; any change is activity.
    activity: Option<Activity>,
    last_activity: Instant,
    last_activity_persisted: Instant,
}

/// What an executor says about a run's agent when it starts.
struct Started {
    details: AgentDetails,
    deadline: Option<Timestamp>,
}

/// Results of work the actor hands off and gets back as messages.
enum Event {
    /// An executor's start finished (asynchronously).
    Launched {
        id: String,
        run_id: String,
        result: Result<ExecHandle, String>,
    },
    /// The stale detector's probes: (work order, run, counters; None = gone).
    Probed(Vec<(String, String, Option<Activity>)>),
    /// The rest of an operation whose blocking part ran off the actor
    /// (`hand_off`).
    Then(Box<dyn FnOnce(&mut Actor) + Send>),
}

/// How the actor's service ended.
pub struct Stopped {
    pub restart: bool,
}

pub struct Actor {
    settings: Arc<DaemonSettings>,
    store: Store,
    executor: Arc<dyn Executor>,
    entries: Entries,
    /// Every work order by creation time.
    by_created: ByCreated,
    /// Queued work in start order, and who waits for whom.
    waiting: state::Waiting,
    /// Admission settings changed at run time (pause, limits), persisted.
    overrides: tuning::Overrides,
    counts: HashMap<Status, u64>,
    /// Runs in progress, and the figures of recent starts.
    runs: state::LiveRuns,
    /// How shutdown goes, once asked for.
    stopping: state::Stopping,
    stale: state::StaleState,
    report: StorageReport,
    exec_tx: mpsc::UnboundedSender<ExecEvent>,
    exec_rx: mpsc::UnboundedReceiver<ExecEvent>,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
    changes: broadcast::Sender<StatusChange>,
    /// MemAvailable as of the last tick: health is served from memory.
    mem_available: Option<u64>,
    /// The newest `createdAt` handed out or loaded.
    last_created: Timestamp,
    /// Changes not on disk yet (a full disk), retried every tick.
    pending: state::Pending,
    /// Where a new work order is made durable before its file is written
    /// (none: the file system refused it; every write is a file then).
    journal: Option<crate::store::journal::Journal>,
    /// The agents' reported costs, summed (for health).
    costs: state::Costs,
    /// What `queue stats` counts of each work order, compact.
    stats: crate::ops::stats::StatsIndex,
    /// Purges waiting for their live work orders to stop.
    purges: Vec<purge::PendingPurge>,
    /// Where purged directories go, deleted in the background.
    trash: Trash,
    /// When to let go of the JSON a deep listing rendered (see `index`).
    json_sweep_at: Option<Instant>,
    /// Dashboard logins, shared with the HTTP door (which checks sessions
    /// without a round trip here).
    dashboard: Arc<crate::service::dashboard::DashboardSessions>,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(e.to_string())
}

pub(crate) fn io_block<T>(f: impl FnOnce() -> T) -> T {
    // Durable writes block on fsync; let the runtime move other tasks away.
    tokio::task::block_in_place(f)
}

/// The monotonic instant that was `at` (a wall-clock time in the past).
fn instant_of(at: Option<Timestamp>) -> Instant {
    let now = Instant::now();
    let ago = at.map_or(0, |t| {
        (Timestamp::now().millis() - t.millis()).max(0) as u64
    });
    now.checked_sub(Duration::from_millis(ago)).unwrap_or(now)
}

impl Actor {
    /// Dashboard logins (the `dashboard` operations; the HTTP door's sessions).
    pub fn dashboard(&self) -> &Arc<crate::service::dashboard::DashboardSessions> {
        &self.dashboard
    }

    pub fn new(
        settings: Arc<DaemonSettings>,
        store: Store,
        executor: Arc<dyn Executor>,
        orders: Vec<(WorkOrder, LoadedExtra)>,
        report: StorageReport,
        overrides: tuning::Overrides,
        changes: broadcast::Sender<StatusChange>,
    ) -> Actor {
        let trash = Trash::start(store.root());
        let (exec_tx, exec_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let dashboard = Arc::new(crate::service::dashboard::DashboardSessions::new(
            settings.dashboard_idle,
        ));
        // Opened after `Store::load` replayed it: it starts empty.
        let journal = match crate::store::journal::Journal::open(store.root()) {
            Ok(j) => Some(j),
            Err(e) => {
                tracing::warn!(error = %e, "no submit journal: every new work order is written to its own file before the answer");
                None
            }
        };
        let mut actor = Actor {
            journal,
            stale: state::StaleState::new(Instant::now() + settings.stale_check_interval),
            settings,
            store,
            executor,
            entries: Entries::with_capacity(orders.len()),
            by_created: ByCreated::default(),
            waiting: state::Waiting::default(),
            overrides,
            counts: HashMap::new(),
            runs: state::LiveRuns::default(),
            stopping: state::Stopping::default(),
            report,
            exec_tx,
            exec_rx,
            events_tx,
            events_rx,
            changes,
            mem_available: proc::mem_available(),
            last_created: Timestamp(0),
            pending: state::Pending::default(),
            costs: state::Costs::default(),
            stats: crate::ops::stats::StatsIndex::default(),
            purges: Vec::new(),
            trash,
            json_sweep_at: None,
            dashboard,
        };
        for (wo, extra) in orders {
            actor.last_created = actor.last_created.max(wo.created_at);
            // Already compact: the loader's threads copied each work order
            // once its parse's temporaries were freed (`store::load`).
            // Loaded as it was: nothing follows (no follower, no hook fires
            // again for work that ended before this daemon started).
            let _ = actor.apply(wo, Some(extra));
        }
        // Loaded in any order: who waits for whom is known only now.
        actor.reindex_queued();
        actor
    }

    /// Serves until shutdown completes.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) -> Stopped {
        self.schedule();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut wake: Option<Instant> = None;
        loop {
            tokio::select! {
                Some(job) = commands.recv() => {
                    job(&mut self);
                    if self.launches_due() {
                        // One turn for the door's task, woken by the answer,
                        // to send it before the runs start.
                        tokio::task::yield_now().await;
                        self.start_released();
                    }
                }
                Some(ev) = self.exec_rx.recv() => self.on_exec_event(ev),
                Some(ev) = self.events_rx.recv() => self.on_event(ev),
                _ = tick.tick() => {
                    self.retry_unpersisted();
                    self.enforce_retention();
                    self.sweep_json_cache();
                    self.mem_available = proc::mem_available();
                    self.schedule();
                    if self.settings.stale_check && Instant::now() >= self.stale.next_check {
                        self.stale.next_check = Instant::now() + self.settings.stale_check_interval;
                        self.stale_check();
                    }
                }
                _ = sleep_opt(wake) => self.schedule(),
            }
            if !self.stopping.accepting
                && (self.stopping.keep_running || self.runs.live.is_empty())
                && !self.stopping.waiters.is_empty()
            {
                self.retry_unpersisted();
                self.write_journaled(usize::MAX);
                self.report_unpersisted_at_exit();
                for w in self.stopping.waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
                tracing::info!(left_running = self.runs.live.len(), "queue actor stopped");
                return Stopped {
                    restart: self.stopping.restart,
                };
            }
            // Nothing else waiting: write the files the journal stands for
            // now (a burst of submits is written once it has passed).
            if commands.is_empty() {
                self.write_journaled_when_idle();
            }
            // Stagger: wake exactly when the next start becomes allowed.
            wake = self.stagger_wake();
        }
    }

    /// Work orders held, oldest first (`.rev()`: newest first).
    pub(crate) fn work_orders(&self) -> impl DoubleEndedIterator<Item = &WorkOrder> {
        self.by_created.values().map(|w| &***w)
    }

    /// What `queue stats` counts of every work order held.
    pub(crate) fn stats(&self) -> &crate::ops::stats::StatsIndex {
        &self.stats
    }

    /// The store (read-only use by operations that finish off the actor).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The daemon's settings as started (live admission changes: `queue_config`).
    pub(crate) fn settings(&self) -> &DaemonSettings {
        &self.settings
    }

    /// Whether new work is taken and started (not shutting down).
    pub(crate) fn accepting(&self) -> bool {
        self.stopping.accepting
    }

    /// What `kind` can do (nothing, if the daemon does not run it).
    pub(crate) fn capabilities(&self, kind: ExecutorKind) -> Capabilities {
        self.executor
            .capabilities(kind)
            .unwrap_or(Capabilities::NONE)
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Launched { id, run_id, result } => self.on_launched(&id, &run_id, result),
            Event::Probed(results) => self.on_probed(results),
            Event::Then(rest) => rest(self),
        }
    }

    /// Runs `work` (blocking: git, file walks) off the actor, then `then`
    /// with its result back in the actor, in turn with everything else.
    pub(crate) fn hand_off<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
        then: impl FnOnce(&mut Actor, T) + Send + 'static,
    ) {
        let tx = self.events_tx.clone();
        tokio::task::spawn_blocking(move || {
            let out = work();
            let _ = tx.send(Event::Then(Box::new(move |a: &mut Actor| then(a, out))));
        });
    }

    /// Tells followers that `wo` changed without moving its status (a
    /// merge), as of `at`.
    pub(crate) fn announce_update(&self, wo: &WorkOrder, at: Timestamp) {
        if let Some(e) = self.entries.get(&wo.id) {
            let _ = self.changes.send(StatusChange {
                id: wo.id.clone(),
                status: Some(wo.status),
                previous: Some(wo.status),
                work_order: Some(e.wo.clone()),
                at,
            });
        }
    }

    fn on_exec_event(&mut self, ev: ExecEvent) {
        match ev {
            ExecEvent::Status {
                work_order_id,
                run_id,
                state,
                reason,
            } => self.on_status(&work_order_id, &run_id, state, reason),
            ExecEvent::Started {
                work_order_id,
                run_id,
                details,
                deadline,
            } => self.on_started(&work_order_id, &run_id, Started { details, deadline }),
            ExecEvent::Ended {
                work_order_id,
                run_id,
                end,
            } => {
                if self
                    .runs
                    .live
                    .get(&work_order_id)
                    .is_none_or(|l| l.run.id != run_id)
                {
                    tracing::warn!(work_order = %work_order_id, run = %run_id, "end of an unknown run ignored");
                    return;
                }
                self.end_live(&work_order_id, *end);
            }
        }
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
