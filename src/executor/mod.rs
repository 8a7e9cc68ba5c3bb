//! Executors: the one interface through which runs are started, adopted,
//! stopped, observed and probed. The queue actor speaks only this trait and
//! persists the opaque `ExecHandle` an executor returns; nothing outside this
//! folder knows which executor runs a work order or how.
//!
//! - `local`: a per-run supervisor process on this machine (see `supervisor`).
//! - `legacy`: what is left of runs started by versions without supervisors.

pub mod env;
pub mod files;
mod handle;
pub mod legacy;
pub mod local;
pub mod router;
pub mod slurm;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use serde::{Deserialize, Serialize};

use crate::model::{Run, Timestamp, WorkOrder};
pub use files::{EndReason, PromptFile, RunEnd, RunExit, StopRequest, Workspace};
pub use handle::ExecHandle;

/// Where runs execute. The queue only keys its ready queues and limits by it
/// and asks `Executor::capabilities`; only this folder matches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// A supervisor process on this machine.
    Local,
    /// A job on a Slurm cluster (the supervisor runs inside it).
    Slurm,
}

impl ExecutorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

impl std::str::FromStr for ExecutorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ExecutorKind, String> {
        match s {
            "local" => Ok(ExecutorKind::Local),
            "slurm" => Ok(ExecutorKind::Slurm),
            other => Err(format!("{other:?}: expected local or slurm")),
        }
    }
}

/// What the queue may count on from an executor: the only facts about an
/// executor it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Its runs execute on this machine: the host's free memory gates
    /// their start (`min_memory`).
    pub uses_host_memory: bool,
    /// A run may wait in the executor's own queue before it starts: its
    /// time limit counts from the start the executor reports, not from the
    /// daemon's start of it.
    pub queues_runs: bool,
    /// Runs it started are taken back by the next daemon (else a restart
    /// fails them as lost).
    pub can_adopt: bool,
    /// It reports peak memory and CPU time of its runs.
    pub reports_usage: bool,
    /// Its runs read and write the data root (logs, run directory) from
    /// elsewhere: the root must be on a filesystem both see.
    pub shared_filesystem: bool,
    /// Most runs in flight on it, fixed by its own config section; `None`:
    /// the daemon's `max_concurrent` (tunable at run time).
    pub max_concurrent: Option<usize>,
}

impl Capabilities {
    /// What the queue assumes of an executor the daemon does not run (its
    /// work fails to start with a clear error): nothing.
    pub const NONE: Capabilities = Capabilities {
        uses_host_memory: false,
        queues_runs: false,
        can_adopt: false,
        reports_usage: false,
        shared_filesystem: false,
        max_concurrent: None,
    };
}

/// What an executor says about a run's agent once it started, for people
/// and for AgentGate's API (its `pid`): copied onto the work order and run
/// record as it is, never acted on by the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentDetails {
    /// A process id on this machine, where the agent runs on it.
    pub pid: Option<u32>,
    pub pid_start_time: Option<u64>,
    /// The run's cgroup, where it has one.
    pub cgroup: Option<String>,
}

impl AgentDetails {
    /// Writes the details onto the run record and work order; whether
    /// anything changed (an adopted run reports what is known already).
    pub fn record(&self, run: &mut Run, wo: &mut WorkOrder) -> bool {
        let changed = run.pid != self.pid
            || run.pid_start_time != self.pid_start_time
            || run.cgroup != self.cgroup;
        run.pid = self.pid;
        run.pid_start_time = self.pid_start_time;
        run.cgroup = self.cgroup.clone();
        wo.pid = self.pid;
        wo.pid_start_time = self.pid_start_time;
        changed
    }
}

impl std::fmt::Display for AgentDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid}")?,
            None => write!(f, "remote")?,
        }
        if let Some(c) = &self.cgroup {
            write!(f, ", cgroup {c}")?;
        }
        Ok(())
    }
}

/// Everything needed to start one run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Which executor runs it (the agent type's choice, else the daemon's).
    pub executor: ExecutorKind,
    pub work_order_id: String,
    pub run_id: String,
    /// The run's directory (`<root>/runs/<run-id>`), already created.
    pub run_dir: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workspace: Workspace,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub heartbeat: PathBuf,
    /// When the run is stopped as `timeout`; `None`: `max_time_s` after the
    /// run actually starts (a Slurm job may wait in its queue first).
    pub deadline: Option<Timestamp>,
    pub max_time_s: u64,
    /// Grace period of a timeout (and of a stop without its own).
    pub grace: Duration,
    pub memory_max: Option<u64>,
    /// `claude-stream-json` etc.; `None`: text.
    pub output_format: Option<String>,
    pub prompt: Option<files::PromptFile>,
    /// Variables of the daemon's environment the run does not get (see `env`).
    pub env_remove: Vec<String>,
}

