//! Core behaviour through the real binary: lifecycle, exits and signals,
//! concurrency and FIFO, auto-process off, restart, the lock, the socket door
//! under bad input, and git workspaces.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;

use agentgate::rpc::codec;
use agentgate::rpc::proto::{ClientFrame, PROTOCOL_VERSION, Request, ServerFrame};
use common::{Daemon, FAST, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

#[test]
fn exit_zero_succeeds_and_nonzero_fails_with_exit_code() {
    let d = Daemon::start(FAST);
    let ok = d.submit_shell("echo hello; exit 0", &[]);
    let bad = d.submit_shell("echo oops >&2; exit 3", &[]);
    let ok = d.wait_terminal(&ok, T);
    assert_eq!(ok["status"], "succeeded", "{ok}");
    assert_eq!(ok["result"], "exited");
    assert_eq!(ok["exitCode"], 0);
    assert_eq!(d.read_log_of(&ok), "hello\n");
    let bad = d.wait_terminal(&bad, T);
    assert_eq!(bad["status"], "failed", "{bad}");
    assert_eq!(bad["result"], "exited");
    assert_eq!(bad["exitCode"], 3);
    assert!(bad["error"].as_str().unwrap().contains("code 3"));
    // The run record is on disk and listed with the work order.
    assert_eq!(bad["runs"][0]["status"], "failed");
    assert_eq!(bad["runs"][0]["exitCode"], 3);
}

#[test]
fn external_sigkill_fails_with_signal_9() {
    let d = Daemon::start(FAST);
    let id = d.submit_shell("sleep 1000", &[]);
    let wo = wait_for("pid", T, || {
        let v = d.show(&id);
        v["pid"].as_i64().map(|_| v)
    });
    let pid = wo["pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    assert_eq!(wo["result"], "signaled");
    assert_eq!(wo["signal"], 9);
    assert!(wo["error"].as_str().unwrap().contains("SIGKILL"));
}

#[test]
fn max_concurrent_two_with_five_orders_fifo() {
    let mut args = FAST.to_vec();
    args.extend(["--max-concurrent", "2"]);
    let d = Daemon::start(&args);
    let ids: Vec<String> = (0..5)
        .map(|i| d.submit_shell(&format!("sleep 0.3; echo {i}"), &[]))
        .collect();
    // Watch the daemon's own view while they run.
    let mut max_seen = 0;
    wait_for("all five to finish", Duration::from_secs(30), || {
        let h = d.json(&["queue", "health", "--json"]);
        max_seen = max_seen.max(h["runningCount"].as_u64().unwrap());
        let list = d.json(&["queue", "list", "--all", "--json"]);
        let done = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["status"] == "succeeded")
            .count();
        (done == 5).then_some(())
    });
    assert!(max_seen <= 2, "saw {max_seen} running at once");
    // From the daemon's recorded run intervals: never more than 2 overlap.
    let runs: Vec<(i64, i64, i64)> = ids
        .iter()
        .map(|id| {
            let v = d.show(id);
            let ts = |k: &str| {
                chrono::DateTime::parse_from_rfc3339(v[k].as_str().unwrap())
                    .unwrap()
                    .timestamp_millis()
            };
            (ts("createdAt"), ts("startedAt"), ts("completedAt"))
        })
        .collect();
    for (_, start, _) in &runs {
        let overlapping = runs
            .iter()
            .filter(|(_, s, e)| s <= start && start < e)
            .count();
        assert!(
            overlapping <= 2,
            "{overlapping} runs overlap at {start}: {runs:?}"
        );
    }
    // FIFO: starts in submission order.
    for w in runs.windows(2) {
        assert!(w[0].0 <= w[1].0 && w[0].1 <= w[1].1, "not FIFO: {runs:?}");
    }
}

#[test]
fn no_auto_process_keeps_work_queued_until_started() {
    let mut args = FAST.to_vec();
    args.push("--no-auto-process");
    let d = Daemon::start(&args);
    let id = d.submit_shell("exit 0", &[]);
    // Admission runs inside the submit handler: with auto-process on it would
    // already be running here.
    assert_eq!(d.status(&id), "queued");
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["queuedCount"], 1);
    assert_eq!(h["autoProcess"], false);
    assert_eq!(d.status(&id), "queued");
    let started = d.json(&["queue", "start", &id, "--json"]);
    assert_eq!(started["status"], "running");
    assert_eq!(d.wait_terminal(&id, T)["status"], "succeeded");
}

#[test]
fn restart_keeps_every_work_order_with_the_same_fields() {
    let mut args = FAST.to_vec();
    args.push("--no-auto-process");
    let mut d = Daemon::start(&args);
    let q1 = d.submit_shell("exit 0", &["--max-time", "90s"]);
    let q2 = d.submit_shell("exit 4", &[]);
    d.json(&["queue", "start", &q2, "--json"]);
    d.wait_terminal(&q2, T);
    let q3 = d.submit_shell("echo x", &[]);
    d.json(&["queue", "cancel", &q3, "--json"]);
    let before = d.json(&["queue", "list", "--all", "--json"]);
    assert!(d.stop().success());
    assert!(!d.socket.exists(), "socket left behind after shutdown");
    d.spawn();
    let after = d.json(&["queue", "list", "--all", "--json"]);
    assert_eq!(before, after);
    assert_eq!(after["total"], 3);
    let wo = d.show(&q1);
    assert_eq!(wo["maxTime"], 90);
    assert_eq!(wo["status"], "queued");
}

