//! Local security through the real daemon binary, tried as another local
//! user would (uid 65534 through `setpriv`): a private root, agents without
//! the daemon's secrets, a socket no one else can reach, refused API-key
//! files, and the RPC door's limits (frames, connections, refused uids).

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{BIN, Daemon, FAST};

const T: Duration = Duration::from_secs(20);
const NOBODY: u32 = 65534;

/// A directory everyone may traverse (as `$HOME` often is), so that only
/// the daemon's own modes stand between another user and its files.
fn open_tempdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    d
}

/// The binary where uid 65534 can run it.
fn nobody_binary(dir: &Path) -> PathBuf {
    let bin = dir.join("agentgate");
    if !bin.exists() {
        std::fs::copy(BIN, &bin).expect("copy binary");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

/// Runs `program args` as uid/gid 65534 with no supplementary groups.
fn as_nobody(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        "--clear-groups",
        "--",
    ])
    .arg(program)
    .args(args)
    .env_clear()
    .env("PATH", "/usr/bin:/bin")
    .env("HOME", "/nonexistent")
    .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("setpriv")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn a_fresh_root_is_private_whatever_the_umask() {
    let home = open_tempdir();
    let mut d = Daemon::unstarted(FAST);
    d.root = home.path().join("root");
    d.args = vec![
        "--stagger-delay".into(),
        "0".into(),
        "--min-memory".into(),
        "0".into(),
        "--http".into(),
        "127.0.0.1:0".into(),
    ];
    d.spawn_with(|c| {
        use std::os::unix::process::CommandExt;
        // SAFETY: umask is async-signal-safe.
        unsafe {
            c.pre_exec(|| {
                libc::umask(0);
                Ok(())
            });
        }
    });
    let ok = d.submit_shell(
        "echo out; echo err >&2; touch \"$AGENTGATE_HEARTBEAT_FILE\"",
        &[],
    );
    d.wait_status(&ok, "succeeded", T);
    let bad = d.submit_shell("exit 3", &[]);
    d.wait_status(&bad, "failed", T);
    assert!(d.root.join("api-key").exists(), "{}", d.log_text());

    let mut paths = Vec::new();
    walk(&d.root, &mut paths);
    assert!(paths.len() > 10, "{paths:?}");
    for p in &paths {
        let meta = std::fs::symlink_metadata(p).expect("stat");
        let mode = meta.mode() & 0o7777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{} is {mode:04o}", p.display());
        } else if p.file_name().is_some_and(|n| n == "heartbeat") {
            // The agent's own file, made with its umask: private through
            // the 0700 directories above it (checked as uid 65534 below).
        } else if !meta.file_type().is_symlink() {
            assert_eq!(mode & 0o077, 0, "{} is {mode:04o}", p.display());
        }
    }
    // And as another user: nothing under the root can be read or listed.
    for p in &paths {
        let out = as_nobody(Path::new("/usr/bin/cat"), &[&p.to_string_lossy()], &[]);
        assert!(
            !out.status.success(),
            "uid {NOBODY} read {}: {}",
            p.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = as_nobody(Path::new("/usr/bin/ls"), &[&d.root.to_string_lossy()], &[]);
    assert!(!out.status.success(), "uid {NOBODY} listed the root");
}

#[test]
fn an_existing_open_root_is_tightened_at_start() {
    let home = open_tempdir();
    let mut d = Daemon::unstarted(FAST);
    d.root = home.path().join("root");
    std::fs::create_dir_all(d.root.join("work-orders")).expect("mkdir");
    std::fs::set_permissions(&d.root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // What an older version left inside: a readable work-order file and run
    // directory, and a workspace (the agents' files: not ours to change).
    let wo = d.root.join("work-orders/oldOrder0001.json");
    std::fs::write(&wo, "{not json, quarantined}").expect("write");
    std::fs::set_permissions(&wo, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = d.root.join("logs");
    std::fs::create_dir_all(&run).expect("mkdir");
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let log = run.join("daemon.log.1");
    std::fs::write(&log, "old output\n").expect("write");
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let clone = d.root.join("workspaces/someorder/README");
    std::fs::create_dir_all(clone.parent().unwrap()).expect("mkdir");
    std::fs::write(&clone, "user file").expect("write");
    std::fs::set_permissions(&clone, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    d.spawn();
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").mode() & 0o777;
    assert_eq!(mode(&d.root), 0o700);
    assert!(
        d.log_text().contains("made it private"),
        "no log line: {}",
        d.log_text()
    );
    // The work-order file may have been quarantined (it is not JSON): find it.
    let quarantined = std::fs::read_dir(d.root.join("work-orders/.quarantine"))
        .ok()
        .and_then(|mut r| r.next())
        .and_then(|e| e.ok())
        .map(|e| e.path());
    let kept = if wo.exists() {
        wo.clone()
    } else {
        quarantined.expect("kept somewhere")
    };
    assert_eq!(mode(&kept), 0o600, "{}", kept.display());
    assert_eq!(mode(&run), 0o700);
    assert_eq!(mode(&log), 0o600);
    assert_eq!(mode(&clone), 0o644, "a workspace file was changed");
    assert!(
        d.log_text().contains("files and directories private"),
        "no count: {}",
        d.log_text()
    );
}

#[test]
fn agents_get_the_environment_without_the_daemons_secrets() {
    let mut d = Daemon::unstarted(FAST);
    d.env = vec![
        ("AGENTGATE_API_KEY".into(), "sekrit-key-123".into()),
        ("AGENTGATE_API_KEY_FILE".into(), "/nonexistent/key".into()),
        ("MY_TOKEN".into(), "token-456".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "aws-789".into()),
        ("KEEP_ME".into(), "kept-value".into()),
    ];
    // The list from the config file, with a prefix pattern.
    let config = d.dir.path().join("agentgate.toml");
    std::fs::write(&config, "env_remove = [\"MY_TOKEN\", \"AWS_*\"]\n").expect("config");
    d.env
        .push(("AGENTGATE_CONFIG".into(), config.display().to_string()));
    d.spawn();
    // The agent's environment, and its supervisor's (its parent, readable
    // by the same user through /proc).
    let id = d.submit_shell("env; echo ---; tr '\\0' '\\n' < /proc/$PPID/environ", &[]);
    let wo = d.wait_status(&id, "succeeded", T);
    let out = d.read_log_of(&wo);
    assert!(out.contains("KEEP_ME=kept-value"), "{out}");
    assert!(out.contains("AGENTGATE_WORK_ORDER_ID="), "{out}");
    for secret in ["sekrit-key-123", "/nonexistent/key", "token-456", "aws-789"] {
        assert!(!out.contains(secret), "{secret} reached the agent: {out}");
    }
    assert!(!out.contains("AGENTGATE_API_KEY"), "{out}");
}

#[test]
fn a_socket_in_an_existing_directory_keeps_its_mode_and_stays_private() {
    let home = open_tempdir();
    let dir = home.path().join("dir");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut d = Daemon::unstarted(FAST);
    d.socket = dir.join("s.sock");
    d.spawn();
    d.json(&["queue", "health", "--json"]);
    assert_eq!(
        std::fs::metadata(&dir).expect("stat").mode() & 0o7777,
        0o755
    );
    let sock = std::fs::symlink_metadata(&d.socket).expect("stat");
    assert_eq!(sock.mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_dir(&dir).expect("ls").count(), 1, "leftovers");

    // Another user cannot connect.
    let bin = nobody_binary(home.path());
    let out = as_nobody(
        &bin,
        &["--config", "/dev/null", "queue", "health"],
        &[("AGENTGATE_SOCKET", &d.socket)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");

    // Restarted on the same socket: still the same modes, still one entry.
    d.stop();
    d.spawn();
    assert_eq!(
        std::fs::metadata(&dir).expect("stat").mode() & 0o7777,
        0o755
    );
    assert_eq!(std::fs::read_dir(&dir).expect("ls").count(), 1);
}

#[test]
fn a_socket_directory_others_can_write_is_refused() {
    let home = open_tempdir();
    let dir = home.path().join("shared");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let d = Daemon::unstarted(FAST);
    let out = d
        .command()
        .env("AGENTGATE_SOCKET", dir.join("s.sock"))
        .args(["daemon"])
        .args(FAST)
        .stdin(Stdio::null())
        .output()
        .expect("daemon");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("writable by other users") && stderr.contains("chmod go-w"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::metadata(&dir).expect("stat").mode() & 0o7777,
        0o1777
    );
    assert_eq!(std::fs::read_dir(&dir).expect("ls").count(), 0);
}

/// Starts a daemon that must refuse to start; its stderr.
fn refused_start(d: &Daemon, extra: &[&str]) -> String {
    let out = d
        .command()
        .arg("daemon")
        .args(["--stagger-delay", "0", "--min-memory", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("daemon");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "daemon started: {stderr}");
    stderr
}

#[test]
fn api_key_files_others_could_read_or_swap_are_refused() {
    let d = Daemon::unstarted(FAST);
    let key = d.dir.path().join("key");
    std::fs::write(&key, "k-123\n").expect("key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let key_arg = key.display().to_string();
    let http = ["--http", "127.0.0.1:0", "--api-key-file", key_arg.as_str()];

    // Readable by others: refused with the fix, and left as it was.
    let e = refused_start(&d, &http);
    assert!(
        e.contains("accessible by other users") && e.contains("chmod 600"),
        "{e}"
    );
    assert_eq!(std::fs::metadata(&key).expect("stat").mode() & 0o777, 0o644);

    // A symlink (even to a private file): refused.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = d.dir.path().join("link");
    std::os::unix::fs::symlink(&key, &link).expect("symlink");
    let link_arg = link.display().to_string();
    let e = refused_start(
        &d,
        &["--http", "127.0.0.1:0", "--api-key-file", link_arg.as_str()],
    );
    assert!(e.contains("symlink"), "{e}");

    // Owned by another user: refused.
    std::os::unix::fs::chown(&key, Some(NOBODY), Some(NOBODY)).expect("chown");
    let e = refused_start(&d, &http);
    assert!(e.contains("owned by uid 65534"), "{e}");

    // `<root>/api-key` pointing at an outside 0644 file: refused, and the
    // file it points to is not chmodded.
    let outside = d.dir.path().join("outside");
    std::fs::write(&outside, "outside-key\n").expect("write");
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::create_dir_all(&d.root).expect("root");
    std::os::unix::fs::symlink(&outside, d.root.join("api-key")).expect("symlink");
    let e = refused_start(&d, &["--http", "127.0.0.1:0"]);
    assert!(e.contains("symlink"), "{e}");
    assert_eq!(
        std::fs::metadata(&outside).expect("stat").mode() & 0o777,
        0o644
    );

    // A private key file is used.
    std::os::unix::fs::chown(&key, Some(0), Some(0)).expect("chown");
    let mut ok = Daemon::unstarted(FAST);
    ok.args = [
        "--stagger-delay",
        "0",
        "--min-memory",
        "0",
        "--http",
        "127.0.0.1:0",
        "--api-key-file",
        key_arg.as_str(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ok.spawn();
    ok.json(&["queue", "health", "--json"]);
}

// ---- the RPC door's limits ---------------------------------------------------------------

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

const MIB: u64 = 1024 * 1024;

/// A length header declaring `len` bytes.
fn header(len: usize) -> [u8; 4] {
    (len as u32).to_be_bytes()
}

#[test]
fn declared_frames_reserve_nothing_and_big_frames_give_memory_back() {
    use std::io::{Read, Write};
    let d = Daemon::start(FAST);
    for _ in 0..3 {
        d.json(&["queue", "health", "--json"]);
    }
    let base = rss(d.pid());

    // 60 connections each declaring a 15 MiB frame and sending one byte.
    let mut held = Vec::new();
    for _ in 0..60 {
        let mut s = std::os::unix::net::UnixStream::connect(&d.socket).expect("connect");
        s.write_all(&header(15 << 20)).expect("header");
        s.write_all(&[0]).expect("byte");
        held.push(s);
    }
    // Served (a request after them is answered), and memory stays flat.
    d.json(&["queue", "health", "--json"]);
    let mut peak = 0;
    for _ in 0..50 {
        peak = peak.max(rss(d.pid()));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        peak < base + 32 * MIB,
        "RSS grew from {} MiB to {} MiB",
        base / MIB,
        peak / MIB
    );
    drop(held);

    // A burst of real 15 MiB frames (after a proper handshake): the daemon
    // reads each whole, refuses it, and gives the memory back afterwards.
    let hello = agentgate::rpc::codec::encode(&agentgate::rpc::proto::ClientFrame::Hello {
        version: agentgate::rpc::proto::PROTOCOL_VERSION,
    })
    .expect("hello");
    let junk = vec![0xffu8; 15 << 20];
    let threads: Vec<_> = (0..60)
        .map(|_| {
            let (socket, hello, junk) = (d.socket.clone(), hello.clone(), junk.clone());
            std::thread::spawn(move || {
                let mut s = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
                s.set_read_timeout(Some(Duration::from_secs(30)))
                    .expect("timeout");
                s.write_all(&header(hello.len())).expect("write");
                s.write_all(&hello).expect("write");
                s.write_all(&header(junk.len())).expect("write");
                s.write_all(&junk).expect("write");
                let mut answer = Vec::new();
                let _ = s.read_to_end(&mut answer);
                answer
            })
        })
        .collect();
    for t in threads {
        let answer = t.join().expect("thread");
        // The Hello answer, then an error frame for the junk.
        assert!(answer.len() > 8, "no answer: {answer:?}");
    }
    drop(junk);
    let after = common::wait_for(
        "RSS back near its baseline",
        Duration::from_secs(10),
        || {
            let now = rss(d.pid());
            (now < base + 32 * MIB).then_some(now)
        },
    );
    println!(
        "RSS: baseline {} MiB, peak with 60 declared frames {} MiB, after 60 x 15 MiB frames {} MiB",
        base / MIB,
        peak / MIB,
        after / MIB
    );
    d.json(&["queue", "health", "--json"]);
}

#[test]
fn a_refused_user_is_told_why() {
    let home = open_tempdir();
    let dir = home.path().join("dir");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut d = Daemon::unstarted(FAST);
    d.socket = dir.join("s.sock");
    d.spawn();
    // Opened up by hand: only the peer-uid check stands in the way now.
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let bin = nobody_binary(home.path());
    let out = as_nobody(
        &bin,
        &["--config", "/dev/null", "queue", "health"],
        &[("AGENTGATE_SOCKET", &d.socket)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let me = nix::unistd::getuid().as_raw();
    assert!(
        stderr.contains(&format!("runs as uid {me}")) && stderr.contains("you are uid 65534"),
        "{stderr}"
    );
    // A submit (a request written after the refusal) is told the same.
    let out = as_nobody(
        &bin,
        &[
            "--config",
            "/dev/null",
            "submit",
            "--agent",
            "shell",
            "--path",
            "/",
            "true",
        ],
        &[("AGENTGATE_SOCKET", &d.socket)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("you are uid 65534"), "{stderr}");
}

#[test]
fn connections_beyond_the_cap_are_refused_with_a_reason() {
    let mut args = FAST.to_vec();
    args.extend(["--max-connections", "2"]);
    let d = Daemon::start(&args);
    // Two connections that hold their slots: each has had its handshake
    // answered (a probe of the harness may still hold one for a moment, so
    // a refused attempt is simply made again).
    let hello = agentgate::rpc::codec::encode(&agentgate::rpc::proto::ClientFrame::Hello {
        version: agentgate::rpc::proto::PROTOCOL_VERSION,
    })
    .expect("hello");
    let held: Vec<_> = (0..2)
        .map(|_| {
            common::wait_for("a connection with a slot", T, || {
                use std::io::{Read, Write};
                let mut s = std::os::unix::net::UnixStream::connect(&d.socket).ok()?;
                s.write_all(&header(hello.len())).ok()?;
                s.write_all(&hello).ok()?;
                let mut len = [0u8; 4];
                s.read_exact(&mut len).ok()?;
                let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
                s.read_exact(&mut buf).ok()?;
                let frame: agentgate::rpc::proto::ServerFrame =
                    agentgate::rpc::codec::decode(&buf).ok()?;
                matches!(frame, agentgate::rpc::proto::ServerFrame::Hello { .. }).then_some(s)
            })
        })
        .collect();
    let out = common::wait_for("a refusal", T, || {
        let out = d.run(&["queue", "health", "--json"]);
        (!out.status.success()).then_some(out)
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("too many connections"), "{stderr}");
    drop(held);
    common::wait_for("served again", T, || {
        d.run(&["queue", "health", "--json"])
            .status
            .success()
            .then_some(())
    });
}

#[test]
fn a_wedged_daemon_gives_exit_3_not_a_hang() {
    let d = Daemon::start(FAST);
    let pid = nix::unistd::Pid::from_raw(d.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("stop");
    // Stopped for good: every thread of it.
    common::wait_for("the daemon stopped", T, || {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        tasks
            .flatten()
            .all(|t| {
                std::fs::read_to_string(t.path().join("stat"))
                    .ok()
                    .and_then(|s| {
                        s.rsplit_once(')')
                            .map(|(_, r)| r.trim_start().starts_with('T'))
                    })
                    .unwrap_or(false)
            })
            .then_some(())
    });
    let started = std::time::Instant::now();
    let out = d
        .command()
        .args(["queue", "list"])
        .env("AGENTGATE_TIMEOUT", "1s")
        .stdin(Stdio::null())
        .output()
        .expect("client");
    let took = started.elapsed();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("cont");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("did not answer"), "{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    d.json(&["queue", "health", "--json"]);
}

#[test]
fn a_listing_larger_than_a_frame_streams() {
    use agentgate::model::{Timestamp, WorkOrder, WorkspaceSource};
    let d0 = Daemon::unstarted(FAST);
    let dir = d0.root.join("work-orders");
    std::fs::create_dir_all(&dir).expect("mkdir");
    // 10,000 work orders with 4 KB prompts: 40 MB, past the 16 MiB frame.
    let n = 10_000;
    for i in 0..n {
        let mut prompt = format!("task {i}: ");
        while prompt.len() < 4096 {
            prompt.push_str("refactor the module and keep every test green; ");
        }
        let wo = WorkOrder::new_queued(
            format!("big{i:07}"),
            prompt,
            "shell".into(),
            WorkspaceSource::Local {
                path: "/tmp".into(),
            },
            3600,
            3,
            Timestamp(1_767_323_045_678 + i as i64),
        );
        std::fs::write(
            dir.join(format!("{}.json", wo.id)),
            wo.to_json_pretty_with(&Default::default()),
        )
        .expect("write");
    }
    let mut d = d0;
    d.args.push("--no-auto-process".into());
    d.spawn();
    let out = d.run(&["queue", "list", "--all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Piped: tab-separated, one line per work order, prompts whole.
    assert_eq!(text.lines().count(), n, "one line each");
    assert!(text.lines().all(|l| l.len() > 4096), "prompts cut");
    assert!(text.contains("big0000000") && text.contains("big0009999"));
    let v = d.json(&["queue", "list", "--all", "--json"]);
    assert_eq!(v["items"].as_array().map(Vec::len), Some(n));
    assert!(v["items"][0]["taskPrompt"].as_str().map_or(0, str::len) >= 4096);
}
