//! Startup figure: time from `agentgate daemon` exec until the socket answers a
//! `queue health`, on a root holding 100,000 work-order files (the exact on-disk
//! format, written through the crate's own serialiser).
//!
//! Run with `cargo bench --bench startup`. `AGENTGATE_BENCH_N` overrides the
//! number of files, `AGENTGATE_BENCH_ROUNDS` the number of timed warm starts;
//! `AGENTGATE_BENCH_RUNS=1` also gives every finished work order a run
//! directory (`runs/<id>/run.json` + logs), as a long-lived root has.
//!
//! After the warm rounds, one more start follows with the files' page cache
//! dropped (`posix_fadvise(DONTNEED)` on each file: their data must be read
//! from disk again; inodes and directory entries stay cached).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_agentgate");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn client(root: &Path, socket: &Path, config: &Path, args: &[&str]) -> Option<Value> {
    let out = Command::new(BIN)
        .args(args)
        .env("AGENTGATE_ROOT", root)
        .env("AGENTGATE_SOCKET", socket)
        .env("AGENTGATE_CONFIG", config)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

struct Round {
    serving: Duration,
    load_ms: Option<u64>,
}

fn start_once(root: &Path, socket: &Path, config: &Path, log: &Path, n: usize) -> Round {
    let logf = std::fs::File::create(log).expect("log");
    let t0 = Instant::now();
    let mut child: Child = Command::new(BIN)
        .args([
            "daemon",
            "--http",
            "off",
            "--no-auto-process",
            "--min-memory",
            "0",
        ])
        .env("AGENTGATE_ROOT", root)
        .env("AGENTGATE_SOCKET", socket)
        .env("AGENTGATE_CONFIG", config)
        .env("AGENTGATE_LOG", "info")
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("log"))
        .stderr(logf)
        .spawn()
        .expect("spawn daemon");
    let deadline = t0 + Duration::from_secs(120);
    let serving = loop {
        if std::os::unix::net::UnixStream::connect(socket).is_ok()
            && let Some(h) = client(root, socket, config, &["queue", "health", "--json"])
        {
            let total: u64 = h["counts"]
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0);
            assert_eq!(total, n as u64, "health counts every work order: {h}");
            break t0.elapsed();
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "daemon exited ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "daemon did not come up");
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let load_ms = text
        .lines()
        .find(|l| l.contains("store loaded"))
        .and_then(|l| l.split("elapsed_ms=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok());
    Round { serving, load_ms }
}

fn main() {
    // `cargo bench` passes `--bench`; any other filter argument is ignored.
    let n = env_usize("AGENTGATE_BENCH_N", 100_000);
    let rounds = env_usize("AGENTGATE_BENCH_ROUNDS", 3).max(1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let socket = tmp.path().join("agentgate.sock");
    let config = tmp.path().join("config.toml");
    let log = tmp.path().join("daemon.log");
    std::fs::write(&config, "").expect("config");

    let with_runs = std::env::var("AGENTGATE_BENCH_RUNS").is_ok_and(|v| v == "1");
    let t = Instant::now();
    support::populate(&root, n, false, with_runs);
    let bytes: u64 = std::fs::read_dir(root.join("work-orders"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "startup: wrote {n} work-order files ({:.1} MiB){} in {:.2?}",
        bytes as f64 / (1024.0 * 1024.0),
        if with_runs {
            ", and a run directory for each finished one"
        } else {
            ""
        },
        t.elapsed()
    );
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1);
    let mut times = Vec::new();
    for round in 1..=rounds {
        let r = start_once(&root, &socket, &config, &log, n);
        println!(
            "startup: round {round}: {n} work orders, exec -> serving `queue health`: {:.3} s (store load {} ms), {cores} cores, warm page cache",
            r.serving.as_secs_f64(),
            r.load_ms.map_or("?".to_string(), |m| m.to_string()),
        );
        times.push(r.serving);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "startup: median of {rounds}: {:.3} s to serving with {n} work-order files (target <= 3 s)",
        median.as_secs_f64()
    );
    // Dirty pages cannot be dropped: write everything out first.
    nix::unistd::sync();
    let dropped = drop_page_cache(&root);
    let r = start_once(&root, &socket, &config, &log, n);
    println!(
        "startup: page cache of {dropped} files dropped: {:.3} s to serving (store load {} ms)",
        r.serving.as_secs_f64(),
        r.load_ms.map_or("?".to_string(), |m| m.to_string()),
    );
}

/// Drops the cached data of every file under `dir` (this root's files only).
fn drop_page_cache(dir: &Path) -> usize {
    let mut n = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            n += drop_page_cache(&path);
        } else if let Ok(f) = std::fs::File::open(&path) {
            let _ = nix::fcntl::posix_fadvise(
                &f,
                0,
                0,
                nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
            );
            n += 1;
        }
    }
    n
}
