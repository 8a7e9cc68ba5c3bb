//! Crash safety: the daemon is SIGKILLed at random moments while a client
//! submits and cancels in a loop. After every restart: each acknowledged submit
//! is there, no file is torn (nothing quarantined, every file parses), no work
//! order is `running` without its process, and no agent of this root runs
//! untracked.
//!
//! `AGENTGATE_CRASH_CYCLES` (default 20) and `AGENTGATE_CRASH_SEED` reproduce a run.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentgate::model::WorkOrder;
use common::{BIN, Daemon, FAST, group_alive, wait_for};
use serde_json::Value;

/// xorshift64*: deterministic from its seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What a client needs to reach this daemon (the harness' `Daemon` stays with
/// the thread that crashes and restarts it).
#[derive(Clone)]
struct Target {
    root: PathBuf,
    socket: PathBuf,
    config: PathBuf,
}

impl Target {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .env("AGENTGATE_ROOT", &self.root)
            .env("AGENTGATE_SOCKET", &self.socket)
            .env("AGENTGATE_CONFIG", &self.config)
            .env("NO_COLOR", "1")
            .env_remove("AGENTGATE_HTTP")
            .stdin(Stdio::null())
            .output()
            .expect("run client")
    }
}

#[derive(Default)]
struct Stats {
    submits_acked: AtomicU64,
    submits_failed: AtomicU64,
    cancels_ok: AtomicU64,
    cancels_failed: AtomicU64,
}

