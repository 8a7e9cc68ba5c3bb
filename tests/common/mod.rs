//! Test harness: the real `agentgate` binary on a temp root and a temp socket.
//! Every daemon started here is killed on drop; waits poll a condition with a
//! deadline (no sleeps as synchronisation).
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod web;

pub const BIN: &str = env!("CARGO_BIN_EXE_agentgate");

/// Polls `cond` every 10 ms until it returns `Some`, or panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub socket: PathBuf,
    pub child: Option<Child>,
    pub log: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// `RLIMIT_NOFILE` (soft and hard) for the daemon process, if set.
    pub nofile: Option<u64>,
}

/// Fields of `queue health --json` / `GET /api/v1/queue/health` (DESIGN §4).
pub const HEALTH_FIELDS: &[&str] = &[
    "status",
    "counts",
    "runningCount",
    "maxConcurrent",
    "queuedCount",
    "completedCount",
    "failedCount",
    "canceledCount",
    "oldestRunningAge",
    "stuckThreshold",
    "memory",
    "autoProcess",
    "accepting",
    "alerts",
    "timestamp",
];

/// Extra flags most tests want: no stagger, no memory floor, HTTP off.
pub const FAST: &[&str] = &["--stagger-delay", "0", "--min-memory", "0", "--http", "off"];

/// A client's exit code (-1 when a signal ended it).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The flags of `Daemon::fast` and `Daemon::with_http`, before `extra`:
/// no stagger, no memory floor, and HTTP off or on a free loopback port
/// (unless `extra` names `--http` itself).
fn flags<'a>(http: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--stagger-delay", "0", "--min-memory", "0"];
    if !extra.contains(&"--http") {
        args.extend_from_slice(&["--http", http]);
    }
    args.extend_from_slice(extra);
    args
}

impl Daemon {
    /// The usual test daemon (`FAST`) with `extra` flags.
    pub fn fast(extra: &[&str]) -> Daemon {
        Daemon::start(&flags("off", extra))
    }

    /// With the HTTP shim on a free loopback port (see `web::http_addr`).
    pub fn with_http(extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon::with_http_limited(extra, env, None)
    }

    /// Same, with the daemon's file-descriptor limit set to `nofile`.
    pub fn with_http_limited(extra: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Daemon {
        Daemon::start_limited(&flags("127.0.0.1:0", extra), env, nofile)
    }

    /// The API key the daemon generated under its root.
    pub fn api_key(&self) -> String {
        std::fs::read_to_string(self.root.join("api-key"))
            .expect("the generated API key")
            .trim()
            .to_string()
    }

    pub fn start(args: &[&str]) -> Daemon {
        Daemon::start_env(args, &[])
    }

    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon::start_limited(args, env, None)
    }

    /// Starts with the daemon's file-descriptor limit set to `nofile`.
    pub fn start_limited(args: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        let socket = dir.path().join("run").join("agentgate.sock");
        let log = dir.path().join("daemon.log");
        let mut d = Daemon {
            root,
            socket,
            log,
            dir,
            child: None,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            nofile,
        };
        d.spawn();
        d
    }

    /// Starts (again) on the same root and socket.
    pub fn spawn(&mut self) {
        self.spawn_with(|_| {});
    }

