//! Figures for supervision (per-run supervisors, adoption), measured on the
//! real release binary with real processes. Run: `cargo bench --bench supervision`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Daemon, supervisors_of, wait_for};

const T: Duration = Duration::from_secs(60);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// The moment the work-order file first shows a terminal status (it is
/// replaced atomically: what is read is what is persisted).
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
        assert!(Instant::now() < deadline, "{} never ended", p.display());
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let fast = [
        "--stagger-delay",
        "0",
        "--min-memory",
        "0",
        "--http",
        "off",
        "--max-concurrent",
        "64",
    ];
    println!(
        "agentgate supervision figures ({} cores, cgroups: {})",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        {
            let d = Daemon::start(&fast);
            d.json(&["queue", "health", "--json"])["executors"][0]["detail"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        }
    );

    // --- start and end latency ---------------------------------------------------
    let d = Daemon::start(&fast);
    let mut to_first = Vec::new();
    let mut last_to_disk = Vec::new();
    for i in 0..40 {
        let marker = d.dir.path().join(format!("started-{i}"));
        let t0 = now_ns();
        let id = d.submit_shell(&format!("date +%s%N > {}", marker.display()), &[]);
        let persisted =
            persisted_terminal_ns(&d.root.join("work-orders").join(format!("{id}.json")));
        let agent_ns: i128 = std::fs::read_to_string(&marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        to_first.push((agent_ns - t0) as f64 / 1e6);
        last_to_disk.push((persisted - agent_ns) as f64 / 1e6);
    }
    println!(
        "submit (free slot) to the agent's first instruction, incl. client and sh: median {:.2} ms (target <= 6 ms)",
        median(to_first)
    );
    println!(
        "agent's last instruction to terminal status on disk: median {:.2} ms (target <= 5 ms)",
        median(last_to_disk)
    );

    // --- the sandbox's set-up cost -------------------------------------------------------
    // The same start, unconfined and confined (Landlock; Landlock and a
    // network namespace), interleaved so that drift hits all three alike.
    let ws = d.dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let ws_s = ws.display().to_string();
    let modes: [(&str, &[&str]); 3] = [
        ("off", &["--sandbox", "off"]),
        ("workspace", &["--sandbox", "workspace"]),
        (
            "workspace, network off",
            &["--sandbox", "workspace", "--no-network"],
        ),
    ];
    let mut firsts: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for i in 0..30 {
        for (m, (_, flags)) in modes.iter().enumerate() {
            let marker = ws.join(format!("sbx-{m}-{i}"));
            let mut extra = vec!["--path", ws_s.as_str()];
            extra.extend_from_slice(flags);
            let t0 = now_ns();
            let id = d.submit_shell(&format!("date +%s%N > {}", marker.display()), &extra);
            let v = d.wait_terminal(&id, T);
            assert_eq!(v["status"], "succeeded", "{v}");
            let agent_ns: i128 = std::fs::read_to_string(&marker)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            firsts[m].push((agent_ns - t0) as f64 / 1e6);
        }
    }
    let base = median(firsts[0].clone());
    for (m, (name, _)) in modes.iter().enumerate().skip(1) {
        let med = median(firsts[m].clone());
        println!(
            "sandbox {name}: submit to first instruction median {med:.2} ms, +{:.2} ms over unconfined {base:.2} ms (target <= +3 ms)",
            med - base
        );
    }

    // --- kill --force of a 3-process tree ----------------------------------------------
    let mut force = Vec::new();
    for _ in 0..15 {
        let id = d.submit_shell("sleep 1000 & sleep 1000 & sleep 1000", &[]);
        wait_for("running", T, || {
            let v = d.show(&id);
            v["pid"].is_number().then_some(())
        });
        let t0 = now_ns();
        let st = d
            .command()
            .args(["queue", "kill", "--force", &id])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let persisted =
            persisted_terminal_ns(&d.root.join("work-orders").join(format!("{id}.json")));
        force.push((persisted - t0) as f64 / 1e6);
    }
    println!(
        "queue kill --force of a 3-process tree, command start to status persisted: median {:.1} ms (target <= 20 ms)",
        median(force)
    );

    // --- idle supervisor RSS ------------------------------------------------------------
    let id = d.submit_shell("sleep 1000", &[]);
    wait_for("running", T, || {
        d.show(&id)["pid"].is_number().then_some(())
    });
    std::thread::sleep(Duration::from_millis(300)); // settled into its wait
    let sup = supervisors_of(&d.root);
    assert_eq!(sup.len(), 1);
    println!(
        "RSS of one idle supervisor: {:.2} MiB (target <= 4 MiB)",
        rss_kib(sup[0]) as f64 / 1024.0
    );
    d.json(&["queue", "kill", "--force", &id, "--json"]);
    drop(d);

    // --- restart with 50 running ------------------------------------------------------
    let d = Daemon::start(&fast);
    let ids: Vec<String> = (0..50).map(|_| d.submit_shell("sleep 1000", &[])).collect();
    wait_for("50 running", T, || {
        (d.json(&["queue", "health", "--json"])["runningCount"] == 50).then_some(())
    });
    let mut restarts = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let out = d.run(&["daemon", "restart"]);
        let took = t0.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            d.json(&["queue", "health", "--json"])["runningCount"],
            50,
            "all adopted"
        );
        restarts.push(took.as_secs_f64() * 1000.0);
    }
    println!(
        "daemon restart with 50 running work orders, command start to all adopted and serving: median {:.0} ms (target <= 500 ms)",
        median(restarts)
    );
    for id in ids {
        d.json(&["queue", "kill", "--force", &id, "--json"]);
    }
}
