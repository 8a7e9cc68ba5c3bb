//! The files through which the daemon and a run's supervisor talk, all in the
//! run's directory (`<root>/runs/<run-id>/`), so that either side can go away
//! and come back:
//!
//! - `spec.json`  (daemon → supervisor): what to prepare and run, the deadline.
//! - `state.json` (supervisor → daemon): who is running (pids, cgroup).
//! - `stop.json`  (daemon → supervisor): a stop request: grace period and why,
//!   delivered with a SIGTERM; echoed in the exit file, so the reason survives
//!   a daemon restart.
//! - `exit.json`  (supervisor → daemon): how the run ended, written atomically
//!   and durably just before the supervisor exits.
//!
//! All are written atomically (temp file and rename): a reader sees the old
//! file or the new one, never a torn one.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{AgentResult, Changes, ResultKind, Status, Timestamp};
use crate::store::atomic::{write_atomic, write_atomic_fast};
use crate::sys::cgroup::CgroupPlan;

pub const SPEC: &str = "spec.json";
pub const STATE: &str = "state.json";
pub const STOP: &str = "stop.json";
pub const EXIT: &str = "exit.json";
/// CPU and I/O counters of a run whose processes the daemon cannot see
/// (a Slurm job on another node), refreshed by its supervisor.
pub const ACTIVITY: &str = "activity.json";
/// Which stream wrote how many bytes when (`o|e LEN UNIX_MS` lines): what
/// lets readers interleave stdout and stderr in writing order.
pub const OUTPUT_INDEX: &str = "output.idx";
/// The supervisor's own diagnostics (its stderr).
pub const SUPERVISOR_LOG: &str = "supervisor.log";

/// Where the agent works: an existing directory, or a fresh clone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Workspace {
    Dir {
        path: PathBuf,
    },
    Clone {
        url: String,
        branch: Option<String>,
        dir: PathBuf,
    },
    /// A git worktree of a local repository on a branch of its own: made
    /// from `base` on the first run, reused by later ones.
    Worktree {
        repo: PathBuf,
        branch: String,
        base: String,
        dir: PathBuf,
    },
}

impl Workspace {
    /// The directory the agent runs in.
    pub fn dir(&self) -> &Path {
        match self {
            Workspace::Dir { path } => path,
            Workspace::Clone { dir, .. } | Workspace::Worktree { dir, .. } => dir,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub work_order_id: String,
    pub run_id: String,
    /// The run's directory (`<root>/runs/<run-id>`): where these files live.
    pub run_dir: PathBuf,
    pub argv: Vec<String>,
    /// Added to (or replacing in) the supervisor's own environment.
    pub env: Vec<(String, String)>,
    pub workspace: Workspace,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    /// Wall-clock end of the run (ms since the epoch): stopped as `timeout`
    /// then; `None`: `max_time_s` after the supervisor starts.
    pub deadline_ms: Option<i64>,
    pub max_time_s: u64,
    /// SIGTERM-to-SIGKILL grace for a timeout or a stop without `stop.json`.
    pub grace_ms: u64,
    pub cgroups: CgroupPlan,
    pub memory_max: Option<u64>,
    /// How the agent's stdout is read (`claude-stream-json` is scanned for
    /// the agent's result); `None`: text.
    #[serde(default)]
    pub output_format: Option<String>,
    /// The prompt as a file (for `{prompt_file}`, or the agent's stdin).
    #[serde(default)]
    pub prompt: Option<PromptFile>,
    /// The daemon's variables the run's processes do not get (besides its
    /// secrets, which they never get); see `executor::env`.
    #[serde(default)]
    pub env_remove: Vec<String>,
    #[serde(default)]
    pub setup: Option<Setup>,
    /// Confinement (`sandbox = "workspace"`); `None`: unconfined.
    #[serde(default)]
    pub sandbox: Option<crate::sandbox::Plan>,
    /// Globs of files that must not be in the workspace when the agent has
    /// exited 0 (AgentGate's `forbiddenPatterns`): the run fails otherwise.
    #[serde(default)]
    pub forbidden: Vec<String>,
}

/// What runs in the workspace before the agent: a command, or (`command`
/// none) the repository's own `.agentgate/setup` if it is executable. Its
/// output goes to the run's stderr, each line marked `[setup]`; if it fails
/// the agent never starts and the run fails with its exit and last lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    pub command: Option<String>,
}

/// Where a setup records its exit code (in the run directory).
pub const SETUP_EXIT: &str = "setup.exit";

/// A prompt handed over as a file, written by the supervisor (0600).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFile {
    pub path: PathBuf,
    pub text: String,
    /// Also the agent's standard input.
    pub stdin: bool,
}

