//! Executors: the one interface through which runs are started, adopted,
//! stopped, observed and probed. The queue actor speaks only the `Executor`
//! trait and nothing outside this folder (and the supervisor it runs) knows
//! which executor runs a work order or how:
//!
//! - what it stores is an opaque `ExecHandle` (`{"<executor>": {...}}` in the
//!   run record), handed back on adoption and read only by its executor;
//! - what it hears are `ExecEvent`s in queue terms: `Status` (the run's state
//!   in the executor, e.g. pending and why), `Started` (with `AgentDetails`
//!   it copies onto the work order for people and the API, never acts on),
//!   `Ended` (with the run's `RunEnd`; `EndReason::Lost` when the executor
//!   lost it);
//! - what it asks is `probe` (activity counters for the stale detector) and
//!   `capabilities`: whether runs use this host's memory, may wait in the
//!   executor's own queue (the time limit then counts from `Started`), can be
//!   adopted, report usage, need a shared filesystem, and whether the
//!   executor has a concurrency limit of its own;
//! - each executor reads its own config section (`slurm::config`).
//!
//! Runs write their output to `RunSpec::stdout`/`stderr` and their heartbeat
//! to `RunSpec::heartbeat` under the data root; `queue logs` and the stale
//! detector read those files, so an executor whose runs cannot write there
//! must bring the output there itself.
//!
//! - `local`: a per-run supervisor process on this machine (see `supervisor`).
//! - `slurm`: the same supervisor inside a Slurm batch job.
//! - `legacy`: what is left of runs started by versions without supervisors.
//! - `router`: the executors of one daemon behind the one trait.
//!
//! # Two more executors, on paper
//!
//! Each is a module here, a variant of `ExecutorKind`, an arm in
//! `router::Executors` and `ExecHandle::describe`, and its config section;
//! the queue does not change.
//!
//! **Kubernetes Jobs** (`[kubernetes]`: namespace, image, service account,
//! resources, `max_concurrent`). Capabilities: not host memory, queues runs
//! (a pod may be Pending), can adopt, reports usage (the supervisor runs in
//! the pod, as in a Slurm job), no shared filesystem.
//! - `start`: create a Job whose pod runs this binary's `__supervise` on the
//!   spec, passed in a Secret or ConfigMap created once the `gate` opens (an
//!   abandoned gate deletes the Job, as `scancel` does for Slurm). The handle
//!   is `{"kubernetes": {"namespace", "job", "uid"}}`; `uid` tells a
//!   re-created Job of the same name apart, as the start time does for pids.
//! - events: a watch on the Job's pods gives `Status` (Pending and its
//!   reason: Unschedulable, ImagePullBackOff), `Started` when the container
//!   runs (no local pid: empty `AgentDetails`), `Ended` from the
//!   supervisor's exit record (read from the pod's termination message or
//!   its log tail) or, for a pod deleted, evicted or OOM-killed without one,
//!   `Lost` with the pod's reason, as `slurm::lost_end` does with Slurm's.
//! - logs: a `follow` stream of the pod's logs appended to `spec.stdout`
//!   (and a heartbeat file touched per chunk), so `queue logs` and the
//!   stale detector work unchanged; `probe` adds the pod's CPU from the
//!   metrics API.
//! - `adopt`: look the Job up by the handle's name and uid: running, resume
//!   the watch and the log stream from the byte count already on disk
//!   (`sinceTime`); succeeded or failed, `Adopted::Ended`; gone,
//!   `Adopted::Ended(RunEnd::lost(...))`.
//! - `stop`: the stop request into the pod's run directory is not reachable,
//!   so delete the pod with `gracePeriodSeconds = grace` (Kubernetes sends
//!   SIGTERM, then SIGKILL: the supervisor's own stop path), then the Job.
//!
//! **SSH to a remote host** (`[ssh]`: host, user, identity file, remote data
//! root, `max_concurrent`). Capabilities: not host memory, does not queue
//! runs, can adopt, reports usage, needs a shared filesystem only if the
//! remote data root is the same directory (else the output is copied back).
//! - `start`: `ssh host agentgate __supervise --spec-file F` with the spec
//!   copied there once the `gate` opens, detached on the remote side (its own
//!   session) so a dropped connection does not stop it; the handle is
//!   `{"ssh": {"host", "pid", "startTime", "runDir"}}` as the remote
//!   supervisor reports them, like the local handle plus the host.
//! - events: one long-lived `ssh` per host tailing each run's `state.json`
//!   and `exit.json` (an inotify loop on the remote side) gives `Started`
//!   and `Ended`; a supervisor gone without an exit record is `Lost`, found
//!   by `kill -0` with the start-time check over the same connection.
//! - logs: without a shared filesystem, `tail -c +N -F` of the remote logs
//!   appended to `spec.stdout`/`stderr`, resumed at the local file's length.
//! - `adopt`: reconnect and check the handle's pid and start time on the
//!   host, exactly as `local` does with a pidfd: alive, follow it again;
//!   ended, read its exit record; unreachable host, keep it `Live` and
//!   report the executor unhealthy in `status` until the host answers.
//! - `stop`: write the stop request into the remote run directory and
//!   `kill -TERM` the supervisor (start time checked): the supervisor does
//!   the grace period and the SIGKILL, as for a local run.

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// A supervisor process on this machine.
    #[default]
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
    /// What runs in the workspace before the agent (see `files::Setup`).
    pub setup: Option<files::Setup>,
    /// Confinement, applied by the supervisor before the agent starts.
    pub sandbox: Option<crate::sandbox::Plan>,
    /// Files that must not be left in the workspace (see `files::Spec`).
    pub forbidden: Vec<String>,
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
        setup: spec.setup.clone(),
        sandbox: spec.sandbox.clone(),
        forbidden: spec.forbidden.clone(),
    }
}
