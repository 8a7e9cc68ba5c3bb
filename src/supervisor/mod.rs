//! The per-run supervisor (`agentgate __supervise RUN_DIR`): a small process
//! of this same binary that owns one run from start to end, the role conmon or
//! containerd-shim play for containers. It does not need the daemon once
//! started, so a daemon crash, kill -9, OOM kill, SIGHUP or upgrade never
//! stops or loses running work.
//!
//! It detaches into its own session, becomes child subreaper (every orphan of
//! the run is reparented to it), puts the run in its own cgroup where one can
//! be made, prepares the workspace (a clone runs under it, so a hung clone is
//! stoppable), starts the agent as the leader of its own process group,
//! copies the agent's stdout/stderr into the run's log files, enforces the
//! deadline, and reaps every descendant. When nothing of the run is left it
//! writes `exit.json` (see `executor::files`) and exits.
//!
//! Single-threaded, no async runtime: one `poll` over a signalfd (SIGCHLD,
//! SIGTERM) and the agent's output pipes, with the nearest deadline as its
//! timeout. Nothing is polled on a timer.

mod git;
mod handoff;
mod output;
mod setup;
mod spawn;
mod tree;
mod watch;
mod workspace;

use handoff::{files_write_prompt, finish, make_run_dir, read_spec_line, wait_for_spec_file};

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::WaitStatus;

use crate::executor::files::{
    self, EndReason, RunEnd, RunExit, Spec, State, StopRequest, Workspace,
};
use crate::model::Timestamp;
use crate::sys::cgroup::RunCgroups;
use output::{Output, Stream};
use spawn::{Leader, Spawned, Stdio};

/// How long a supervisor inside a Slurm job waits for its spec file: the job
/// is submitted while the daemon records the start, and the spec is written
/// once that record is durable. No spec by then: nothing runs.
const SPEC_FILE_WAIT: Duration = Duration::from_secs(300);
/// How often a supervisor inside a Slurm job refreshes its run's counters.
const ACTIVITY_EVERY: Duration = Duration::from_secs(10);

/// How long the agent runs before the supervisor gives back what its own
/// start-up touched (`sys::mem::release_clean_file_pages`, a walk of its
/// page tables): a short run never pays for it, and a long one is not
/// slowed at its start, when the client that submitted it is still exiting.
const RELEASE_PAGES_AFTER: Duration = Duration::from_millis(100);

/// `<run-dir>/supervisor.log`: made only when there is something to say (a
/// file creation costs a fraction of a millisecond on the way to a start).
static LOG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn log(msg: impl std::fmt::Display) {
    let line = format!(
        "{} supervisor[{}]: {msg}\n",
        Timestamp::now(),
        std::process::id()
    );
    let written = LOG.get().is_some_and(|p| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(p)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .is_ok()
    });
    if !written {
        eprint!("{line}");
    }
}

/// `agentgate __supervise [--spec-file FILE]`, recognised before the CLI
/// parser runs: the supervisor's exit code, or `None` for any other command
/// line.
pub fn from_args() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != crate::executor::local::SUPERVISE {
        return None;
    }
    let spec_file = match (args.next(), args.next(), args.next()) {
        (None, _, _) => None,
        (Some(flag), Some(file), None) if flag == "--spec-file" => Some(PathBuf::from(file)),
        _ => return None, // not ours: let the parser explain
    };
    Some(main(spec_file.as_deref()))
}

