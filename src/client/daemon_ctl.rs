//! Starting the daemon in the background (`daemon --detach`) and stopping it
//! (`daemon stop`).

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{CliError, unexpected};
use crate::cli::{DaemonArgs, GlobalArgs};
use crate::config::{ConfigFile, DaemonSettings, Paths};
use crate::daemon::DaemonInfo;
use crate::rpc::client::{Client, ClientError};
use crate::rpc::proto::{Reply, Request};
use crate::service::ShutdownRequest;

/// How long `--detach` waits for the socket to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `daemon stop` waits for the process to be gone after the daemon
/// accepted the shutdown (it first stops running work, a grace period each).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(20);

/// `agentgate daemon --detach`: re-runs this binary as `daemon` with the same
/// arguments minus `--detach`, in a new session, stdin from /dev/null and
/// stdout/stderr appended to `<root>/logs/daemon.log`; returns once the new
/// daemon answers on its socket, or fails with the reason from its log.
pub fn detach(global: &GlobalArgs, args: &DaemonArgs) -> Result<(), CliError> {
    // Resolve (and so validate) every setting before going to the background.
    let file = ConfigFile::load(global)?;
    let settings = DaemonSettings::resolve(global, args, file)?;
    let paths = settings.paths;
    let log_dir = paths.log_dir();
    crate::store::private::ensure_dir(&log_dir)
        .map_err(|e| CliError::Failed(format!("cannot create {}: {e}", log_dir.display())))?;
    let log_path = log_dir.join("daemon.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(crate::store::private::FILE_MODE)
        .open(&log_path)
        .map_err(|e| CliError::Failed(format!("cannot open {}: {e}", log_path.display())))?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let log_err = log
        .try_clone()
        .map_err(|e| CliError::Failed(format!("cannot open {}: {e}", log_path.display())))?;
    let exe = std::env::current_exe().map_err(|e| {
        CliError::Failed(format!(
            "cannot find the agentgate executable to re-run: {e}"
        ))
    })?;
    let child_args: Vec<OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--detach")
        .collect();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(&child_args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| CliError::Failed(format!("cannot start the daemon: {e}")))?;
    let pid = child.id();
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(CliError::Failed(format!(
                "the daemon exited during startup ({status}): {} (log: {})",
                startup_failure(&log_path, log_start),
                log_path.display()
            )));
        }
        let answers = std::os::unix::net::UnixStream::connect(&paths.socket).is_ok();
        if answers && DaemonInfo::read(&paths.root).is_some_and(|i| i.pid == pid) {
            break;
        }
        if Instant::now() > deadline {
            return Err(CliError::Failed(format!(
                "the daemon (pid {pid}) did not answer on {} within {}s; it may still be starting (log: {})",
                paths.socket.display(),
                START_TIMEOUT.as_secs(),
                log_path.display()
            )));
        }
        std::thread::sleep(POLL);
    }
    println!(
        "agentgate daemon started in the background (pid {pid})\n  socket: {}\n  log:    {}\nstop it with `agentgate daemon stop`",
        paths.socket.display(),
        log_path.display()
    );
    Ok(())
}

/// The reason a detached daemon gave up, from what it appended to its log:
/// its `error: ...` line, else its last line.
fn startup_failure(log: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        let _ = f.seek(SeekFrom::Start(from));
        let _ = f.take(1 << 20).read_to_string(&mut text);
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(l) = lines.iter().rev().find(|l| l.starts_with("error: ")) {
        return l.trim_start_matches("error: ").to_string();
    }
    lines
        .last()
        .map(|l| l.to_string())
        .unwrap_or_else(|| "it printed nothing".into())
}

/// Process start time (field 22 of /proc/PID/stat) of a live, non-zombie
/// process; `None` once it is gone.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X") | None) {
        return None;
    }
    // `rest` starts at field 3 (state), so field 22 is index 19.
    fields.get(19)?.parse().ok()
}