/// What an executor reports about its runs, in order per run: any number of
/// `Status`, at most one `Started`, then exactly one `Ended` (whose reason may
/// be `Lost`).
// A handful of events per run, moved once through a channel: the size of
// `Ended` costs nothing worth a box (newer clippy flags it).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ExecEvent {
    /// The run's state in the executor changed (a Slurm job's PENDING and
    /// its reason, RUNNING, ...).
    Status {
        work_order_id: String,
        run_id: String,
        state: String,
        reason: Option<String>,
    },
    /// The agent started (or, for an adopted run, is known to have).
    Started {
        work_order_id: String,
        run_id: String,
        /// For people and the API only.
        details: AgentDetails,
        /// The run's deadline, as its supervisor enforces it.
        deadline: Option<Timestamp>,
    },
    Ended {
        work_order_id: String,
        run_id: String,
        end: Box<RunEnd>,
    },
}

pub type EventSink = mpsc::UnboundedSender<ExecEvent>;

/// Opens when the daemon has durably recorded that the run started: an
/// executor may prepare a run before that (a supervisor's process start
/// overlaps the daemon's fsync), but runs nothing of it until the gate opens.
/// A gate dropped unopened abandons the run: nothing runs, and any event
/// about it is ignored.
pub type Gate = tokio::sync::oneshot::Receiver<()>;

/// A run found in progress after a restart.
#[derive(Debug, Clone)]
pub struct AdoptTarget {
    pub work_order_id: String,
    pub run_id: String,
    pub run_dir: PathBuf,
    /// As persisted in the run record; `None` when the daemon went away
    /// before persisting it (the executor may still find its traces).
    pub handle: Option<ExecHandle>,
}

// One per run found at start, moved once: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Adopted {
    /// Taken back: events follow as for a run started by this daemon.
    Live(ExecHandle),
    /// It ended while no daemon ran: its real end.
    Ended(RunEnd),
    /// No trace of a run this executor started (data of older versions).
    Unknown,
}

/// What the stale detector learns from one probe. Any change between two
/// probes is activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    /// Still waiting in the executor's own queue: not idle, just not started.
    pub waiting: bool,
    pub output_bytes: u64,
    pub cpu_ms: u64,
    pub heartbeat: Option<SystemTime>,
    /// Bytes read and written through any I/O (network waits end here first).
    pub io_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the run was abandoned before it started")]
    Abandoned,
    #[error("sbatch: {0}")]
    Submit(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("cannot encode the run's spec: {0}")]
    Spec(serde_json::Error),
    #[error("cannot start the run's supervisor: {0}")]
    Supervisor(std::io::Error),
    #[error("cannot prepare the run's directory: {0}")]
    Prepare(std::io::Error),
    #[error("agent command line is empty")]
    EmptyCommand,
}

pub trait Executor: Send + Sync + 'static {
    /// Starts a run once `gate` opens. Returns its handle (to persist) once
    /// it is under the executor's care; `Started`/`Ended` events follow on
    /// `events`.
    fn start(
        &self,
        spec: RunSpec,
        gate: Gate,
        events: EventSink,
    ) -> BoxFuture<'static, Result<ExecHandle, ExecError>>;

    /// Takes back a run a previous daemon started.
    fn adopt(&self, target: AdoptTarget, events: EventSink) -> BoxFuture<'static, Adopted>;

    /// Stops a run's whole tree: SIGTERM, up to `req.grace_ms`, then SIGKILL.
    /// Returns at once; `Ended` follows the moment nothing of the run is left.
    /// A second request may shorten the grace period.
    fn stop(&self, run_id: &str, req: &StopRequest);

    /// Current activity counters of a live run (blocking: call off the actor).
    fn probe(&self, run_id: &str) -> Option<Activity>;

    /// Each executor's health, for the log and `queue health`.
    fn status(&self) -> Vec<ExecutorStatus>;

    /// What `kind` can do, if this executes on it.
    fn capabilities(&self, kind: ExecutorKind) -> Option<Capabilities>;
}

/// One executor's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorStatus {
    pub kind: ExecutorKind,
    pub healthy: bool,
    /// How runs execute there (isolation, cluster), or what is wrong.
    pub detail: String,
}

/// What a supervisor is told to run (`spec.json`, or its stdin line).
pub fn supervisor_spec(spec: &RunSpec, cgroups: crate::sys::cgroup::CgroupPlan) -> files::Spec {
    files::Spec {
        work_order_id: spec.work_order_id.clone(),
        run_id: spec.run_id.clone(),
        run_dir: spec.run_dir.clone(),
        argv: spec.argv.clone(),
        env: spec.env.clone(),
        workspace: spec.workspace.clone(),
        stdout: spec.stdout.clone(),
        stderr: spec.stderr.clone(),
        deadline_ms: spec.deadline.map(|t| t.millis()),
        max_time_s: spec.max_time_s,
        grace_ms: spec.grace.as_millis().min(u64::MAX as u128) as u64,
        cgroups,
        memory_max: spec.memory_max,
        output_format: spec.output_format.clone(),
        prompt: spec.prompt.clone(),
        env_remove: spec.env_remove.clone(),
    }
}