    /// Starts (again) with a last change to the daemon's command (its umask,
    /// an extra variable, ...).
    pub fn spawn_with(&mut self, adjust: impl FnOnce(&mut Command)) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = self.command();
        cmd.arg("daemon")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if let Some(n) = self.nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs here.
            unsafe {
                cmd.pre_exec(move || {
                    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, n, n)
                        .map_err(std::io::Error::from)
                });
            }
        }
        // The suite runs the built-in agent types' stand-ins unconfined
        // (they keep records outside their workspaces); tests/sandbox.rs
        // asks for each agent type's own choice with AGENTGATE_SANDBOX=auto.
        if !self.env.iter().any(|(k, _)| k == "AGENTGATE_SANDBOX") {
            cmd.env("AGENTGATE_SANDBOX", "off");
        }
        adjust(&mut cmd);
        let child = cmd.spawn().expect("spawn daemon");
        self.child = Some(child);
        self.wait_ready();
    }

    /// A daemon not started yet, on a temp root; its socket and log in `dir`.
    pub fn unstarted(args: &[&str]) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        Daemon {
            root: dir.path().join("root"),
            socket: dir.path().join("run").join("agentgate.sock"),
            log: dir.path().join("daemon.log"),
            dir,
            child: None,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            nofile: None,
        }
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("daemon exited early ({status}):\n{}", self.log_text());
            }
            if Instant::now() > deadline {
                panic!("daemon did not come up:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A command for the binary with this daemon's root and socket in its env.
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("AGENTGATE_ROOT", &self.root)
            .env("AGENTGATE_SOCKET", &self.socket)
            .env("AGENTGATE_CONFIG", self.dir.path().join("no-config.toml"))
            .env("NO_COLOR", "1")
            .env_remove("AGENTGATE_HTTP")
            .current_dir(self.dir.path());
        // An absent config file named explicitly is an error: point at an empty one.
        let _ = std::fs::write(self.dir.path().join("no-config.toml"), "");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run client")
    }

    /// Runs a client command that must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed ({}): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: bad JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Submits a `shell` work order running `script`; returns its id.
    pub fn submit_shell(&self, script: &str, extra: &[&str]) -> String {
        let mut args = vec!["submit", "--agent", "shell", "--json", script];
        args.extend_from_slice(extra);
        let v = self.json(&args);
        v["id"].as_str().expect("id").to_string()
    }

    pub fn show(&self, id: &str) -> Value {
        self.json(&["queue", "show", id, "--json"])
    }

    pub fn status(&self, id: &str) -> String {
        self.show(id)["status"].as_str().unwrap_or("").to_string()
    }

    /// Waits until the work order has `status`.
    pub fn wait_status(&self, id: &str, status: &str, timeout: Duration) -> Value {
        wait_for(&format!("{id} to be {status}"), timeout, || {
            let v = self.show(id);
            (v["status"] == status).then_some(v)
        })
    }

    /// Waits until the work order is terminal.
    pub fn wait_terminal(&self, id: &str, timeout: Duration) -> Value {
        wait_for(&format!("{id} to finish"), timeout, || {
            let v = self.show(id);
            matches!(
                v["status"].as_str(),
                Some("succeeded" | "failed" | "canceled")
            )
            .then_some(v)
        })
    }

    /// SIGTERM and wait for exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        child.wait().expect("wait daemon")
    }

    /// SIGKILL (a crash) and reap.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn read_log_of(&self, wo: &Value) -> String {
        let run = wo["currentRunId"].as_str().unwrap_or_default();
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.root.join("runs").join(run).join("stdout.log"))
        {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop_on_drop();
        // Supervisors outlive a crashed daemon by design: a test that ends
        // (or fails) with its daemon down stops what it left running.
        let left = supervisors_of(&self.root);
        for &pid in &left {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while !supervisors_of(&self.root).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Daemon {
    fn stop_on_drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM first so the daemon stops its agents' process trees.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The command line of a live process, split at NULs (empty if gone).
pub fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every pid in /proc.
pub fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|r| {
            r.flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Live supervisors of runs under `root`, from their runs' state.json.
pub fn supervisors_of(root: &Path) -> Vec<i32> {
    let Ok(runs) = std::fs::read_dir(root.join("runs")) else {
        return Vec::new();
    };
    runs.flatten()
        .filter_map(|run| {
            let state: Value =
                serde_json::from_slice(&std::fs::read(run.path().join("state.json")).ok()?).ok()?;
            let pid = state["supervisorPid"].as_i64()? as i32;
            (pid_alive(pid) && cmdline(pid).iter().any(|a| a == "__supervise")).then_some(pid)
        })
        .collect()
}

/// Live (non-zombie) processes whose process group is `pgid`, from /proc.
pub fn group_alive(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the last ')': state ppid pgrp ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" && fields[0] != "X"
        {
            out.push(pid);
        }
    }
    out
}

pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next());
            !matches!(state, Some("Z" | "X") | None)
        })
        .unwrap_or(false)
}

pub fn root_path(d: &Daemon, rel: &str) -> PathBuf {
    Path::new(&d.root).join(rel)
}
