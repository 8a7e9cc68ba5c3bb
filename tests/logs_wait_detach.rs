//! Following work (issue 6): `queue logs [--follow]`, `queue wait`, `daemon
//! --detach` / `daemon stop`, `queue list`, and the documented fields of every
//! command's `--json` output. Every daemon is the real binary on a temp root;
//! waits poll a condition with a deadline, never a bare sleep.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{BIN, Daemon, FAST, code, pid_alive, stderr, stdout, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

/// A client process whose stdout lines arrive on a channel as they are printed.
struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Streaming {
    fn spawn(d: &Daemon, args: &[&str]) -> Streaming {
        let mut child = d
            .command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn client");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Streaming {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (with a deadline) until a line equal to `want` has been printed.
    fn expect_line(&mut self, want: &str) {
        let deadline = Instant::now() + T;
        while !self.seen.iter().any(|l| l == want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(e) => panic!("no line {want:?} ({e}); saw {:?}", self.seen),
            }
        }
    }

    /// Waits for the process to exit; returns its exit code and every line.
    fn finish(mut self) -> (i32, Vec<String>, String) {
        let status = wait_for("the client to exit", T, || {
            self.child.try_wait().ok().flatten()
        });
        // The reader thread ends at EOF: collect what is left.
        while let Ok(l) = self.lines.recv_timeout(T) {
            self.seen.push(l);
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (
            status.code().unwrap_or(-1),
            std::mem::take(&mut self.seen),
            err,
        )
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell script that prints `before`, waits for the file `gate` to exist,
/// prints `after-1` and `after-2` and exits with `exit`.
fn gated_script(gate: &Path, exit: i32) -> String {
    format!(
        "echo before; while [ ! -e '{g}' ]; do sleep 0.02; done; echo after-1; echo after-2; exit {exit}",
        g = gate.display()
    )
}

#[test]
fn logs_follow_receives_later_lines_and_ends_with_the_work_order() {
    let d = Daemon::start(FAST);
    for (exit, want_code) in [(0, 0), (3, 1)] {
        let gate = d.dir.path().join(format!("gate-{exit}"));
        let id = d.submit_shell(&gated_script(&gate, exit), &[]);
        // Its first line is on disk before the follower attaches.
        wait_for("the first line", T, || {
            let wo = d.show(&id);
            d.read_log_of(&wo).contains("before").then_some(())
        });
        let mut follower = Streaming::spawn(&d, &["queue", "logs", "--follow", &id]);
        // It printed what was there, so it is attached: now let the agent go on.
        follower.expect_line("before");
        std::fs::write(&gate, "").unwrap();
        follower.expect_line("after-1");
        let (code, lines, err) = follower.finish();
        assert_eq!(lines, ["before", "after-1", "after-2"], "stderr: {err}");
        assert_eq!(code, want_code, "exit {exit}: stderr: {err}");
        if exit != 0 {
            assert!(
                err.starts_with("error: ") && err.contains("exited with code 3"),
                "{err}"
            );
        }
    }
}

#[test]
fn logs_follow_a_queued_work_order_from_its_start() {
    let mut args = FAST.to_vec();
    args.push("--no-auto-process");
    let d = Daemon::start(&args);
    let id = d.submit_shell("echo one; echo two >&2; echo three", &[]);
    let follower = Streaming::spawn(&d, &["queue", "logs", "-f", "--stdout", &id]);
    let err_follower = Streaming::spawn(&d, &["queue", "logs", "-f", "--stderr", &id]);
    let out = d.run(&["queue", "start", &id]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (code_out, lines, err) = follower.finish();
    assert_eq!(
        (code_out, lines),
        (0, vec!["one".into(), "three".into()]),
        "{err}"
    );
    let (code_err, lines, err) = err_follower.finish();
    assert_eq!((code_err, lines), (0, vec!["two".into()]), "{err}");
}

#[test]
fn logs_prints_output_tail_and_stderr() {
    let d = Daemon::start(FAST);
    let id = d.submit_shell(
        "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2",
        &[],
    );
    d.wait_terminal(&id, T);
    // Both streams by default, in order; one with --stdout/--stderr.
    let out = d.run(&["queue", "logs", &id]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "line 1\nline 2\nline 3\nline 4\nline 5\noops\n"
    );
    let out = d.run(&["queue", "logs", "--stdout", &id]);
    assert_eq!(stdout(&out), "line 1\nline 2\nline 3\nline 4\nline 5\n");
    let out = d.run(&["queue", "logs", "--stdout", "--tail", "2", &id]);
    assert_eq!(stdout(&out), "line 4\nline 5\n");
    let out = d.run(&["queue", "logs", "-n", "0", &id]);
    assert_eq!(stdout(&out), "");
    let out = d.run(&["queue", "logs", "--stderr", &id]);
    assert_eq!(stdout(&out), "oops\n");
    // --follow on a finished work order prints it all and exits by its status.
    let out = d.run(&["queue", "logs", "--follow", "--tail", "1", &id]);
    assert_eq!((code(&out), stdout(&out)), (0, "oops\n".to_string()));
    // Unknown and invalid ids: exit 1 with one error line.
    let out = d.run(&["queue", "logs", "nope"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).starts_with("error: no work order"),
        "{}",
        stderr(&out)
    );
    let out = d.run(&["queue", "logs", "../etc"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).starts_with("error: invalid id"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn logs_of_large_output_arrive_whole() {
    let d = Daemon::start(FAST);
    // About 1.3 MB: many 64 KiB chunks.
    let id = d.submit_shell("seq 1 200000", &[]);
    d.wait_terminal(&id, T);
    let out = d.run(&["queue", "logs", &id]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 200_000);
    assert!(text.ends_with("199999\n200000\n"));
}

#[test]
fn wait_exit_codes_success_failure_timeout() {
    let d = Daemon::start(FAST);
    let ok1 = d.submit_shell("true", &[]);
    let ok2 = d.submit_shell("echo hi", &[]);
    let out = d.run(&["queue", "wait", &ok1, &ok2]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("{ok1}  succeeded")), "{text}");
    assert!(text.contains(&format!("{ok2}  succeeded")), "{text}");
    // Piped: no progress display, nothing on stderr.
    assert_eq!(stderr(&out), "");

    let bad = d.submit_shell("exit 7", &[]);
    let out = d.run(&["queue", "wait", &ok1, &bad]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("exited with code 7"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).starts_with("error: 1 of 2 work orders did not succeed"));

    let slow = d.submit_shell("sleep 60", &[]);
    let started = Instant::now();
    let out = d.run(&["queue", "wait", &slow, "--timeout", "300ms"]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr(&out).starts_with("error: timed out after"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(&slow));

    // A wait that is attached when the work order ends: canceled = not success.
    let waiter = Streaming::spawn(&d, &["queue", "wait", &slow]);
    let out = d.run(&["queue", "cancel", &slow]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (c, lines, _) = waiter.finish();
    assert_eq!(c, 1);
    assert_eq!(lines, [format!("{slow}  canceled by user")]);

    // An unknown id: exit 1 with a clear error.
    let out = d.run(&["queue", "wait", &ok1, "nope"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("no work order with id \"nope\""),
        "{}",
        stderr(&out)
    );
    // No id at all is a usage error.
    assert_eq!(code(&d.run(&["queue", "wait"])), 2);
    // --json: the final work orders.
    let v = d.json(&["queue", "wait", "--json", &ok1, &ok2]);
    assert_eq!(v["allSucceeded"], true);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], ok1.as_str());
    assert_eq!(items[1]["status"], "succeeded");
}

#[test]
fn clients_exit_3_when_the_daemon_is_unreachable() {
    let mut d = Daemon::start(FAST);
    d.stop();
    for args in [
        &["queue", "wait", "abc"][..],
        &["queue", "logs", "abc"],
        &["queue", "list"],
        &["queue", "pause"],
    ] {
        let out = d.run(args);
        assert_eq!(code(&out), 3, "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: daemon not running at") && err.contains("agentgate daemon"),
            "{err}"
        );
    }
}

/// A root and socket for a daemon this test starts with `--detach`; the
/// daemon (found by its pid in daemon.json) is killed on drop.
struct Detached {
    dir: tempfile::TempDir,
    root: PathBuf,
    socket: PathBuf,
    pids: Vec<i32>,
}

impl Detached {
    fn new() -> Detached {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let socket = dir.path().join("run").join("agentgate.sock");
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        Detached {
            dir,
            root,
            socket,
            pids: Vec::new(),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .env("AGENTGATE_ROOT", &self.root)
            .env("AGENTGATE_SOCKET", &self.socket)
            .env("AGENTGATE_CONFIG", self.dir.path().join("config.toml"))
            .env("NO_COLOR", "1")
            .env_remove("AGENTGATE_HTTP")
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn daemon_pid(&self) -> Option<i32> {
        let v: Value =
            serde_json::from_slice(&std::fs::read(self.root.join("daemon.json")).ok()?).ok()?;
        v["pid"].as_i64().map(|p| p as i32)
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        let pids = self.pids.iter().copied().chain(self.daemon_pid());
        for pid in pids.collect::<Vec<_>>() {
            if pid_alive(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// Field 6 of /proc/PID/stat: the session id.
fn session_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(3)?.parse().ok()
}

#[test]
fn detach_then_stop_leaves_no_process_and_no_socket() {
    let mut d = Detached::new();
    let out = d.run(&["daemon", "--detach", "--http", "off", "--min-memory", "0"]);
    let pid = d.daemon_pid();
    if let Some(p) = pid {
        d.pids.push(p);
    }
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = pid.expect("daemon.json names the daemon");
    // Returned once the socket answers: usable at once, no waiting.
    assert!(std::os::unix::net::UnixStream::connect(&d.socket).is_ok());
    assert!(pid_alive(pid));
    assert_eq!(
        session_of(pid),
        Some(pid),
        "the daemon leads its own session"
    );
    assert!(
        stdout(&out).contains(&format!("pid {pid}")),
        "{}",
        stdout(&out)
    );
    let log = d.root.join("logs").join("daemon.log");
    let v = serde_json::from_slice::<Value>(&d.run(&["queue", "health", "--json"]).stdout).unwrap();
    assert_eq!(v["accepting"], true);
    // The daemon's own output goes to <root>/logs/daemon.log (it logs
    // "store loaded" before it binds its socket).
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("store loaded"),
        "log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    // A second one on the same root fails with the reason from the log.
    let out = d.run(&["daemon", "--detach", "--http", "off"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("already running"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(pid_alive(pid), "the first daemon is unaffected");

    let out = d.run(&["daemon", "stop"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // `daemon stop` returned: the process and the socket are already gone.
    assert!(!pid_alive(pid), "daemon process {pid} still alive");
    assert!(!d.socket.exists(), "socket left behind");
    assert!(!d.root.join("daemon.json").exists());
    // And nothing answers any more; a second stop has nothing to do.
    assert_eq!(code(&d.run(&["queue", "list"])), 3);
    let out = d.run(&["daemon", "stop"]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("not running"), "{}", stderr(&out));
}

#[test]
fn detach_fails_fast_with_bad_settings() {
    let d = Detached::new();
    let out = d.run(&["daemon", "--detach", "--max-concurrent", "0"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--max-concurrent"),
        "{}",
        stderr(&out)
    );
    assert!(!d.socket.exists());
}

#[test]
fn stop_waits_for_running_work_to_be_interrupted() {
    let mut d = Daemon::start(FAST);
    let id = d.submit_shell("sleep 60", &[]);
    d.wait_status(&id, "running", T);
    let pid = d.pid() as i32;
    let out = d.run(&["daemon", "stop"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!d.socket.exists());
    // The harness's child: gone means exited (a zombie until reaped).
    assert!(!pid_alive(pid));
    let status = d.child.take().unwrap().wait().unwrap();
    assert!(status.success());
    d.spawn();
    let wo = d.show(&id);
    assert_eq!(wo["status"], "failed");
    assert_eq!(wo["result"], "interrupted");
}

#[test]
fn list_shows_columns_and_short_durations() {
    let d = Daemon::start(FAST);
    let long = format!("echo {}", "x".repeat(300));
    let id = d.submit_shell(&long, &[]);
    d.wait_terminal(&id, T);
    // To a pipe: tab-separated, one work order per line, nothing cut
    // (tables for terminals are tested in tests/terminal.rs).
    let out = d
        .command()
        .args(["queue", "list"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let cols: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(cols[0], id);
    assert_eq!((cols[1], cols[2]), ("succeeded", "shell"));
    assert_eq!(cols[8], long, "prompt cut in a pipe");
    assert!(!text.contains('\x1b'), "colour despite NO_COLOR and a pipe");
    // Age and duration read like 0ms/42s/3m/1.5h.
    for c in &cols[5..7] {
        assert!(
            c.ends_with("ms") || c.ends_with('s') || c.ends_with('m') || c.ends_with('h'),
            "{c}"
        );
    }
}

/// Every client command's `--json` output parses and carries its documented fields.
#[test]
fn json_output_of_every_command_carries_the_documented_fields() {
    let mut args = FAST.to_vec();
    args.push("--no-auto-process");
    let d = Daemon::start(&args);
    let has = |v: &Value, fields: &[&str], what: &str| {
        for f in fields {
            assert!(v.get(f).is_some(), "{what}: no {f:?} in {v}");
        }
    };
    let wo_fields = [
        "id",
        "taskPrompt",
        "status",
        "agentType",
        "workspaceSource",
        "createdAt",
        "updatedAt",
        "maxTime",
        "maxIterations",
        "runCount",
    ];

    // submit
    let v = d.json(&[
        "submit",
        "--agent",
        "shell",
        "--max-time",
        "90s",
        "--json",
        "sleep 60",
    ]);
    has(&v, &wo_fields, "submit");
    assert_eq!(v["status"], "queued");
    assert_eq!(v["maxTime"], 90);
    assert_eq!(v["workspaceSource"]["type"], "local");
    let created = v["createdAt"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 12);

    // list
    let v = d.json(&["queue", "list", "--json"]);
    has(
        &v,
        &["items", "total", "limit", "offset", "hasMore"],
        "list",
    );
    assert_eq!(v["limit"], 20);
    assert_eq!(v["items"][0]["id"], id.as_str());
    has(&v["items"][0], &wo_fields, "list item");

    // start
    let v = d.json(&["queue", "start", &id, "--json"]);
    has(&v, &["id", "runId", "status", "startedAt"], "start");
    assert_eq!(v["status"], "running");
    let run_id = v["runId"].as_str().unwrap().to_string();
    d.wait_status(&id, "running", T);

    // show
    let v = d.json(&["queue", "show", &id, "--json"]);
    has(&v, &wo_fields, "show");
    has(
        &v,
        &["runs", "currentRunId", "startedAt", "timeoutAt"],
        "show",
    );
    assert_eq!(v["currentRunId"], run_id.as_str());
    assert_eq!(v["runs"][0]["id"], run_id.as_str());
    has(
        &v["runs"][0],
        &["id", "workOrderId", "status", "startedAt"],
        "run",
    );

    // health
    let v = d.json(&["queue", "health", "--json"]);
    has(&v, common::HEALTH_FIELDS, "health");
    has(
        &v["memory"],
        &["availableMb", "minMemoryMb"],
        "health.memory",
    );
    assert_eq!(v["runningCount"], 1);
    assert_eq!(v["autoProcess"], false);

    // kill
    let v = d.json(&["queue", "kill", &id, "--grace", "2s", "--json"]);
    has(
        &v,
        &[
            "id",
            "success",
            "forcedKill",
            "durationMs",
            "status",
            "message",
        ],
        "kill",
    );
    assert_eq!(v["success"], true);
    d.wait_terminal(&id, T);

    // cancel
    let queued = d.submit_shell("true", &[]);
    let v = d.json(&["queue", "cancel", &queued, "--json"]);
    has(&v, &["id", "status", "wasRunning", "killed"], "cancel");
    assert_eq!(v["status"], "canceled");
    assert_eq!(v["wasRunning"], false);

    // purge: dry run, then for real
    let v = d.json(&["queue", "purge", "--dry-run", "--json"]);
    has(
        &v,
        &["deletedCount", "deletedIds", "wouldDelete"],
        "purge --dry-run",
    );
    assert_eq!(v["wouldDelete"].as_array().unwrap().len(), 2);
    let v = d.json(&["queue", "purge", &queued, "--json"]);
    has(&v, &["deletedCount", "deletedIds"], "purge");
    assert_eq!(v["deletedCount"], 1);
    assert_eq!(v["deletedIds"][0], queued.as_str());

    // wait (exit 1: it did not succeed, but the JSON is printed all the same)
    let out = d.run(&["queue", "wait", &id, "--json"]);
    assert_eq!(code(&out), 1);
    let v: Value = serde_json::from_slice(&out.stdout).expect("wait --json parses");
    has(&v, &["items", "allSucceeded"], "wait");
    has(&v["items"][0], &wo_fields, "wait item");
    assert_eq!(v["allSucceeded"], false);
}

#[test]
fn help_names_defaults_and_errors_are_one_line() {
    let d = Daemon::start(FAST);
    let out = d.run(&["queue", "logs", "--help"]);
    let text = stdout(&out);
    for want in ["--follow", "--tail", "--stderr", "[default: all of it]"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let out = d.run(&["queue", "wait", "--help"]);
    assert!(stdout(&out).contains("[default: wait forever]"));
    let out = d.run(&["queue", "show", "nope12345678"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out).lines().count(), 1);
    let out = d.run(&["queue", "wait", "x", "--timeout", "soon"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).starts_with("error: --timeout soon: not a duration"));
}

#[test]
fn wait_shows_a_progress_line_on_a_tty_only() {
    use std::os::fd::OwnedFd;
    let d = Daemon::start(FAST);
    let gate = d.dir.path().join("gate");
    let id = d.submit_shell(&gated_script(&gate, 0), &[]);
    let done = d.submit_shell("true", &[]);
    d.wait_terminal(&done, T);
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let master: OwnedFd = pty.master;
    let mut child = d
        .command()
        .args(["queue", "wait", &id, &done])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(pty.slave))
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut reader = std::fs::File::from(master);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let want = "waiting for 2 work orders: 1 running, 1 succeeded (1/2 done)";
    let deadline = Instant::now() + T;
    while !String::from_utf8_lossy(&seen).contains(want) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(b) => seen.extend(b),
            Err(_) => panic!("no progress line; saw {:?}", String::from_utf8_lossy(&seen)),
        }
    }
    std::fs::write(&gate, "").unwrap();
    let status = wait_for("wait to exit", T, || child.try_wait().ok().flatten());
    assert!(status.success());
    while let Ok(b) = rx.recv_timeout(T) {
        seen.extend(b);
    }
    let text = String::from_utf8_lossy(&seen);
    // The line is redrawn in place and cleared at the end.
    assert!(text.starts_with("\r\x1b[2K"), "{text:?}");
    assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
    assert!(!text.contains('\n'), "{text:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
}

/// `--follow` on a work order that has not started says why it waits, then
/// follows its output once it runs.
#[test]
fn follow_of_a_queued_work_order_says_why_it_waits() {
    let d = Daemon::fast(&[]);
    d.json(&["queue", "pause", "--json"]);
    let id = d.submit_shell("echo followed", &[]);
    let err_path = d.dir.path().join("follow.err");
    let err_file = std::fs::File::create(&err_path).unwrap();
    let mut child = d
        .command()
        .args(["queue", "logs", "--follow", &id])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(err_file)
        .spawn()
        .unwrap();
    wait_for("the waiting note", T, || {
        let text = std::fs::read_to_string(&err_path).ok()?;
        text.contains("waiting to start: paused").then_some(())
    });
    d.json(&["queue", "resume", "--json"]);
    wait_for("the follower to end", T, || child.try_wait().ok().flatten());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "followed\n");
}
