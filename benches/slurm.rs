//! Figures for the Slurm executor, on the real cluster `.ci/slurm-up.sh`
//! brings up. Run: `cargo bench --bench slurm` (prints SKIPPED without one).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Daemon, wait_for};

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

fn in_squeue(name_or_id: &str, by_name: bool) -> bool {
    let mut cmd = Command::new("squeue");
    cmd.args(["-h", "-o", "%i"]);
    if by_name {
        cmd.arg(format!("--name={name_or_id}"));
    } else {
        cmd.arg(format!("--jobs={name_or_id}"));
    }
    cmd.stderr(Stdio::null())
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false)
}

/// Checks `cond` back to back (each check is a squeue call, a few ms).
fn poll_until(mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out");
    }
}

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
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    let up = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !up {
        println!("SKIPPED: no Slurm cluster here; run .ci/slurm-up.sh as root first");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("slurm.toml");
    std::fs::write(
        &config,
        "executor = \"slurm\"\n[slurm]\npoll_interval = \"1s\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let d = Daemon::start(&[
        "--stagger-delay",
        "0",
        "--min-memory",
        "0",
        "--http",
        "off",
        "--config",
        &config,
    ]);
    println!("agentgate Slurm figures (one-node cluster on loopback, 2 cores)");

    // --- submit to visible in squeue, against a bare sbatch ------------------------
    let script = dir.path().join("bare.sh");
    std::fs::write(&script, "#!/bin/sh\nsleep 5\n").unwrap();
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t0 = Instant::now();
        let out = Command::new("sbatch")
            .args(["--parsable", "--time=1", "--output=/dev/null"])
            .arg(&script)
            .output()
            .unwrap();
        let job = String::from_utf8_lossy(&out.stdout).trim().to_string();
        poll_until(|| in_squeue(&job, false));
        bare.push(t0.elapsed().as_secs_f64() * 1000.0);
        let _ = Command::new("scancel").arg(&job).status();

        let t0 = Instant::now();
        let id = d.submit_shell("sleep 5", &[]);
        poll_until(|| in_squeue(&format!("agentgate-{id}"), true));
        ours.push(t0.elapsed().as_secs_f64() * 1000.0);
        d.json(&["queue", "kill", "--force", &id, "--json"]);
    }
    let (o, b) = (median(ours), median(bare));
    println!(
        "submit to job visible in squeue: agentgate {o:.1} ms, bare sbatch {b:.1} ms, ratio {:.2} (target <= 1.2)",
        o / b
    );

    // --- job end to terminal status persisted ------------------------------------------
    let mut with_exit_file = Vec::new();
    for i in 0..8 {
        let marker = dir.path().join(format!("end-{i}"));
        let id = d.submit_shell(&format!("date +%s%N > {}", marker.display()), &[]);
        let persisted =
            persisted_terminal_ns(&d.root.join("work-orders").join(format!("{id}.json")));
        let ended: i128 = std::fs::read_to_string(&marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        with_exit_file.push((persisted - ended) as f64 / 1e6);
    }
    println!(
        "job's last instruction to terminal status persisted (exit file seen, inotify): median {:.1} ms",
        median(with_exit_file)
    );
    let mut without = Vec::new();
    for _ in 0..6 {
        let id = d.submit_shell("sleep 1000", &[]);
        wait_for("running", T, || {
            let v = d.show(&id);
            (v["runs"][0]["executorState"] == "RUNNING" && v["pid"].is_null()).then_some(())
        });
        wait_for("its supervisor's state", T, || {
            let run = d.show(&id)["currentRunId"].as_str()?.to_string();
            d.root
                .join("runs")
                .join(run)
                .join("state.json")
                .exists()
                .then_some(())
        });
        // Its supervisor killed: no exit file, only squeue tells.
        let run = d.show(&id)["currentRunId"].as_str().unwrap().to_string();
        let state: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.root.join("runs").join(&run).join("state.json")).unwrap(),
        )
        .unwrap();
        let supervisor = state["supervisorPid"].as_i64().unwrap() as i32;
        let t0 = now_ns();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(supervisor),
            nix::sys::signal::Signal::SIGKILL,
        );
        let persisted =
            persisted_terminal_ns(&d.root.join("work-orders").join(format!("{id}.json")));
        without.push((persisted - t0) as f64 / 1e6);
    }
    println!(
        "supervisor killed inside its job (no exit file) to terminal status persisted, poll interval 1 s: median {:.0} ms (target <= 1500 ms)",
        median(without)
    );
}
