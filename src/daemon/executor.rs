//! The executor: the one narrow interface through which runs are started,
//! stopped, observed and probed. `LocalExecutor` runs each agent as the leader of
//! its own process group. A per-run supervising process or a Slurm executor would
//! implement the same trait; nothing outside knows which one runs a work order.

use std::fs::File;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::process;

/// Everything needed to start one run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub work_order_id: String,
    pub run_id: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// How a run's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunExit {
    Code(i32),
    Signal(i32),
}

/// Delivered once per started run, after its whole process group is gone.
#[derive(Debug)]
pub struct ExitEvent {
    pub work_order_id: String,
    pub run_id: String,
    pub exit: RunExit,
}

/// A started run, as the daemon tracks it.
#[derive(Debug)]
pub struct RunHandle {
    pub pid: u32,
    pub start_time: Option<u64>,
    ctrl: mpsc::UnboundedSender<StopRequest>,
}

#[derive(Debug, Clone, Copy)]
struct StopRequest {
    /// `Duration::ZERO` = SIGKILL now.
    grace: Duration,
}

/// What the stale detector learns from a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    pub alive: bool,
    pub cpu_ticks: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot open log file {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start {program:?}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("agent command line is empty")]
    EmptyCommand,
}

pub trait Executor: Send + Sync + 'static {
    /// Starts a run; its `ExitEvent` arrives on `exits` once the group is gone.
    fn start(
        &self,
        spec: RunSpec,
        exits: mpsc::UnboundedSender<ExitEvent>,
    ) -> Result<RunHandle, ExecError>;
    /// Stops a run's whole tree: SIGTERM+SIGCONT, up to `grace`, then SIGKILL
    /// (`Duration::ZERO`: SIGKILL at once). Returns at once; the exit event
    /// follows the moment the group is gone.
    fn stop(&self, run: &RunHandle, grace: Duration);
    /// Liveness and CPU time of the run's group.
    fn probe(&self, run: &RunHandle) -> Activity;
}

pub struct LocalExecutor;

impl Executor for LocalExecutor {
    fn start(
        &self,
        spec: RunSpec,
        exits: mpsc::UnboundedSender<ExitEvent>,
    ) -> Result<RunHandle, ExecError> {
        let (program, args) = spec.argv.split_first().ok_or(ExecError::EmptyCommand)?;
        let open = |path: &PathBuf| {
            File::options()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| ExecError::Log {
                    path: path.clone(),
                    source,
                })
        };
        let stdout = open(&spec.stdout)?;
        let stderr = open(&spec.stderr)?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&spec.cwd)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Its own group: the whole tree can be signalled at once.
            .process_group(0)
            .kill_on_drop(false);
        let child = cmd.spawn().map_err(|source| ExecError::Spawn {
            program: program.clone(),
            source,
        })?;
        let pid = child.id().unwrap_or(0);
        let start_time = process::start_time(pid);
        let (ctrl, ctrl_rx) = mpsc::unbounded_channel();
        tokio::spawn(supervise(
            child,
            pid as i32,
            ctrl_rx,
            exits,
            spec.work_order_id,
            spec.run_id,
        ));
        Ok(RunHandle {
            pid,
            start_time,
            ctrl,
        })
    }

    fn stop(&self, run: &RunHandle, grace: Duration) {
        let _ = run.ctrl.send(StopRequest { grace });
    }

    fn probe(&self, run: &RunHandle) -> Activity {
        let members = process::live_members(run.pid as i32, Some(run.pid as i32));
        Activity {
            alive: !members.is_empty(),
            cpu_ticks: members.iter().map(|m| m.cpu_ticks).sum(),
        }
    }
}

/// Owns one child: waits for it (event-driven: the runtime's SIGCHLD/pidfd
/// wait), applies stop requests, and reports the exit once the group is gone.
async fn supervise(
    mut child: tokio::process::Child,
    pgid: i32,
    mut ctrl: mpsc::UnboundedReceiver<StopRequest>,
    exits: mpsc::UnboundedSender<ExitEvent>,
    work_order_id: String,
    run_id: String,
) {
    let mut kill_at: Option<Instant> = None;
    let mut stopping = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some(req) = ctrl.recv() => {
                stopping = true;
                if req.grace.is_zero() {
                    process::signal_group(pgid, Signal::SIGKILL);
                } else {
                    process::signal_group(pgid, Signal::SIGTERM);
                    process::signal_group(pgid, Signal::SIGCONT);
                    let at = deadline_after(req.grace);
                    kill_at = Some(kill_at.map_or(at, |k| k.min(at)));
                }
            }
            _ = sleep_until_opt(kill_at) => {
                process::signal_group(pgid, Signal::SIGKILL);
                kill_at = None;
            }
        }
    };
    // The leader is gone; the rest of its group must go too. A stopped run keeps
    // its grace period; after a natural exit, leftovers are killed at once.
    let deadline = match (stopping, kill_at) {
        (true, Some(at)) => at,
        _ => Instant::now(),
    };
    wait_group_gone(pgid, deadline, &mut ctrl).await;
    let exit = match status {
        Ok(st) => {
            use std::os::unix::process::ExitStatusExt;
            match (st.code(), st.signal()) {
                (Some(code), _) => RunExit::Code(code),
                (None, Some(sig)) => RunExit::Signal(sig),
                (None, None) => RunExit::Code(-1),
            }
        }
        Err(e) => {
            tracing::error!(pgid, error = %e, "waiting for agent failed");
            RunExit::Code(-1)
        }
    };
    let _ = exits.send(ExitEvent {
        work_order_id,
        run_id,
        exit,
    });
}

/// Now plus `grace`, saturating far in the future instead of overflowing.
fn deadline_after(grace: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(grace)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365))
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits until no live process is left in the group: SIGKILL at `kill_at`,
/// returning the moment the group is empty (short /proc checks, only while a
/// group is being stopped).
async fn wait_group_gone(
    pgid: i32,
    mut kill_at: Instant,
    ctrl: &mut mpsc::UnboundedReceiver<StopRequest>,
) {
    let mut killed = false;
    let give_up = Instant::now() + Duration::from_secs(600);
    // As child subreaper the daemon inherits the group's orphans, so their death
    // arrives as SIGCHLD: wake on it instead of waiting out the next check.
    let mut sigchld = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()).ok();
    loop {
        if process::live_members(pgid, None).is_empty() {
            return;
        }
        while let Ok(req) = ctrl.try_recv() {
            kill_at = kill_at.min(deadline_after(req.grace));
        }
        if !killed && Instant::now() >= kill_at {
            process::signal_group(pgid, Signal::SIGKILL);
            killed = true;
        }
        if Instant::now() > give_up {
            tracing::error!(pgid, "process group survived SIGKILL for 10 minutes");
            return;
        }
        let check = tokio::time::sleep(Duration::from_millis(5));
        match sigchld.as_mut() {
            Some(sig) => {
                tokio::select! {
                    _ = sig.recv() => {}
                    _ = check => {}
                }
            }
            None => check.await,
        }
    }
}

/// Stops a group this daemon did not start (found `running` after a restart):
/// only if `pid` is still the process that started at `start_time`, never a
/// reused PID.
pub async fn stop_untracked(pid: u32, start_time: u64, grace: Duration) -> bool {
    if !process::same_process(pid, start_time) {
        return false;
    }
    let pgid = pid as i32;
    process::signal_group(pgid, Signal::SIGTERM);
    process::signal_group(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    loop {
        if process::live_members(pgid, None).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            process::signal_group(pgid, Signal::SIGKILL);
        }
        if Instant::now() > deadline + Duration::from_secs(30) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