/// A stop request, and the outcome the daemon will record for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopRequest {
    /// 0 = SIGKILL at once.
    pub grace_ms: u64,
    pub status: Status,
    pub result: ResultKind,
    pub error: String,
}

/// Who is running, as the supervisor last recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub supervisor_pid: u32,
    pub supervisor_start_time: u64,
    pub agent_pid: Option<u32>,
    pub agent_start_time: Option<u64>,
    /// The run's cgroup v2 directory, if it has one.
    pub cgroup: Option<PathBuf>,
    /// The deadline the supervisor enforces (ms since the epoch).
    #[serde(default)]
    pub deadline_ms: Option<i64>,
}

/// `activity.json`: what a supervisor's run used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityFile {
    pub cpu_ms: u64,
    pub io_bytes: u64,
}

/// How a run's agent process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunExit {
    Code(i32),
    Signal(i32),
}

/// Why a run ended, as its supervisor (or, for `Lost`, the executor) saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The agent exited on its own (with `exit`).
    Exited,
    /// The run's deadline passed; the supervisor stopped it.
    Timeout,
    /// A stop request (SIGTERM to the supervisor) ended it.
    Stopped,
    /// The workspace could not be prepared (a failed clone, a missing directory).
    PrepareFailed,
    /// The agent could not be started.
    SpawnFailed,
    /// The supervisor (or the job) vanished without recording an end.
    Lost,
}

/// `exit.json`: the run's end, with what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEnd {
    pub reason: EndReason,
    /// None: the agent never started (or its end is unknown).
    pub exit: Option<RunExit>,
    pub error: Option<String>,
    /// The stop request the supervisor honoured, if any.
    pub stop: Option<StopRequest>,
    pub ended_at_ms: i64,
    pub peak_memory_bytes: Option<u64>,
    pub cpu_time_ms: Option<u64>,
    /// Processes the kernel killed for exceeding the run's memory limit.
    pub oom_kills: u64,
    pub memory_max: Option<u64>,
    /// The agent's own result (a stream-json `result` event); boxed, as
    /// the work order keeps it.
    #[serde(default)]
    pub agent_result: Option<Box<AgentResult>>,
    /// Lines of a structured output that did not parse.
    #[serde(default)]
    pub malformed_lines: u64,
    /// What the run changed in its worktree against the worktree's base.
    #[serde(default)]
    pub changes: Option<Changes>,
}

/// The line a local supervisor writes to its daemon's pipe when it cannot
/// write `exit.json` (a full disk): the daemon learns the end at once while
/// the supervisor keeps trying to record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndNotice {
    pub end: RunEnd,
}

