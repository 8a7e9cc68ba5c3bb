//! HTTP figure: `GET /api/v1/queue/health` with keep-alive from `wrk` on
//! loopback, against the real daemon holding 10,000 work orders (written in
//! the exact on-disk format through the crate's own serialiser before start).
//! Prints requests/s and the p99 latency; also `GET /api/v1/work-orders`
//! (a 20-item page) for comparison.
//!
//! Run with `cargo bench --bench http`. Needs `wrk` (Debian: `apt-get install
//! wrk`); without it the bench says so and skips. `AGENTGATE_BENCH_N` overrides
//! the number of work orders, `AGENTGATE_BENCH_DURATION` wrk's `-d` (default
//! `10s`), `AGENTGATE_BENCH_CONNECTIONS` its `-c` (default 32).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_agentgate");
const KEY: &str = "bench-key-0123456789abcdefghijklmnopqrstuvwxyz";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The daemon under test; SIGTERM and reaped on drop.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_daemon(tmp: &Path, root: &Path) -> (Daemon, String) {
    let config = tmp.join("config.toml");
    std::fs::write(&config, "").expect("config");
    let log = tmp.join("daemon.log");
    let logf = std::fs::File::create(&log).expect("log");
    let child = Command::new(BIN)
        .args([
            "daemon",
            "--http",
            "127.0.0.1:0",
            "--no-auto-process",
            "--min-memory",
            "0",
        ])
        .env("AGENTGATE_ROOT", root)
        .env("AGENTGATE_SOCKET", tmp.join("agentgate.sock"))
        .env("AGENTGATE_CONFIG", &config)
        .env("AGENTGATE_API_KEY", KEY)
        .env("AGENTGATE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("log"))
        .stderr(logf)
        .spawn()
        .expect("spawn daemon");
    let mut d = Daemon { child, log };
    let pid = d.child.id() as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    let addr = loop {
        let info: Option<Value> = std::fs::read(root.join("daemon.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(info) = info
            && info["pid"].as_u64() == Some(pid)
            && let Some(a) = info["httpAddr"].as_str()
        {
            break a.to_string();
        }
        if let Ok(Some(st)) = d.child.try_wait() {
            panic!(
                "daemon exited ({st}): {}",
                std::fs::read_to_string(&d.log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "daemon did not come up");
        std::thread::sleep(Duration::from_millis(10));
    };
    (d, addr)
}

fn get(addr: &str, path: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .get(format!("http://{addr}{path}"))
        .header("Authorization", format!("Bearer {KEY}"))
        .call()
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("JSON")
}

struct WrkFigures {
    requests_per_sec: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
    socket_errors: Option<String>,
}

fn parse_wrk(out: &str) -> Option<WrkFigures> {
    let field = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(|r| r.trim().to_string()))
    };
    Some(WrkFigures {
        requests_per_sec: field("Requests/sec:")?.parse().ok()?,
        p50: field("50%")?,
        p99: field("99%")?,
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        socket_errors: field("Socket errors:"),
    })
}

fn run_wrk(addr: &str, path: &str, duration: &str, connections: &str) -> WrkFigures {
    let url = format!("http://{addr}{path}");
    let out = Command::new("wrk")
        .args(["-t2", "-c", connections, "-d", duration, "--latency", "-H"])
        .arg(format!("Authorization: Bearer {KEY}"))
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("http: wrk -t2 -c{connections} -d{duration} --latency {url}");
    for line in text.lines() {
        println!("    {line}");
    }
    assert!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = parse_wrk(&text).expect("wrk output has Requests/sec and a 99% line");
    assert_eq!(f.non_2xx, 0, "every response must be a 200");
    f
}

fn main() {
    // `cargo bench` passes `--bench`; filters are ignored.
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!("http: wrk not installed: apt-get install wrk (skipping the HTTP benchmark)");
        return;
    }
    let n: usize = env_or("AGENTGATE_BENCH_N", "10000")
        .parse()
        .expect("AGENTGATE_BENCH_N: a number");
    let duration = env_or("AGENTGATE_BENCH_DURATION", "10s");
    let connections = env_or("AGENTGATE_BENCH_CONNECTIONS", "32");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let t = Instant::now();
    support::populate(&root, n, false, false);
    println!("http: wrote {n} work-order files in {:.2?}", t.elapsed());
    let (daemon, addr) = start_daemon(tmp.path(), &root);

    // Sanity: the daemon holds every work order and answers with the envelope.
    let h = get(&addr, "/api/v1/queue/health");
    assert_eq!(h["success"], true);
    let total: u64 = h["data"]["counts"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert_eq!(total, n as u64, "health counts every work order: {h}");

    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1);
    let health = run_wrk(&addr, "/api/v1/queue/health", &duration, &connections);
    let list = run_wrk(
        &addr,
        "/api/v1/work-orders?limit=20",
        &duration,
        &connections,
    );
    // Still healthy afterwards.
    get(&addr, "/api/v1/queue/health");
    drop(daemon);

    for (name, f) in [
        ("GET /api/v1/queue/health", &health),
        ("GET /api/v1/work-orders?limit=20", &list),
    ] {
        println!(
            "http: {name}: {:.0} requests/s, p50 {}, p99 {} ({n} work orders held, keep-alive, {connections} connections, {cores} cores shared by wrk and the daemon{})",
            f.requests_per_sec,
            f.p50,
            f.p99,
            f.socket_errors
                .as_deref()
                .map(|e| format!(", socket errors: {e}"))
                .unwrap_or_default()
        );
    }
    let verdict = if health.requests_per_sec >= 10_000.0 {
        "meets"
    } else {
        "BELOW"
    };
    println!(
        "http: queue/health {verdict} the target of >= 10,000 requests/s ({:.0} requests/s, p99 {})",
        health.requests_per_sec, health.p99
    );
}