#[test]
fn second_daemon_refused_and_client_without_daemon_gets_3() {
    let d = Daemon::start(FAST);
    let out = d
        .command()
        .args(["daemon", "--http", "off"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already running"), "{err}");
    assert!(err.contains(&d.pid().to_string()), "names the pid: {err}");
    // The first daemon is unaffected.
    d.json(&["queue", "health", "--json"]);

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nothing.sock");
    let out = Command::new(common::BIN)
        .args(["queue", "list"])
        .env("AGENTGATE_ROOT", dir.path())
        .env("AGENTGATE_SOCKET", &sock)
        .env("AGENTGATE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("daemon not running")
            && err.contains(sock.to_str().unwrap())
            && err.contains("agentgate daemon"),
        "{err}"
    );
}

/// Sends raw bytes and reads what comes back until the daemon closes.
fn raw_exchange(d: &Daemon, bytes: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

fn decode_error(reply: &[u8]) -> String {
    assert!(reply.len() > 4, "no error frame: {reply:?}");
    match codec::decode::<ServerFrame>(&reply[4..]).unwrap() {
        ServerFrame::Err(e) => e.message,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn bad_input_on_the_socket_never_hurts_the_daemon() {
    let d = Daemon::start(FAST);
    let id = d.submit_shell("exit 0", &[]);

    // Garbage bytes that form a frame which does not decode.
    let reply = raw_exchange(&d, &frame(&[0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]));
    assert!(decode_error(&reply).contains("malformed"));
    // Garbage that is not even a complete frame header, then close.
    raw_exchange(&d, &[0x01, 0x02]);
    // A frame over the 16 MiB limit: error, then the connection is closed.
    let mut big = (64u32 * 1024 * 1024).to_be_bytes().to_vec();
    big.extend_from_slice(&[0u8; 1024]);
    let reply = raw_exchange(&d, &big);
    assert!(decode_error(&reply).contains("frame"), "{reply:?}");
    // Wrong protocol version: an error naming both versions.
    let hello = codec::encode(&ClientFrame::Hello { version: 999 }).unwrap();
    let msg = decode_error(&raw_exchange(&d, &frame(&hello)));
    assert!(
        msg.contains("999") && msg.contains(&PROTOCOL_VERSION.to_string()),
        "{msg}"
    );
    // A request before the handshake.
    let req = codec::encode(&ClientFrame::Request(Box::new(Request::Health(
        agentgate::service::HealthRequest,
    ))))
    .unwrap();
    assert!(decode_error(&raw_exchange(&d, &frame(&req))).contains("Hello"));

    // Hostile ids, through the real protocol.
    let hello = codec::encode(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
    })
    .unwrap();
    for bad in ["../etc/passwd", "a/b", "..", "a\0b", ""] {
        let show = codec::encode(&ClientFrame::Request(Box::new(Request::Show(
            agentgate::service::ShowRequest { id: bad.into() },
        ))))
        .unwrap();
        let mut bytes = frame(&hello);
        bytes.extend(frame(&show));
        let mut s = UnixStream::connect(&d.socket).unwrap();
        s.write_all(&bytes).unwrap();
        let mut len = [0u8; 4];
        let mut read_frame = |s: &mut UnixStream| {
            s.read_exact(&mut len).unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            s.read_exact(&mut body).unwrap();
            codec::decode::<ServerFrame>(&body).unwrap()
        };
        assert!(matches!(read_frame(&mut s), ServerFrame::Hello { .. }));
        match read_frame(&mut s) {
            ServerFrame::Err(e) => assert_eq!(
                e.code,
                agentgate::service::ErrorCode::BadRequest,
                "{bad:?}: {e:?}"
            ),
            other => panic!("{bad:?} accepted: {other:?}"),
        }
    }
    for bad in ["../x", "a/b", ".."] {
        let out = d.run(&["queue", "show", bad]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("invalid id"));
    }

    // The daemon still serves, and nothing was lost.
    assert_eq!(d.wait_terminal(&id, T)["status"], "succeeded");
    let out = d.run(&["queue", "show", "nosuchid1234"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no work order"));
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_and_github_sources_are_cloned_and_the_agent_runs_in_them() {
    let repos = tempfile::tempdir().unwrap();
    let bare = repos.path().join("acme").join("widget.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "--initial-branch=main"]);
    let work = repos.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "--initial-branch=main"]);
    std::fs::write(work.join("marker.txt"), "from the repo\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "init"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);

    let base = format!("file://{}", repos.path().display());
    let d = Daemon::start_env(FAST, &[("AGENTGATE_GITHUB_BASE_URL", &base)]);
    let url = format!("file://{}", bare.display());
    let by_url = d.submit_shell("cat marker.txt; pwd", &["--url", &url]);
    let by_repo = d.submit_shell("cat marker.txt", &["--repo", "acme/widget"]);
    let by_owner = d.submit_shell(
        "cat marker.txt",
        &["--repo", "widget", "--owner", "acme", "--branch", "main"],
    );
    for id in [&by_url, &by_repo, &by_owner] {
        let wo = d.wait_terminal(id, T);
        assert_eq!(wo["status"], "succeeded", "{wo}\n{}", d.log_text());
        assert!(d.read_log_of(&wo).starts_with("from the repo\n"));
    }
    let wo = d.show(&by_url);
    assert_eq!(wo["workspaceSource"]["type"], "git");
    assert!(d.read_log_of(&wo).contains(&format!("workspaces/{by_url}")));
    let wo = d.show(&by_repo);
    assert_eq!(
        wo["workspaceSource"],
        serde_json::json!({"type":"github","repo":"acme/widget"})
    );

    // A clone that fails fails the run with a clear error; never left running.
    let missing = d.submit_shell("true", &["--repo", "acme/missing"]);
    let wo = d.wait_terminal(&missing, T);
    assert_eq!(wo["status"], "failed");
    assert_eq!(wo["result"], "spawn_failed");
    assert!(wo["error"].as_str().unwrap().contains("git clone"), "{wo}");
}

#[test]
fn submit_rejects_bad_input_with_clear_errors() {
    let d = Daemon::start_env(FAST, &[("AGENTGATE_GITHUB_OWNER", "")]);
    // Bad flag values are usage errors (exit 2) naming the flag as typed.
    let cases: &[(&[&str], &str)] = &[
        (
            &["submit", "--agent", "nope", "x"],
            "--agent nope: unknown agent type",
        ),
        (
            &["submit", "--agent", "shell", "   "],
            "the prompt is empty",
        ),
        (
            &["submit", "--agent", "shell", "--max-time", "30d", "x"],
            "--max-time 30d: at most 7d",
        ),
        (
            &[
                "submit",
                "--agent",
                "shell",
                "--url",
                "https://github.com/only-owner",
                "x",
            ],
            "is not a GitHub repository URL",
        ),
        (
            &["submit", "--agent", "shell", "--repo", "lonely", "x"],
            "AGENTGATE_GITHUB_OWNER",
        ),
        (
            &["submit", "--agent", "shell", "--max-time", "soon", "x"],
            "--max-time soon",
        ),
    ];
    for (args, needle) in cases {
        let out = d.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
    let list: Value = d.json(&["queue", "list", "--json"]);
    assert_eq!(list["total"], 0);
}

#[test]
fn graceful_shutdown_stops_running_trees_and_marks_them_interrupted() {
    let mut d = Daemon::start(FAST);
    let id = d.submit_shell("sleep 1000 & sleep 1000", &[]);
    let wo = wait_for("running with a pid", T, || {
        let v = d.show(&id);
        v["pid"].as_i64().map(|_| v)
    });
    let pgid = wo["pid"].as_i64().unwrap() as i32;
    let status = d.stop();
    assert!(status.success(), "daemon exit {status}");
    assert!(
        common::group_alive(pgid).is_empty(),
        "agents survived shutdown"
    );
    assert!(!d.socket.exists());
    d.spawn();
    let wo = d.show(&id);
    assert_eq!(wo["status"], "failed");
    assert_eq!(wo["result"], "interrupted");
    assert!(wo["error"].as_str().unwrap().contains("shut down"));
}

#[test]
fn agents_from_the_config_file_with_placeholders_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        r#"
[agents.echoer]
command = ["sh", "-c", "echo \"$1|$2|$3|$GREETING|$AGENTGATE_WORK_ORDER_ID|$AGENTGATE_RUN_ID\"", "sh", "{prompt}", "{work_order_id}", "{workspace}"]
env = { GREETING = "hello" }
"#,
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let d = Daemon::start_env(FAST, &[("AGENTGATE_CONFIG", &cfg)]);
    let work = tempfile::tempdir().unwrap();
    let ws = std::fs::canonicalize(work.path()).unwrap();
    // The prompt is one argument, never shell-parsed; placeholders in it stay.
    let v = d.json(&[
        "submit",
        "--agent",
        "echoer",
        "--path",
        ws.to_str().unwrap(),
        "--json",
        "two words; {workspace} $(id)",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    let run = wo["currentRunId"].as_str().unwrap();
    assert_eq!(
        d.read_log_of(&wo),
        format!(
            "two words; {{workspace}} $(id)|{id}|{}|hello|{id}|{run}\n",
            ws.display()
        )
    );
    // The built-ins are still there; an unknown one is named with the known ones.
    let out = d.run(&["submit", "--agent", "nope", "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("echoer") && err.contains("shell"), "{err}");
}