impl RunEnd {
    /// An end recorded by the daemon side: the run left no exit of its own.
    pub fn lost(error: String) -> RunEnd {
        RunEnd {
            reason: EndReason::Lost,
            exit: None,
            error: Some(error),
            stop: None,
            ended_at_ms: Timestamp::now().millis(),
            peak_memory_bytes: None,
            cpu_time_ms: None,
            oom_kills: 0,
            memory_max: None,
            agent_result: None,
            malformed_lines: 0,
            changes: None,
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn to_bytes<T: Serialize>(v: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec_pretty(v).map_err(io::Error::other)
}

pub fn path(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(name)
}

/// Written before the supervisor starts; a crash leaves no run to care for,
/// so no fsync.
pub fn write_spec(run_dir: &Path, spec: &Spec) -> io::Result<()> {
    write_atomic_fast(&run_dir.join(SPEC), &to_bytes(spec)?, 0o600)
}

pub fn read_spec(run_dir: &Path) -> io::Result<Spec> {
    read_json(&run_dir.join(SPEC))
}

pub fn read_spec_file(path: &Path) -> io::Result<Spec> {
    read_json(path)
}

/// The supervisor's state lives as long as the machine does: no fsync.
pub fn write_state(run_dir: &Path, state: &State) -> io::Result<()> {
    write_atomic_fast(&run_dir.join(STATE), &to_bytes(state)?, 0o600)
}

pub fn read_state(run_dir: &Path) -> Option<State> {
    read_json(&run_dir.join(STATE)).ok()
}

pub fn write_activity(run_dir: &Path, act: &ActivityFile) -> io::Result<()> {
    write_atomic_fast(&run_dir.join(ACTIVITY), &to_bytes(act)?, 0o600)
}

pub fn read_activity(run_dir: &Path) -> Option<ActivityFile> {
    read_json(&run_dir.join(ACTIVITY)).ok()
}

pub fn write_stop(run_dir: &Path, stop: &StopRequest) -> io::Result<()> {
    write_atomic_fast(&run_dir.join(STOP), &to_bytes(stop)?, 0o600)
}

pub fn read_stop(run_dir: &Path) -> Option<StopRequest> {
    read_json(&run_dir.join(STOP)).ok()
}

/// Durable: the end of a run is the one thing that must outlive everything.
pub fn write_exit(run_dir: &Path, end: &RunEnd) -> io::Result<()> {
    write_atomic(&run_dir.join(EXIT), &to_bytes(end)?, 0o600)
}

/// The recorded end; `Err` with `NotFound` when the run has not ended (or
/// never recorded it).
pub fn read_exit(run_dir: &Path) -> io::Result<RunEnd> {
    read_json(&run_dir.join(EXIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let spec = Spec {
            work_order_id: "wo".into(),
            run_id: "run".into(),
            run_dir: d.path().to_path_buf(),
            argv: vec!["sh".into(), "-c".into(), "echo '{prompt}' \"$x\"".into()],
            env: vec![("A".into(), "b c".into())],
            workspace: Workspace::Clone {
                url: "file:///x".into(),
                branch: None,
                dir: "/w".into(),
            },
            stdout: "/o".into(),
            stderr: "/e".into(),
            deadline_ms: Some(5),
            max_time_s: 60,
            grace_ms: 5000,
            cgroups: CgroupPlan::default(),
            memory_max: Some(1 << 30),
            output_format: None,
            setup: None,
            sandbox: None,
            forbidden: Vec::new(),
            prompt: None,
            env_remove: vec!["AWS_*".into()],
        };
        write_spec(d.path(), &spec).unwrap();
        assert_eq!(read_spec(d.path()).unwrap(), spec);
        let end = RunEnd {
            exit: Some(RunExit::Signal(9)),
            stop: Some(StopRequest {
                grace_ms: 0,
                status: Status::Canceled,
                result: ResultKind::Killed,
                error: "killed by user".into(),
            }),
            ..RunEnd::lost("x".into())
        };
        write_exit(d.path(), &end).unwrap();
        assert_eq!(read_exit(d.path()).unwrap(), end);
        let text = std::fs::read_to_string(d.path().join(EXIT)).unwrap();
        assert!(text.contains("\"signal\": 9"), "{text}");
        assert!(read_exit(&d.path().join("missing")).is_err());
    }
}
