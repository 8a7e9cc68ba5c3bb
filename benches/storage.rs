//! Figures for storage lifecycle and local limits, on the real release binary:
//!
//! - `queue stats` answer time over 100,000 held work orders (from memory);
//! - daemon RSS holding 100,000 work orders (the realistic generator of
//!   `support`, every one with a run directory), after start and after
//!   listings (which render each work order's JSON once and keep it);
//! - the same for 100,000 finished work orders in the original AgentGate
//!   format (`policies`, `gatePlanSource`, `maxWallClockSeconds`, `runId`, ...
//!   kept as unknown fields);
//! - `queue health` answer time from another client while a work order whose
//!   clone holds 20,000 files is purged (timed in-process over the socket);
//! - daemon RSS with 60 connections declaring 15 MiB frames, and 10 s after a
//!   burst of 60 real 15 MiB frames.
//!
//! Run with `cargo bench --bench storage`; `AGENTGATE_BENCH_N` overrides the
//! number of work orders (default 100,000); `AGENTGATE_BENCH_ONLY=held|agentgate-rss|purge|frames`
//! runs one part (`stats`: the held part with agent results only, with the
//! `queue stats` times).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agentgate::rpc::codec::{decode, encode};
use agentgate::rpc::proto::{ClientFrame, PROTOCOL_VERSION, Reply, Request, ServerFrame};
use common::{Daemon, FAST, wait_for};

const T: Duration = Duration::from_secs(120);
const MIB: f64 = 1024.0 * 1024.0;

fn rss(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        * 1024.0
}

fn frame(v: &ClientFrame) -> Vec<u8> {
    let b = encode(v).expect("encode");
    let mut out = (b.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&b);
    out
}

fn read_frame(s: &mut std::os::unix::net::UnixStream) -> ServerFrame {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("read");
    let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).expect("read");
    decode(&buf).expect("decode")
}

/// One `queue health` over the socket, timed here (no process start).
fn health_rtt(socket: &Path) -> Duration {
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    let t0 = Instant::now();
    s.write_all(&frame(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
    }))
    .expect("write");
    s.write_all(&frame(&ClientFrame::Request(Box::new(Request::Health(
        agentgate::service::HealthRequest,
    )))))
    .expect("write");
    assert!(matches!(read_frame(&mut s), ServerFrame::Hello { .. }));
    match read_frame(&mut s) {
        ServerFrame::Ok(r) if matches!(*r, Reply::Health(_)) => {}
        other => panic!("unexpected {other:?}"),
    }
    t0.elapsed()
}

/// One `queue stats --by BY` over the socket, timed here (no process start).
fn stats_rtt(socket: &Path, by: agentgate::ops::StatsGroup) -> Duration {
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    s.write_all(&frame(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
    }))
    .expect("write");
    assert!(matches!(read_frame(&mut s), ServerFrame::Hello { .. }));
    let t0 = Instant::now();
    s.write_all(&frame(&ClientFrame::Request(Box::new(Request::Stats(
        agentgate::ops::StatsQuery {
            by,
            ..Default::default()
        },
    )))))
    .expect("write");
    match read_frame(&mut s) {
        ServerFrame::Ok(r) if matches!(*r, Reply::Stats(_)) => {}
        other => panic!("unexpected {other:?}"),
    }
    t0.elapsed()
}

fn held_rss() {
    // Finished work orders as plain commands leave them, then each carrying
    // what a Claude run reports (cost, turns, session id, a summary).
    held_rss_of(false, "without agent results");
    held_rss_of(true, "each with a Claude result");
}