/// Submits (`sleep 30` shell agents) and cancels until `stop`; records every
/// acknowledged id: a successful `submit --json` that printed it.
fn client_loop(
    t: Target,
    seed: u64,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
) {
    let mut rng = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
    while !stop.load(Ordering::Relaxed) {
        if rng.below(10) < 7 {
            let out = t.run(&["submit", "--agent", "shell", "--json", "sleep 30"]);
            let id = out
                .status
                .success()
                .then(|| serde_json::from_slice::<Value>(&out.stdout).ok())
                .flatten()
                .and_then(|v| v["id"].as_str().map(str::to_string));
            match id {
                Some(id) => {
                    acked.lock().unwrap().push(id);
                    stats.submits_acked.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    stats.submits_failed.fetch_add(1, Ordering::Relaxed);
                    // Daemon down (exit 3) or killed mid-request: back off a little.
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        } else {
            let id = {
                let ids = acked.lock().unwrap();
                if ids.is_empty() {
                    continue;
                }
                ids[rng.below(ids.len() as u64) as usize].clone()
            };
            if t.run(&["queue", "cancel", &id, "--json"]).status.success() {
                stats.cancels_ok.fetch_add(1, Ordering::Relaxed);
            } else {
                stats.cancels_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// With the daemon dead: every work-order file is whole and valid; every run
/// record is whole JSON. Temp files of interrupted writes may exist.
fn check_files(root: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(root.join("work-orders"))
        .unwrap()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        let (wo, _) = WorkOrder::from_json_slice(&bytes).unwrap_or_else(|err| {
            panic!(
                "torn or invalid {name}: {err}\n{}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(format!("{}.json", wo.id), name);
        n += 1;
    }
    for e in std::fs::read_dir(root.join("runs")).unwrap().flatten() {
        let path = e.path().join("run.json");
        if let Ok(bytes) = std::fs::read(&path) {
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|err| panic!("torn {}: {err}", path.display()));
        }
    }
    n
}

/// Live processes carrying this root's agent environment: pid -> (pgid, run id).
fn agents_of(root: &Path) -> BTreeMap<i32, (i32, String)> {
    let marker = format!("AGENTGATE_HEARTBEAT_FILE={}/", root.join("runs").display());
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let Some(var) = env
            .split(|&b| b == 0)
            .map(String::from_utf8_lossy)
            .find(|v| v.starts_with(&marker))
        else {
            continue;
        };
        let run = var[marker.len()..]
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        if fields.len() > 2 && !matches!(fields[0], "Z" | "X") {
            out.insert(pid, (fields[2].parse().unwrap_or(0), run));
        }
    }
    out
}

fn list_all(d: &Daemon) -> Vec<Value> {
    d.json(&["queue", "list", "--all", "--json"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// With the daemon serving (and the client still busy): nothing acknowledged
/// is missing, nothing is quarantined, every `running` work order has its live
/// process group and every agent process of this root belongs to one.
fn check_service(d: &Daemon, acked: &Mutex<Vec<String>>) {
    let must_have: Vec<String> = acked.lock().unwrap().clone();
    let storage = d.json(&["queue", "health", "--json"])["storage"].clone();
    assert_eq!(storage["quarantined"], 0, "a file was torn: {storage}");
    let q = d.root.join("work-orders").join(".quarantine");
    assert!(
        std::fs::read_dir(&q).map(|r| r.count()).unwrap_or(0) == 0,
        "quarantine not empty"
    );
    let listed: BTreeSet<String> = list_all(d)
        .iter()
        .filter_map(|w| w["id"].as_str().map(str::to_string))
        .collect();
    let missing: Vec<&String> = must_have
        .iter()
        .filter(|id| !listed.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged submits lost: {missing:?}\n{}",
        d.log_text()
    );

    // The client keeps changing things: wait for a consistent view.
    wait_for(
        "running work orders to match live agents",
        Duration::from_secs(20),
        || {
            let procs = agents_of(&d.root);
            let items = list_all(d);
            let running: BTreeMap<String, (i64, String)> = items
                .iter()
                .filter(|w| w["status"] == "running")
                .map(|w| {
                    (
                        w["currentRunId"].as_str().unwrap_or("").to_string(),
                        (
                            w["pid"].as_i64().unwrap_or(0),
                            w["id"].as_str().unwrap_or("").to_string(),
                        ),
                    )
                })
                .collect();
            // running => its group is alive (a run still preparing has no pid yet)
            let all_alive = running
                .values()
                .all(|(pid, _)| *pid > 1 && !group_alive(*pid as i32).is_empty());
            // agent alive (still, after the listing) => its work order runs it
            let all_tracked = procs.iter().all(|(pid, (pgid, run))| {
                !common::pid_alive(*pid)
                    || running
                        .get(run)
                        .is_some_and(|(wo_pid, _)| *wo_pid as i32 == *pgid)
            });
            (all_alive && all_tracked).then_some(())
        },
    );
}

#[test]
fn acknowledged_work_survives_random_kill_9() {
    let cycles: u32 = std::env::var("AGENTGATE_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("AGENTGATE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("crash test: {cycles} cycles, AGENTGATE_CRASH_SEED={seed}");
    let started = Instant::now();
    let mut args = FAST.to_vec();
    args.extend_from_slice(&["--grace-period", "1s", "--max-concurrent", "2"]);
    let mut d = Daemon::start(&args);
    let target = Target {
        root: d.root.clone(),
        socket: d.socket.clone(),
        config: d.dir.path().join("no-config.toml"),
    };
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let client = {
        let (t, a, s, st) = (target.clone(), acked.clone(), stop.clone(), stats.clone());
        std::thread::spawn(move || client_loop(t, seed, a, s, st))
    };

    let mut rng = Rng(seed);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for cycle in 1..=cycles {
            std::thread::sleep(Duration::from_millis(5 + rng.below(116)));
            d.crash();
            let files = check_files(&d.root);
            d.spawn();
            check_service(&d, &acked);
            println!(
                "cycle {cycle}: {files} work orders on disk, {} acknowledged",
                acked.lock().unwrap().len()
            );
        }
    }));
    stop.store(true, Ordering::Relaxed);
    let _ = client.join();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    check_service(&d, &acked);

    // A graceful stop leaves no agent of this root behind.
    d.stop();
    wait_for("agents stopped", Duration::from_secs(20), || {
        agents_of(&d.root).is_empty().then_some(())
    });
    let n = acked.lock().unwrap().len() as u64;
    println!(
        "crash test: {cycles} kill -9 cycles in {:.1?}; {n} submits acknowledged ({} failed while down), {} cancels ok ({} refused)",
        started.elapsed(),
        stats.submits_failed.load(Ordering::Relaxed),
        stats.cancels_ok.load(Ordering::Relaxed),
        stats.cancels_failed.load(Ordering::Relaxed),
    );
    assert!(
        n >= u64::from(cycles) / 2,
        "the client barely submitted anything ({n})"
    );
}