/// `agentgate daemon stop [--keep-running]`: graceful shutdown over RPC, then
/// wait until the socket is gone and the daemon's process has exited.
pub async fn stop_daemon(paths: &Paths, keep_running: bool, yes: bool) -> Result<(), CliError> {
    let mut client = match Client::connect(&paths.socket).await {
        Ok(c) => c,
        // Already what was asked for.
        Err(ClientError::Unreachable { socket }) => {
            eprintln!(
                "agentgate daemon is not running (no daemon at {})",
                socket.display()
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    // The process at the other end of the socket (SO_PEERCRED), else daemon.json.
    let pid = client.peer_pid().or_else(|| {
        DaemonInfo::read(&paths.root)
            .filter(|i| i.socket == paths.socket)
            .map(|i| i.pid)
    });
    let started = pid.and_then(process_start);
    let running = match client
        .call(Request::Health(crate::service::HealthRequest))
        .await?
    {
        Reply::Health(h) => Some(h.running_count),
        _ => None,
    };
    // Stopping running agents at a terminal is asked first (like a purge);
    // scripts (no terminal) and --yes are not asked.
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if let Some(n) = running.filter(|n| *n > 0 && !keep_running && !yes && tty) {
        let what = if n == 1 {
            "1 running work order".to_string()
        } else {
            format!("{n} running work orders")
        };
        eprint!(
            "Stop the daemon and {what} (SIGTERM, then SIGKILL after the grace period)? `--keep-running` leaves them running for the next daemon. [y/N] "
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(CliError::Failed(
                "daemon stop aborted; nothing was stopped".into(),
            ));
        }
    }
    let running = running.filter(|_| keep_running);
    match client
        .call(Request::Shutdown(ShutdownRequest {
            keep_running,
            restart: false,
        }))
        .await?
    {
        Reply::ShuttingDown(()) => {}
        r => return Err(unexpected(r)),
    }
    drop(client);
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        let alive = match (pid, started) {
            (Some(p), Some(t)) => process_start(p) == Some(t),
            _ => false,
        };
        if !alive && !paths.socket.exists() {
            break;
        }
        if Instant::now() > deadline {
            return Err(CliError::Failed(format!(
                "the daemon accepted shutdown but {} after {}s{}",
                if alive {
                    "its process is still running"
                } else {
                    "its socket is still there"
                },
                STOP_TIMEOUT.as_secs(),
                pid.map(|p| format!("; check pid {p}")).unwrap_or_default()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
    let kept = running
        .map(|n| format!("; {n} running work orders left to their supervisors for the next daemon"))
        .unwrap_or_default();
    match pid {
        Some(p) => eprintln!("daemon stopped (pid {p}){kept}"),
        None => eprintln!("daemon stopped{kept}"),
    }
    Ok(())
}

/// How long `daemon restart` waits for the daemon to serve again.
const RESTART_TIMEOUT: Duration = Duration::from_secs(30);

/// `agentgate daemon restart`: the daemon stops serving without touching
/// running work and starts again in place; returns once the new instance
/// answers (and says how much running work it kept).
pub async fn restart_daemon(paths: &Paths) -> Result<(), CliError> {
    let mut client = Client::connect(&paths.socket).await?;
    let before = DaemonInfo::read(&paths.root).map(|i| i.instance);
    match client
        .call(Request::Shutdown(ShutdownRequest {
            keep_running: true,
            restart: true,
        }))
        .await?
    {
        Reply::ShuttingDown(()) => {}
        r => return Err(unexpected(r)),
    }
    drop(client);
    let deadline = Instant::now() + RESTART_TIMEOUT;
    loop {
        let info = DaemonInfo::read(&paths.root);
        if let Some(info) = info.filter(|i| Some(&i.instance) != before.as_ref())
            && let Ok(mut c) = Client::connect(&paths.socket).await
            && let Ok(Reply::Health(h)) =
                c.call(Request::Health(crate::service::HealthRequest)).await
        {
            eprintln!(
                "daemon restarted (pid {}); {} running work orders kept",
                info.pid, h.running_count
            );
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CliError::Failed(format!(
                "the daemon accepted the restart but did not answer again on {} within {}s; see its log (<root>/logs/daemon.log when detached)",
                paths.socket.display(),
                RESTART_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}