fn bench_n() -> usize {
    std::env::var("AGENTGATE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn held_rss_of(agent_results: bool, what: &str) {
    let n = bench_n();
    let mut d = Daemon::unstarted(FAST);
    let t = Instant::now();
    support::populate_with(&d.root, n, true, true, agent_results);
    println!(
        "storage: wrote {n} finished work orders with runs ({what}) in {:.1?}",
        t.elapsed()
    );
    let (after_start, after_lists, settled) = held_rss_measured(&mut d, n, agent_results);
    println!(
        "storage: daemon RSS holding {n} work orders ({what}): {:.1} MiB after start, {:.1} MiB right after 3 full listings, {:.1} MiB a few seconds later (target <= 128 MiB)",
        after_start / MIB,
        after_lists / MIB,
        settled / MIB
    );
}

/// Finished work orders as the original AgentGate wrote them: every one with
/// `policies`, `gatePlanSource`, `maxWallClockSeconds`, `runId` (and for some
/// more fields this daemon does not model), all kept as unknown fields.
fn held_rss_agentgate() {
    let n = bench_n();
    let mut d = Daemon::unstarted(FAST);
    let t = Instant::now();
    support::populate_agentgate(&d.root, n);
    println!(
        "storage: wrote {n} AgentGate-format work orders with runs in {:.1?}",
        t.elapsed()
    );
    let (after_start, after_lists, settled) = held_rss_measured(&mut d, n, false);
    // Nothing was rewritten at start (no dangling run, nothing clamped).
    let storage = d.json(&["queue", "health", "--json"]);
    assert_eq!(storage["storage"]["danglingRunRefs"], 0, "{storage}");
    assert_eq!(storage["storage"]["quarantined"], 0, "{storage}");
    println!(
        "storage: daemon RSS holding {n} AgentGate-format work orders: {:.1} MiB after start, {:.1} MiB after 3 full listings, {:.1} MiB a few seconds later (target <= 128 MiB)",
        after_start / MIB,
        after_lists / MIB,
        settled / MIB
    );
}

/// Starts the daemon on a populated root and measures its RSS: after start,
/// right after 3 full listings, and once the listings' JSON is let go.
fn held_rss_measured(d: &mut Daemon, n: usize, agent_results: bool) -> (f64, f64, f64) {
    d.args.push("--no-auto-process".into());
    d.spawn();
    let health = d.json(&["queue", "health", "--json"]);
    let held: u64 = health["counts"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);
    assert_eq!(held, n as u64);
    let after_start = rss(d.pid());
    if agent_results {
        // `queue stats` over everything held, from memory.
        for by in [
            agentgate::ops::StatsGroup::Agent,
            agentgate::ops::StatsGroup::Day,
        ] {
            let mut times: Vec<Duration> = (0..11).map(|_| stats_rtt(&d.socket, by)).collect();
            times.sort();
            println!(
                "stats: `queue stats --by {}` over {n} held work orders: median {:.2?}, worst {:.2?} of 11 (target <= 20 ms)",
                by.as_str(),
                times[5],
                times[10]
            );
        }
    }
    for _ in 0..3 {
        let out = d
            .command()
            .args(["queue", "list", "--all", "--json"])
            .stdout(Stdio::null())
            .status()
            .expect("list");
        assert!(out.success());
    }
    let after_lists = rss(d.pid());
    // Rendered JSON beyond the newest 10,000 is let go on a later tick, and
    // the memory goes back to the system over a moment: read it once it has
    // stopped falling (two readings 250 ms apart within 1 MiB), not at the
    // first reading below the peak.
    wait_for("the listing's JSON let go", T, || {
        let now = rss(d.pid());
        (now < after_lists - 16.0 * MIB || after_lists < 100.0 * MIB).then_some(())
    });
    let mut last = rss(d.pid());
    let settled = wait_for("the daemon's memory to settle", T, || {
        std::thread::sleep(Duration::from_millis(250));
        let now = rss(d.pid());
        let steady = (last - now).abs() < MIB;
        last = now;
        steady.then_some(now)
    });
    (after_start, after_lists, settled)
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "b")
        .env("GIT_AUTHOR_EMAIL", "b@example.com")
        .env("GIT_COMMITTER_NAME", "b")
        .env("GIT_COMMITTER_EMAIL", "b@example.com")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git");
    assert!(st.success(), "git {args:?}");
}

