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