/// Runs one supervisor. Started by the local executor, it may be started
/// ahead of need (a standby): it waits for its run's spec, one line on stdin,
/// exits quietly if stdin closes first (its daemon went away), and runs
/// nothing before the daemon's "go". With `spec_file` (inside a Slurm job) the
/// spec is that file and the run starts at once: the job exists only because
/// the daemon recorded the start.
pub fn main(spec_file: Option<&Path>) -> i32 {
    // The daemon starts us without a session of our own (posix_spawn, to
    // stay off the daemon's page tables): make one before anything else, so
    // its terminal, process group and death never reach us.
    let _ = nix::unistd::setsid();
    // A terminal hanging up, a Ctrl-C or a closed daemon pipe are not ours.
    // SAFETY: setting dispositions to SIG_IGN installs no handler code.
    unsafe {
        for sig in [Signal::SIGHUP, Signal::SIGINT, Signal::SIGPIPE] {
            let _ = signal(sig, SigHandler::SigIgn);
        }
    }
    std::panic::set_hook(Box::new(|info| log(format_args!("panicked: {info}"))));
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        log(format_args!("cannot become child subreaper: {e}"));
    }
    let spec = match spec_file {
        Some(file) => wait_for_spec_file(file, SPEC_FILE_WAIT),
        None => read_spec_line(),
    };
    let spec = match spec {
        Ok(Some(s)) => s,
        Ok(None) => return 0, // retired unused
        Err(e) => {
            log(format_args!("cannot read the run spec: {e}"));
            return 1;
        }
    };
    let run_dir = spec.run_dir.clone();
    let _ = LOG.set(run_dir.join(files::SUPERVISOR_LOG));
    // Kept past the start notification: the end goes there too if it cannot
    // be written (close-on-exec: no agent inherits it).
    let daemon_pipe = if spec_file.is_none() {
        nix::fcntl::fcntl(std::io::stdout(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
            .ok()
            // SAFETY: a new descriptor that nothing else owns.
            .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
    } else {
        None
    };
    let end = match Supervisor::new(&run_dir, spec, spec_file.is_none()) {
        Ok(mut s) => match s.run() {
            Some(end) => end,
            None => return 0, // abandoned before it started
        },
        Err(e) => RunEnd {
            reason: EndReason::SpawnFailed,
            error: Some(e),
            ..RunEnd::lost(String::new())
        },
    };
    finish(&run_dir, &end, daemon_pipe)
}

/// Why the run is being stopped.
#[derive(Debug, Clone)]
enum Stop {
    Timeout,
    Requested(Option<StopRequest>),
}

struct Supervisor {
    /// Started by a local daemon: stdin/stdout are its pipe ("go", start
    /// notification). Inside a Slurm job they are the job's.
    daemon_pipe: bool,
    /// The setup command run before the agent, when there is one.
    setup: Option<String>,
    dir: PathBuf,
    spec: Spec,
    signals: SignalFd,
    cgroups: RunCgroups,
    state: State,
    /// The current leader (clone, then agent): pid = its process group.
    leader: Option<i32>,
    leader_status: Option<WaitStatus>,
    /// No child is left (waitpid says ECHILD).
    children_gone: bool,
    stop: Option<Stop>,
    deadline: Option<Instant>,
    kill_at: Option<Instant>,
    /// When to refresh `activity.json` next (only for a daemon that cannot
    /// see this machine's processes: inside a Slurm job).
    next_activity: Option<Instant>,
    /// When to give back start-up's clean file pages (once the agent runs).
    release_pages_at: Option<Instant>,
    killed: bool,
    output: Output,
}

impl Supervisor {
    fn new(dir: &Path, spec: Spec, daemon_pipe: bool) -> Result<Supervisor, String> {
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGCHLD);
        mask.add(Signal::SIGTERM);
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
            .map_err(|e| format!("cannot block signals: {e}"))?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(|e| format!("cannot create a signalfd: {e}"))?;
        let me = std::process::id();
        let state = State {
            supervisor_pid: me,
            supervisor_start_time: crate::sys::proc::start_time(me).unwrap_or(0),
            ..State::default()
        };
        let (cgroups, warnings) = RunCgroups::create(
            &spec.cgroups,
            &format!("agentgate-{}", spec.run_id),
            spec.memory_max,
        );
        for w in warnings {
            log(w);
        }
        let started = Instant::now();
        // An absolute deadline from the daemon, else max time from now (a
        // job that waited in a cluster's queue starts its clock here).
        let deadline_ms = spec.deadline_ms.unwrap_or_else(|| {
            Timestamp::now()
                .millis()
                .saturating_add((spec.max_time_s as i64).saturating_mul(1000))
        });
        let left = deadline_ms.saturating_sub(Timestamp::now().millis()).max(0) as u64;
        let deadline = Some(started + Duration::from_millis(left));
        let s = Supervisor {
            daemon_pipe,
            setup: None,
            dir: dir.to_path_buf(),
            state: State {
                cgroup: cgroups.v2.clone(),
                deadline_ms: Some(deadline_ms),
                ..state
            },
            spec,
            signals,
            cgroups,
            leader: None,
            leader_status: None,
            children_gone: true,
            stop: None,
            deadline,
            kill_at: None,
            next_activity: (!daemon_pipe).then(|| Instant::now() + ACTIVITY_EVERY),
            release_pages_at: None,
            killed: false,
            output: Output::new(),
        };
        Ok(s)
    }

    fn save_state(&self) {
        if let Err(e) = files::write_state(&self.dir, &self.state) {
            log(format_args!("cannot write {}: {e}", files::STATE));
        }
    }

    /// Waits for the daemon's "go" on stdin: it has durably recorded the
    /// run. End of file instead means the run was abandoned (or its daemon
    /// died before recording it): nothing may run.
    fn wait_for_go(&self) -> bool {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).is_ok()
            && line.as_bytes() == crate::executor::local::GO
    }

    /// The run from preparation to its end.
    /// `None`: the run was abandoned before its "go" (nothing ran, nothing
    /// is left, nothing is reported).
    fn run(&mut self) -> Option<RunEnd> {
        if self.daemon_pipe && !self.wait_for_go() {
            self.cgroups.remove();
            return None;
        }
        Some(self.run_started())
    }

    fn run_started(&mut self) -> RunEnd {
        make_run_dir(&self.dir);
        let prepared = match self.spec.workspace.clone() {
            Workspace::Dir { .. } => Ok(()),
            Workspace::Clone { url, branch, dir } => {
                self.clone_workspace(&url, branch.as_deref(), &dir)
            }
            Workspace::Worktree {
                repo,
                branch,
                base,
                dir,
            } => self.make_worktree(&repo, &branch, &base, &dir),
        };
        if self.stop.is_some() {
            // Stopped (or timed out) while preparing: the agent never starts.
            return self.end_stopped(None);
        }
        if let Err(e) = prepared {
            return self.end(EndReason::PrepareFailed, None, Some(e));
        }
        let dir = self.spec.workspace.dir().to_path_buf();
        if !dir.is_dir() {
            return self.end(
                EndReason::PrepareFailed,
                None,
                Some(format!(
                    "workspace directory {} does not exist",
                    dir.display()
                )),
            );
        }
        let stdin = match self.spec.prompt.clone() {
            Some(p) => match files_write_prompt(&p) {
                Ok(()) => p.stdin.then_some(p.path),
                Err(e) => {
                    return self.end(
                        EndReason::SpawnFailed,
                        None,
                        Some(format!(
                            "cannot write the prompt to {}: {e}",
                            p.path.display()
                        )),
                    );
                }
            },
            None => None,
        };
        let mut argv = self.spec.argv.clone();
        let mut env = self.spec.env.clone();
        if let Some(cmd) = self.setup_command(&dir) {
            argv = setup::wrap(argv);
            env.extend(setup::env(&cmd, &self.dir));
            self.setup = Some(cmd);
        }
        let Some((program, args)) = argv.split_first() else {
            return self.end(
                EndReason::SpawnFailed,
                None,
                Some("agent command line is empty".into()),
            );
        };
        let env_remove = self.spec.env_remove.clone();
        let confine = match &self.spec.sandbox {
            Some(plan) => match crate::sandbox::apply::prepare(plan) {
                Ok(p) => Some(p),
                Err(e) => return self.end(EndReason::SpawnFailed, None, Some(e)),
            },
            None => None,
        };
        let leader = Leader {
            program,
            args,
            env: &env,
            env_remove: &env_remove,
            cwd: &dir,
            stdin: stdin.as_deref(),
            stdout: Stdio::Pipe,
            stderr: Stdio::Pipe,
            confine: confine.as_ref(),
        };
        let child = match self.spawn(&leader) {
            Ok(c) => c,
            Err(e) => {
                return self.end(
                    EndReason::SpawnFailed,
                    None,
                    Some(format!("cannot start {program:?}: {e}")),
                );
            }
        };
        // The agent runs: what is not on the way to its start comes now (its
        // output waits in the pipes meanwhile).
        let format = crate::agent::Format::from_name(self.spec.output_format.as_deref());
        if format.is_structured() {
            self.output.scan(format);
        }
        if let Some(o) = child.stdout {
            self.output
                .attach(Stream::Stdout, o, &self.spec.stdout, &self.dir, false);
        }
        if let Some(e) = child.stderr {
            self.output
                .attach(Stream::Stderr, e, &self.spec.stderr, &self.dir, false);
        }
        let pid = child.pid as u32;
        self.state.agent_pid = Some(pid);
        self.state.agent_start_time = crate::sys::proc::start_time(pid);
        self.save_state();
        self.notify();
        if let Err(e) = files::write_spec(&self.dir, &self.spec) {
            log(format_args!("cannot write {}: {e}", files::SPEC));
        }
        // From here on it only waits: what start-up touched is given back
        // once the agent has run a little while.
        self.release_pages_at = Some(Instant::now() + RELEASE_PAGES_AFTER);
        self.wait_tree();
        let exit = match self.leader_status {
            Some(WaitStatus::Exited(_, code)) => Some(RunExit::Code(code)),
            Some(WaitStatus::Signaled(_, sig, _)) => Some(RunExit::Signal(sig as i32)),
            _ => None,
        };
        if self.stop.is_some() {
            return self.end_stopped(exit);
        }
        let objection = match exit {
            Some(RunExit::Code(0)) => forbidden_left(&dir, &self.spec.forbidden),
            _ => None,
        };
        self.end(EndReason::Exited, exit, objection)
    }

    /// Tells the daemon that started us (our stdout is its pipe) who runs,
    /// then lets go of the pipe: an adopting daemon reads `state.json`.
    fn notify(&self) {
        if !self.daemon_pipe {
            return;
        }
        if let Ok(line) = serde_json::to_string(&self.state) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        if let Ok(null) = File::open("/dev/null") {
            let _ = nix::unistd::dup2_stdout(&null);
        }
    }

    /// Starts a leader (see `spawn`), tracked as the current one.
    fn spawn(&mut self, leader: &Leader<'_>) -> std::io::Result<Spawned> {
        let child = spawn::spawn(leader, &self.cgroups)?;
        self.leader = Some(child.pid);
        self.leader_status = None;
        self.children_gone = false;
        self.killed = false;
        self.kill_at = None;
        Ok(child)
    }
}

/// AgentGate's `forbiddenPatterns`: a run that leaves a forbidden file in
/// its workspace fails, naming the files.
fn forbidden_left(dir: &Path, patterns: &[String]) -> Option<String> {
    match crate::sandbox::forbidden::found(dir, patterns) {
        Ok(files) if files.is_empty() => None,
        Ok(files) => {
            let shown: Vec<&str> = files.iter().take(10).map(String::as_str).collect();
            let more = files.len().saturating_sub(shown.len());
            Some(format!(
                "left forbidden files in its workspace (policies.forbiddenPatterns): {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ))
        }
        Err(e) => Some(e),
    }
}
