//! Figures for the core and queue-control issues, measured on the real release
//! binary (whole-process timings). Run: `cargo bench --bench core`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Daemon, wait_for};

const T: Duration = Duration::from_secs(30);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn timed(d: &Daemon, args: &[&str]) -> Duration {
    let t0 = Instant::now();
    let st = d
        .command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let el = t0.elapsed();
    assert!(st.success(), "{args:?} failed");
    el
}

/// The moment the work-order file on disk first shows a terminal status (the
/// file is replaced atomically, so what is read is what is persisted).
fn persisted_terminal_ns(p: &Path) -> i128 {
    let deadline = Instant::now() + T;
    loop {
        if let Ok(bytes) = std::fs::read(p)
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && matches!(
                v["status"].as_str(),
                Some("succeeded" | "failed" | "canceled")
            )
        {
            return now_ns();
        }
        assert!(
            Instant::now() < deadline,
            "{} never became terminal",
            p.display()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn rss_mb(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn submit_latency(d: &Daemon, n: usize) -> f64 {
    median(
        (0..n)
            .map(|_| ms(timed(d, &["submit", "--agent", "shell", "true"])))
            .collect(),
    )
}

/// `pueue` and `pueued` on the PATH (or in ~/.cargo/bin), if installed.
fn pueue_bins() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let mut dirs: Vec<std::path::PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.iter().find_map(|d| {
        let (c, s) = (d.join("pueue"), d.join("pueued"));
        (c.is_file() && s.is_file()).then_some((c, s))
    })
}

/// A pueue daemon of its own (temp directories, one parallel slot), killed
/// on drop.
struct Pueue {
    dir: tempfile::TempDir,
    client: std::path::PathBuf,
    daemon: std::process::Child,
}

impl Pueue {
    fn start(client: std::path::PathBuf, daemon: &Path) -> Pueue {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("pueue.yml");
        for sub in ["data", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let d = dir.path().display();
        std::fs::write(
            &config,
            format!(
                "shared:\n  pueue_directory: {d}/data\n  runtime_directory: {d}/run\n  use_unix_socket: true\n  unix_socket_path: {d}/pueue.socket\ndaemon:\n  default_parallel_tasks: 1\n"
            ),
        )
        .unwrap();
        let child = std::process::Command::new(daemon)
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let p = Pueue {
            dir,
            client,
            daemon: child,
        };
        wait_for("pueued to answer", T, || p.run(&["status"]).then_some(()));
        p
    }

    fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.client);
        c.arg("--config").arg(self.dir.path().join("pueue.yml"));
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> bool {
        self.command()
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Every task done (none queued or running).
    fn idle(&self) -> bool {
        let out = self
            .command()
            .args(["status", "--json"])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["tasks"].as_object().is_some_and(|tasks| {
            tasks.values().all(|t| {
                t["status"]
                    .as_object()
                    .is_some_and(|s| s.contains_key("Done"))
            })
        })
    }
}

impl Drop for Pueue {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// Before each measured command both daemons have been idle this long.
/// Each side is measured from the same state: its own last task done, and
/// nothing run by the bench for this long (an idle daemon's threads sleep
/// and its disk's cache flush is slower after an idle spell, so a side
/// measured right after a burst of its own polls would be favoured).
const SETTLE: Duration = Duration::from_millis(100);

/// Submit to an empty queue with a free slot, agentgate and pueue side by
/// side: each round measures both, in alternating order, each after the same
/// idle pause and then waiting for its queue to drain. Prints both medians
/// and pueue/agentgate (>= 1.0: as fast or faster). `place` says where both
/// keep their files (the temp directory's file system).
fn versus_pueue(fast: &[&str], place: &str) {
    let Some((client, daemon)) = pueue_bins() else {
        println!(
            "submit to an empty queue vs pueue add: pueue not installed (cargo install pueue), skipped"
        );
        return;
    };
    let ours = Daemon::start(fast);
    let theirs = Pueue::start(client, &daemon);
    let submit_ours = || {
        std::thread::sleep(SETTLE);
        let t0 = Instant::now();
        let out = ours
            .command()
            .args(["submit", "--agent", "shell", "--json", "true"])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let took = ms(t0.elapsed());
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ours.wait_terminal(v["id"].as_str().unwrap(), T);
        took
    };
    let add_theirs = || {
        std::thread::sleep(SETTLE);
        let t0 = Instant::now();
        // The same stdio as ours: output captured, errors discarded.
        let out = theirs
            .command()
            .args(["add", "--", "true"])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let took = ms(t0.elapsed());
        assert!(out.status.success());
        wait_for("pueue to finish its task", T, || {
            theirs.idle().then_some(())
        });
        took
    };
    let (mut a, mut p) = (Vec::new(), Vec::new());
    for round in 0..40 {
        if round % 2 == 0 {
            a.push(submit_ours());
            p.push(add_theirs());
        } else {
            p.push(add_theirs());
            a.push(submit_ours());
        }
    }
    let (a, p) = (median(a), median(p));
    println!(
        "submit to an empty queue with a free slot ({place}): agentgate median {a:.2} ms, pueue add median {p:.2} ms, ratio {:.2} (pueue/agentgate, target >= 1.0)",
        p / a
    );
}

fn running_pgid(d: &Daemon, id: &str) -> i32 {
    let v = wait_for("running", T, || {
        let v = d.show(id);
        (v["status"] == "running" && v["pid"].is_number()).then_some(v)
    });
    v["pid"].as_i64().unwrap() as i32
}

fn main() {
    // cargo passes --bench; nothing else to parse.
    let fast = ["--stagger-delay", "0", "--min-memory", "0", "--http", "off"];
    println!(
        "agentgate figures ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // agentgate answers a submit once it is on disk (one fdatasync of the
    // submit journal); pueue writes its state without a flush. On tmpfs a
    // flush costs nothing, so the second figure compares the rest.
    versus_pueue(&fast, "files on the temp directory's disk");
    if Path::new("/dev/shm").is_dir() {
        let tmpdir = std::env::var_os("TMPDIR");
        // SAFETY: the bench is single-threaded here; nothing reads the
        // environment concurrently.
        unsafe { std::env::set_var("TMPDIR", "/dev/shm") };
        versus_pueue(&fast, "files on tmpfs, where a flush costs nothing");
        match tmpdir {
            Some(v) => unsafe { std::env::set_var("TMPDIR", v) },
            None => unsafe { std::env::remove_var("TMPDIR") },
        }
    }
    if std::env::var("AGENTGATE_BENCH_ONLY").is_ok_and(|o| o == "pueue") {
        return;
    }

    // --- list and submit with 10,000 work orders held -------------------------
    let mut idle = fast.to_vec();
    idle.push("--no-auto-process");
    let empty = Daemon::start(&idle);
    let submit_empty = submit_latency(&empty, 40);
    drop(empty);

    let mut big = Daemon::start(&idle);
    big.crash();
    support::populate(&big.root, 10_000, true, false);
    big.spawn();
    let list = median(
        (0..30)
            .map(|_| ms(timed(&big, &["queue", "list", "--all", "--json"])))
            .collect(),
    );
    let submit_full = submit_latency(&big, 40);
    println!("queue list --all --json, 10,000 work orders: median {list:.1} ms (target <= 20 ms)");
    println!(
        "submit median: empty queue {submit_empty:.2} ms, 10,000 held {submit_full:.2} ms, ratio {:.2} (target <= 1.2)",
        submit_full / submit_empty
    );
    println!(
        "daemon RSS with 10,000 finished work orders: {:.1} MB (target <= 40 MB)",
        rss_mb(big.pid())
    );
    drop(big);

    // A tenth of them queued: every listing says why each one waits.
    let mut mixed = Daemon::start(&idle);
    mixed.crash();
    support::populate(&mixed.root, 10_000, false, false);
    mixed.spawn();
    let json = median(
        (0..30)
            .map(|_| ms(timed(&mixed, &["queue", "list", "--all", "--json"])))
            .collect(),
    );
    let lines = median(
        (0..30)
            .map(|_| ms(timed(&mixed, &["queue", "list", "--all"])))
            .collect(),
    );
    println!(
        "queue list --all, 10,000 work orders, 1,000 of them queued (with reasons): --json median {json:.1} ms, tab-separated median {lines:.1} ms"
    );
    drop(mixed);

    // Start and end latency: see benches/supervision.rs.
    let d = Daemon::start(&fast);

    // --- queue control -----------------------------------------------------------
    let mut force = Vec::new();
    let mut graceful = Vec::new();
    let mut external = Vec::new();
    for _ in 0..15 {
        let id = d.submit_shell("sleep 1000", &[]);
        running_pgid(&d, &id);
        force.push(ms(timed(&d, &["queue", "kill", &id, "--force"])));
        let id = d.submit_shell("sleep 1000", &[]);
        running_pgid(&d, &id);
        graceful.push(ms(timed(&d, &["queue", "kill", &id])));
        let id = d.submit_shell("sleep 1000", &[]);
        let pid = running_pgid(&d, &id);
        let t0 = now_ns();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let persisted =
            persisted_terminal_ns(&d.root.join("work-orders").join(format!("{id}.json")));
        external.push((persisted - t0) as f64 / 1e6);
    }
    println!(
        "queue kill --force, command start to group dead and persisted: median {:.1} ms (target <= 50 ms)",
        median(force)
    );
    println!(
        "graceful queue kill of a TERM-obeying agent: median {:.1} ms (target <= 100 ms)",
        median(graceful)
    );
    println!(
        "external kill -9 to failed persisted: median {:.2} ms (target <= 10 ms)",
        median(external)
    );

    let mut late = Vec::new();
    let ids: Vec<String> = (0..4)
        .map(|_| d.submit_shell("sleep 100", &["--max-time", "1s"]))
        .collect();
    for id in ids {
        let wo = d.wait_terminal(&id, T);
        assert_eq!(wo["result"], "timeout");
        let at = chrono::DateTime::parse_from_rfc3339(wo["timeoutAt"].as_str().unwrap()).unwrap();
        let done =
            chrono::DateTime::parse_from_rfc3339(wo["completedAt"].as_str().unwrap()).unwrap();
        late.push((done - at).num_milliseconds() as f64);
    }
    println!(
        "timeout fired after timeoutAt: median {:.0} ms, max {:.0} ms (target <= 100 ms)",
        median(late.clone()),
        late.iter().cloned().fold(0.0, f64::max)
    );
}
