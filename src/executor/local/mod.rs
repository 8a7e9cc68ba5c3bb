//! The local executor: each run under its own supervisor process (see
//! `supervisor`), started from this binary. The daemon watches supervisors
//! through pidfds (event-driven, never a reused PID), talks to them through
//! the files of the run's directory plus SIGTERM, and can take them back
//! after a restart.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use nix::sys::signal::Signal;
use tokio::io::AsyncBufReadExt;
use tokio::io::unix::AsyncFd;

use serde::{Deserialize, Serialize};

use super::files::{self, RunEnd, State, StopRequest};
use super::{
    Activity, AdoptTarget, Adopted, AgentDetails, Capabilities, EventSink, ExecError, ExecEvent,
    ExecHandle, Executor, ExecutorKind, ExecutorStatus, Gate, RunSpec,
};
use crate::sys::cgroup::{self, CgroupPlan};
use crate::sys::pidfd::PidFd;
use crate::sys::proc;

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE: &str = "__supervise";

mod standby;
use standby::{Standby, spawn_supervisor};

/// What a supervisor waits for on its stdin before it runs anything.
pub const GO: &[u8] = b"go\n";

/// What a local run's `ExecHandle` holds: the supervisor's pid and start
/// time (together they never name a reused PID) and its run directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handle {
    pub pid: u32,
    pub start_time: u64,
    pub run_dir: String,
}

impl Handle {
    pub fn describe(&self) -> String {
        format!("local supervisor (pid {})", self.pid)
    }
}

/// What the local executor can do.
pub const CAPABILITIES: Capabilities = Capabilities {
    uses_host_memory: true,
    queues_runs: false,
    can_adopt: true,
    reports_usage: true,
    shared_filesystem: false,
    max_concurrent: None,
};

pub struct LocalExecutor {
    /// The daemon's variables its supervisors (and so its runs) do not get.
    env_remove: Arc<Vec<String>>,
    /// This very binary (even if replaced on disk since): supervisor and
    /// daemon always speak the same version of the run-directory files.
    exe: PathBuf,
    cgroups: CgroupPlan,
    /// The health line: fixed once started (cgroup plan, confinement), so
    /// made once rather than on every health call.
    status_detail: String,
    runs: Arc<Mutex<HashMap<String, Arc<LocalRun>>>>,
    /// A supervisor started ahead of need, waiting for a run's spec on its
    /// stdin: a start hands it the spec instead of waiting for an exec of
    /// this binary (a millisecond and more on the way to the agent's first
    /// instruction). It exits unused when the daemon goes away.
    standby: Arc<Mutex<Standby>>,
}

/// A supervised run this daemon watches.
struct LocalRun {
    work_order_id: String,
    run_id: String,
    run_dir: PathBuf,
    pidfd: PidFd,
    outputs: [PathBuf; 2],
    heartbeat: PathBuf,
}

/// Lets the runtime watch a shared pidfd without owning (closing) it.
struct Watched(Arc<LocalRun>);

impl AsRawFd for Watched {
    fn as_raw_fd(&self) -> RawFd {
        self.0.pidfd.as_raw_fd()
    }
}

impl LocalExecutor {
    /// `confinement`: what this host lets a run's supervisor confine it
    /// with (`sandbox::Support::summary`), for the executor's health line.
    pub fn new(
        cgroups: CgroupPlan,
        env_remove: Vec<String>,
        confinement: Option<String>,
    ) -> LocalExecutor {
        let exe = PathBuf::from("/proc/self/exe");
        let env_remove = Arc::new(env_remove);
        let mut status_detail = format!("local supervisors; cgroups: {}", cgroups.describe());
        if let Some(c) = confinement {
            status_detail.push_str("; confinement: ");
            status_detail.push_str(&c);
        }
        let standby = spawn_supervisor(&exe, &env_remove)
            .map_err(|e| tracing::warn!(error = %e, "cannot start a standby supervisor"))
            .ok();
        LocalExecutor {
            env_remove,
            exe,
            cgroups,
            status_detail,
            runs: Arc::new(Mutex::new(HashMap::new())),
            standby: Arc::new(Mutex::new(Standby {
                child: standby,
                closed: false,
            })),
        }
    }