fn purge_latency() {
    let repos = tempfile::tempdir().expect("tempdir");
    let bare = repos.path().join("repo.git");
    let work = repos.path().join("work");
    std::fs::create_dir_all(&bare).expect("mkdir");
    std::fs::create_dir_all(&work).expect("mkdir");
    git(&bare, &["init", "-q", "--bare", "--initial-branch=main"]);
    git(&work, &["init", "-q", "--initial-branch=main"]);
    std::fs::write(work.join("README"), "x\n").expect("write");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "init"]);
    git(&work, &["push", "-q", bare.to_str().expect("path"), "main"]);
    let url = format!("file://{}", bare.display());
    let d = Daemon::start(FAST);
    let id = d.submit_shell(
        "mkdir -p many && cd many && seq 1 20000 | xargs touch",
        &["--url", &url],
    );
    d.wait_status(&id, "succeeded", T);
    // Before: the answer time of an idle daemon.
    let mut idle: Vec<Duration> = (0..200).map(|_| health_rtt(&d.socket)).collect();
    idle.sort();
    let t0 = Instant::now();
    let mut purge = d
        .command()
        .args(["queue", "purge", &id, "--yes"])
        .stdout(Stdio::null())
        .spawn()
        .expect("purge");
    let mut during = Vec::new();
    let mut purge_done = None;
    loop {
        during.push(health_rtt(&d.socket));
        if purge_done.is_none()
            && let Ok(Some(st)) = purge.try_wait()
        {
            assert!(st.success());
            purge_done = Some(t0.elapsed());
        }
        let trash = std::fs::read_dir(d.root.join(".trash"))
            .map(|r| r.count())
            .unwrap_or(0);
        if purge_done.is_some() && trash == 0 {
            break;
        }
    }
    let deleted = t0.elapsed();
    during.sort();
    println!(
        "storage: purge of a clone with 20,000 files: command {:.1?}, files gone after {:.1?}; `queue health` meanwhile: {} answers, median {:.2?}, max {:.2?} (idle: median {:.2?}, max {:.2?})",
        purge_done.unwrap_or_default(),
        deleted,
        during.len(),
        during[during.len() / 2],
        during[during.len() - 1],
        idle[idle.len() / 2],
        idle[idle.len() - 1],
    );
}

fn frames_rss() {
    let d = Daemon::start(FAST);
    d.json(&["queue", "health", "--json"]);
    let base = rss(d.pid());
    let mut held = Vec::new();
    for _ in 0..60 {
        let mut s = std::os::unix::net::UnixStream::connect(&d.socket).expect("connect");
        s.write_all(&(15u32 << 20).to_be_bytes()).expect("write");
        s.write_all(&[0]).expect("write");
        held.push(s);
    }
    d.json(&["queue", "health", "--json"]);
    let declared = rss(d.pid());
    drop(held);
    let hello = frame(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
    });
    let junk = vec![0xffu8; 15 << 20];
    let threads: Vec<_> = (0..60)
        .map(|_| {
            let (socket, hello, junk) = (d.socket.clone(), hello.clone(), junk.clone());
            std::thread::spawn(move || {
                let mut s = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
                s.write_all(&hello).expect("write");
                s.write_all(&(junk.len() as u32).to_be_bytes())
                    .expect("write");
                s.write_all(&junk).expect("write");
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink);
            })
        })
        .collect();
    let t0 = Instant::now();
    let mut peak = 0f64;
    for t in threads {
        peak = peak.max(rss(d.pid()));
        t.join().expect("thread");
    }
    let back = wait_for("RSS back", Duration::from_secs(10), || {
        let now = rss(d.pid());
        (now < base + 32.0 * MIB).then_some(now)
    });
    println!(
        "storage: RPC memory: baseline {:.1} MiB; 60 connections declaring 15 MiB frames: {:.1} MiB; 60 real 15 MiB frames: peak seen {:.1} MiB, back to {:.1} MiB after {:.1?}",
        base / MIB,
        declared / MIB,
        peak / MIB,
        back / MIB,
        t0.elapsed()
    );
}

fn main() {
    let only = std::env::var("AGENTGATE_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "held" {
        held_rss();
    }
    if only.is_empty() || only == "agentgate-rss" {
        held_rss_agentgate();
    }
    if only == "stats" {
        held_rss_of(true, "each with a Claude result");
    }
    if only.is_empty() || only == "purge" {
        purge_latency();
    }
    if only.is_empty() || only == "frames" {
        frames_rss();
    }
}