    /// The standby supervisor if it is still there, else a new one.
    fn take_supervisor(&self) -> std::io::Result<std::process::Child> {
        // Busy: the next standby is being spawned under the lock; do not
        // wait for it (the actor calls this), start one here instead.
        let standby = self
            .standby
            .try_lock()
            .ok()
            .and_then(|mut s| s.child.take());
        if let Some(mut child) = standby {
            if matches!(child.try_wait(), Ok(None)) {
                return Ok(child);
            }
            tracing::warn!(
                pid = child.id(),
                "standby supervisor had exited; starting another"
            );
        }
        spawn_supervisor(&self.exe, &self.env_remove)
    }

    fn run(&self, run_id: &str) -> Option<Arc<LocalRun>> {
        self.runs.lock().ok()?.get(run_id).cloned()
    }

    fn register(
        &self,
        run: LocalRun,
        stdout: Option<tokio::process::ChildStdout>,
        events: EventSink,
    ) {
        let run = Arc::new(run);
        if let Ok(mut runs) = self.runs.lock() {
            runs.insert(run.run_id.clone(), run.clone());
        }
        tokio::spawn(watch(run, stdout, events, self.runs.clone()));
    }
}

/// Waits (event-driven) for a supervisor to exit, forwarding its start
/// notification, then reports the run's end from its exit file.
async fn watch(
    run: Arc<LocalRun>,
    stdout: Option<tokio::process::ChildStdout>,
    events: EventSink,
    registry: Arc<Mutex<HashMap<String, Arc<LocalRun>>>>,
) {
    let mut started = false;
    // The end came through the pipe already (see `files::EndNotice`).
    let mut ended = false;
    let started_event = |state: &State| ExecEvent::Started {
        work_order_id: run.work_order_id.clone(),
        run_id: run.run_id.clone(),
        details: details_of(state),
        deadline: state.deadline_ms.map(crate::model::Timestamp),
    };
    // SAFETY: `Watched` holds the run, and so its pidfd, open and unchanged
    // for as long as the AsyncFd lives.
    let registered = unsafe {
        AsyncFd::register_with_interest(Watched(run.clone()), tokio::io::Interest::READABLE)
    };
    // An adopted run still preparing its workspace: its start is learnt from
    // state.json being replaced (the pipe went to the previous daemon).
    let adopted = stdout.is_none();
    let mut agent_start = std::pin::pin!(agent_started(run.run_dir.clone()));
    match registered {
        Ok(fd) => {
            let mut lines = stdout.map(|s| tokio::io::BufReader::new(s).lines());
            loop {
                tokio::select! {
                    state = &mut agent_start, if adopted && !started => {
                        started = true;
                        if let Some(state) = state {
                            let _ = events.send(started_event(&state));
                        }
                    }
                    line = async { lines.as_mut()?.next_line().await.ok().flatten() }, if lines.is_some() => {
                        let Some(line) = line else {
                            lines = None;
                            continue;
                        };
                        if let Ok(state) = serde_json::from_str::<State>(&line) {
                            if state.agent_pid.is_some() && !started {
                                started = true;
                                let _ = events.send(started_event(&state));
                            }
                        } else if let Ok(notice) = serde_json::from_str::<files::EndNotice>(&line) {
                            // The supervisor cannot write exit.json (a full
                            // disk) and lives on retrying: the end is known now.
                            tracing::warn!(run = %run.run_id, "the run ended but its supervisor cannot record it yet; taking its end from the pipe");
                            if !ended {
                                ended = true;
                                let _ = events.send(ExecEvent::Ended {
                                    work_order_id: run.work_order_id.clone(),
                                    run_id: run.run_id.clone(),
                                    end: Box::new(notice.end),
                                });
                            }
                        }
                    }
                    _ = fd.readable() => break,
                }
            }
        }
        Err(e) => {
            // Cannot happen for a valid pidfd; fall back to a slow check.
            tracing::error!(run = %run.run_id, error = %e, "cannot watch supervisor pidfd; polling it");
            while !run.pidfd.exited() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    run.pidfd.reap();
    if ended {
        if let Ok(mut runs) = registry.lock() {
            runs.remove(&run.run_id);
        }
        return;
    }
    if !started
        && let Some(state) = files::read_state(&run.run_dir)
        && state.agent_pid.is_some()
    {
        let _ = events.send(started_event(&state));
    }
    let dir = run.run_dir.clone();
    let pid = run.pidfd.pid();
    let end = tokio::task::spawn_blocking(move || end_of(&dir, pid))
        .await
        .unwrap_or_else(|e| RunEnd::lost(format!("supervisor lost: {e}")));
    if let Ok(mut runs) = registry.lock() {
        runs.remove(&run.run_id);
    }
    let _ = events.send(ExecEvent::Ended {
        work_order_id: run.work_order_id.clone(),
        run_id: run.run_id.clone(),
        end: Box::new(end),
    });
}

/// What a supervisor's state says about its agent, for people and the API.
pub(super) fn details_of(state: &State) -> AgentDetails {
    AgentDetails {
        pid: state.agent_pid,
        pid_start_time: state.agent_start_time,
        cgroup: state.cgroup.as_ref().map(|p| p.display().to_string()),
    }
}

/// Waits until the supervisor in `run_dir` records its agent's start (an
/// inotify watch on the directory: state.json is replaced by a rename).
/// `None` if the directory cannot be watched.
async fn agent_started(run_dir: PathBuf) -> Option<State> {
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    let started = || files::read_state(&run_dir).filter(|s| s.agent_pid.is_some());
    // Usually it already has: no watch then (closing an inotify instance
    // waits for an RCU grace period, ~10 ms, per run adopted).
    if let Some(s) = started() {
        return Some(s);
    }
    let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).ok()?;
    ino.add_watch(&run_dir, AddWatchFlags::IN_MOVED_TO).ok()?;
    // After the watch exists, so no change can fall in between.
    if let Some(s) = started() {
        return Some(s);
    }
    // SAFETY: `Owned` owns the inotify fd for as long as the AsyncFd lives.
    let fd = unsafe { AsyncFd::register_with_interest(Owned(ino), tokio::io::Interest::READABLE) }
        .ok()?;
    loop {
        let mut guard = fd.readable().await.ok()?;
        let _ = guard.try_io(|i| i.get_ref().0.read_events().map_err(std::io::Error::from));
        guard.clear_ready();
        if let Some(s) = started() {
            return Some(s);
        }
    }
}

struct Owned(nix::sys::inotify::Inotify);

impl AsRawFd for Owned {
    fn as_raw_fd(&self) -> RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

/// The end a supervisor recorded, or — if it vanished without one (killed,
/// out of memory) — `Lost`, after stopping whatever of its run is left.
fn end_of(run_dir: &Path, supervisor_pid: u32) -> RunEnd {
    match files::read_exit(run_dir) {
        Ok(end) => end,
        Err(e) => {
            let left = stop_leftovers(run_dir);
            tracing::error!(run_dir = %run_dir.display(), supervisor_pid, error = %e, leftovers = left, "supervisor exited without recording the run's end");
            let mut end = RunEnd::lost(format!(
                "supervisor lost: its process (pid {supervisor_pid}) is gone and recorded no end{}",
                if left > 0 {
                    format!("; {left} leftover processes were killed")
                } else {
                    String::new()
                }
            ));
            // A session the agent announced can still be continued.
            end.agent_result = files::read_spec(run_dir)
                .ok()
                .and_then(|s| {
                    let format = crate::agent::Format::from_name(s.output_format.as_deref());
                    let id = crate::agent::session_in_log(format, &s.stdout)?;
                    let mut r = crate::model::AgentResult::session_only(id);
                    r.agent = format.agent().map(str::to_string);
                    Some(r)
                })
                .map(Box::new);
            end
        }
    }
}

/// SIGKILLs what a lost supervisor's run left: its cgroup, else the agent's
/// process group (if the agent is still that very process). Returns how many
/// processes were signalled.
fn stop_leftovers(run_dir: &Path) -> usize {
    let Some(state) = files::read_state(run_dir) else {
        return 0;
    };
    let mut killed = 0;
    if let Some(dir) = &state.cgroup {
        let pids = cgroup::pids_of(dir);
        killed += pids.len();
        if std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
            for pid in pids {
                proc::signal_pid(pid, Signal::SIGKILL);
            }
        }
        // Removed once empty; a cgroup still busy is left for the next start.
        for _ in 0..100 {
            if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    if let (Some(pid), Some(start)) = (state.agent_pid, state.agent_start_time)
        && proc::same_process(pid, start)
    {
        let members = proc::group_members(pid as i32);
        killed += members.len();
        proc::signal_group(pid as i32, Signal::SIGKILL);
    }
    killed
}

impl Executor for LocalExecutor {
    fn start(
        &self,
        spec: RunSpec,
        gate: Gate,
        events: EventSink,
    ) -> BoxFuture<'static, Result<ExecHandle, ExecError>> {
        let result = (|| {
            if spec.argv.is_empty() {
                return Err(ExecError::EmptyCommand);
            }
            let file = super::supervisor_spec(&spec, self.cgroups.clone());
            // One line on the supervisor's stdin (it writes spec.json itself,
            // off the way to the agent's start), then "go" once the gate opens.
            let mut line = serde_json::to_vec(&file).map_err(ExecError::Spec)?;
            line.push(b'\n');
            let mut child = self.take_supervisor().map_err(ExecError::Supervisor)?;
            let pid = child.id();
            // Not reaped yet, so neither the stat nor the pidfd can be of another process.
            let start_time = proc::stat(pid as i32).map(|s| s.start_time).unwrap_or(0);
            let pidfd = PidFd::open(pid).map_err(ExecError::Supervisor)?;
            let stdout = child
                .stdout
                .take()
                .and_then(|s| tokio::process::ChildStdout::from_std(s).ok());
            // The supervisor gets its spec now but runs nothing before its
            // "go"; an abandoned gate closes its stdin instead. Then the next
            // standby is started, off the way to this run's start.
            let stdin = child
                .stdin
                .take()
                .and_then(|s| tokio::process::ChildStdin::from_std(s).ok());
            let (exe, standby) = (self.exe.clone(), self.standby.clone());
            let env_remove = self.env_remove.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                if let Some(mut stdin) = stdin
                    && stdin.write_all(&line).await.is_ok()
                    && gate.await.is_ok()
                {
                    let _ = stdin.write_all(GO).await;
                }
                // Spawned under the slot's lock: the executor's drop (before
                // a restart in place execs) waits for it, so no standby can
                // be born after its retirement and outlive the exec as a
                // child nobody reaps.
                let _ = tokio::task::spawn_blocking(move || {
                    let Ok(mut slot) = standby.lock() else {
                        return;
                    };
                    if slot.closed {
                        return; // the executor is gone (a stop, a restart in place)
                    }
                    if let Ok(next) = spawn_supervisor(&exe, &env_remove)
                        && let Some(mut spare) = slot.child.replace(next)
                    {
                        // Two starts raced for one slot: retire the spare.
                        let _ = spare.kill();
                        let _ = spare.wait();
                    }
                })
                .await;
            });
            self.register(
                LocalRun {
                    work_order_id: spec.work_order_id.clone(),
                    run_id: spec.run_id.clone(),
                    run_dir: spec.run_dir.clone(),
                    pidfd,
                    outputs: [spec.stdout.clone(), spec.stderr.clone()],
                    heartbeat: spec.heartbeat.clone(),
                },
                stdout,
                events,
            );
            Ok(ExecHandle::new(
                ExecutorKind::Local,
                &Handle {
                    pid,
                    start_time,
                    run_dir: spec.run_dir.display().to_string(),
                },
            ))
        })();
        Box::pin(async move { result })
    }

    fn adopt(&self, target: AdoptTarget, events: EventSink) -> BoxFuture<'static, Adopted> {
        let state = files::read_state(&target.run_dir);
        let recorded = target
            .handle
            .as_ref()
            .and_then(|h| h.decode::<Handle>(ExecutorKind::Local));
        let (pid, start_time) = match (recorded, &state) {
            (Some(h), _) => (h.pid, h.start_time),
            (None, Some(s)) if target.handle.is_none() => {
                (s.supervisor_pid, s.supervisor_start_time)
            }
            _ => return Box::pin(async { Adopted::Unknown }),
        };
        let handle = ExecHandle::new(
            ExecutorKind::Local,
            &Handle {
                pid,
                start_time,
                run_dir: target.run_dir.display().to_string(),
            },
        );
        let outcome = match PidFd::open_checked(pid, start_time) {
            Some(pidfd) => {
                let spec = files::read_spec(&target.run_dir).ok();
                let outputs = [
                    spec.as_ref()
                        .map_or_else(|| target.run_dir.join("stdout.log"), |s| s.stdout.clone()),
                    spec.as_ref()
                        .map_or_else(|| target.run_dir.join("stderr.log"), |s| s.stderr.clone()),
                ];
                let heartbeat = target.run_dir.join("heartbeat");
                self.register(
                    LocalRun {
                        work_order_id: target.work_order_id.clone(),
                        run_id: target.run_id.clone(),
                        run_dir: target.run_dir.clone(),
                        pidfd,
                        outputs,
                        heartbeat,
                    },
                    None,
                    events,
                );
                Adopted::Live(handle)
            }
            None => {
                // A supervisor that was our child (a restart in place) and
                // has exited is a zombie until reaped here.
                if let Some(s) = proc::stat(pid as i32)
                    && s.zombie
                    && s.start_time == start_time
                {
                    let _ = nix::sys::wait::waitpid(
                        nix::unistd::Pid::from_raw(pid as i32),
                        Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                    );
                }
                Adopted::Ended(end_of(&target.run_dir, pid))
            }
        };
        Box::pin(async move { outcome })
    }

    fn stop(&self, run_id: &str, req: &StopRequest) {
        let Some(run) = self.run(run_id) else {
            return;
        };
        // The request first, then the signal that makes the supervisor read it.
        if let Err(e) = files::write_stop(&run.run_dir, req) {
            tracing::error!(run = %run_id, error = %e, "cannot write stop request; the supervisor uses its default grace period");
        }
        if let Err(e) = run.pidfd.signal(Signal::SIGTERM) {
            tracing::error!(run = %run_id, error = %e, "cannot signal supervisor");
        }
    }

    fn probe(&self, run_id: &str) -> Option<Activity> {
        let run = self.run(run_id)?;
        if run.pidfd.exited() {
            return None;
        }
        let output_bytes = run
            .outputs
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        let heartbeat = std::fs::metadata(&run.heartbeat)
            .and_then(|m| m.modified())
            .ok();
        let cgroup = files::read_state(&run.run_dir).and_then(|s| s.cgroup);
        let (pids, cpu_ms) = match &cgroup {
            Some(dir) => (
                cgroup::pids_of(dir),
                cgroup::cpu_usec(dir).unwrap_or(0) / 1000,
            ),
            None => {
                let procs = proc::descendants(run.pidfd.pid() as i32);
                let ticks: u64 = procs.iter().map(|p| p.cpu_ticks).sum();
                (
                    procs.iter().map(|p| p.pid).collect(),
                    ticks * 1000 / proc::ticks_per_second(),
                )
            }
        };
        let io_bytes = pids.iter().filter_map(|&p| proc::io_bytes(p)).sum();
        Some(Activity {
            waiting: false,
            output_bytes,
            cpu_ms,
            heartbeat,
            io_bytes,
        })
    }

    fn status(&self) -> Vec<ExecutorStatus> {
        vec![ExecutorStatus {
            kind: ExecutorKind::Local,
            healthy: true,
            detail: self.status_detail.clone(),
        }]
    }

    fn capabilities(&self, kind: ExecutorKind) -> Option<Capabilities> {
        (kind == ExecutorKind::Local).then_some(CAPABILITIES)
    }
}
