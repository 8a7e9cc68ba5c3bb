//! The Slurm executor against a real Slurm cluster (`.ci/slurm-up.sh` brings
//! up a one-node cluster on loopback; CI runs it first). Without a cluster
//! every test here says so loudly and returns: nothing is faked.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Daemon, FAST, all_pids, cmdline, pid_alive, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(60);

/// Whether a Slurm cluster answers here; prints why not.
fn cluster() -> bool {
    let ok = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .map(|o| {
            let states = String::from_utf8_lossy(&o.stdout);
            o.status.success()
                && states
                    .lines()
                    .any(|s| matches!(s.trim(), "idle" | "mixed" | "allocated" | "completing"))
        })
        .unwrap_or(false);
    if !ok {
        println!(
            "SKIPPED: no usable Slurm cluster here (sinfo failed or no node is up); run .ci/slurm-up.sh as root to bring one up"
        );
    }
    ok
}

/// Cancels every job of the listed work orders when the test ends, pass or fail.
struct Jobs(Vec<String>);

impl Drop for Jobs {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = Command::new("scancel")
                .arg(format!("--name=agentgate-{id}"))
                .status();
        }
    }
}

fn slurm_daemon(config: &str) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slurm.toml");
    std::fs::write(
        &path,
        format!("executor = \"slurm\"\n[slurm]\npoll_interval = \"250ms\"\n{config}"),
    )
    .expect("config");
    let mut args: Vec<String> = FAST.iter().map(|s| s.to_string()).collect();
    args.extend(["--grace-period".into(), "2s".into()]);
    args.extend(["--config".into(), path.display().to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = Daemon::start(&refs);
    // A restart reads the config again: keep it as long as the daemon's dir.
    let keep = d.dir.path().join("slurm.toml");
    std::fs::copy(&path, &keep).expect("keep config");
    if let Some(last) = d.args.last_mut() {
        *last = keep.display().to_string();
    }
    d
}

/// squeue's job names and states of these work orders.
fn squeue_of(ids: &[String]) -> Vec<(String, String)> {
    let out = Command::new("squeue")
        .args(["-h", "-o", "%j|%T"])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, state) = l.split_once('|')?;
            ids.iter()
                .any(|id| name == format!("agentgate-{id}"))
                .then(|| (name.to_string(), state.to_string()))
        })
        .collect()
}

fn job_id(wo: &Value) -> String {
    wo["runs"][0]["executor"]["slurm"]["jobId"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A sleep length unique to this test process (suites may run side by side).
fn unique(base: &str) -> String {
    format!("{base}{}", std::process::id())
}

fn with_arg(arg: &str) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| pid_alive(p) && cmdline(p).iter().any(|a| a == arg))
        .collect()
}

#[test]
fn three_jobs_run_and_end_with_their_exit_codes_and_live_logs() {
    if !cluster() {
        return;
    }
    let d = slurm_daemon("");
    let gate = d.dir.path().join("gate");
    let held = d.dir.path().join("held");
    let wait_held = format!("while [ ! -e {} ]; do sleep 0.1; done", held.display());
    let ok = d.submit_shell(&format!("{wait_held}; echo fine"), &[]);
    let bad = d.submit_shell(&format!("{wait_held}; echo oops >&2; exit 3"), &[]);
    let live = d.submit_shell(
        &format!(
            "echo first; while [ ! -e {} ]; do sleep 0.1; done; echo second",
            gate.display()
        ),
        &[],
    );
    let ids = vec![ok.clone(), bad.clone(), live.clone()];
    let _jobs = Jobs(ids.clone());
    // Three jobs named agentgate-<id>, all in squeue at once.
    wait_for("the three jobs in squeue", T, || {
        (squeue_of(&ids).len() == 3).then_some(())
    });
    let jobs: Vec<String> = ids.iter().map(|id| job_id(&d.show(id))).collect();
    assert!(jobs.iter().all(|j| !j.is_empty()), "{jobs:?}");
    std::fs::write(&held, b"").unwrap();
    let wo = d.wait_terminal(&ok, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    assert_eq!(d.read_log_of(&wo), "fine\n");
    let wo = d.wait_terminal(&bad, T);
    assert_eq!(
        (&wo["status"], &wo["exitCode"]),
        (&Value::from("failed"), &Value::from(3)),
        "{wo}"
    );
    // Follow the live one: its first line arrives while it still runs.
    let mut follow = d
        .command()
        .args(["queue", "logs", "--follow", &live])
        .stdout(Stdio::piped())
        .spawn()
        .expect("follow");
    let mut out = follow.stdout.take().expect("stdout");
    let mut first = [0u8; 6];
    out.read_exact(&mut first).expect("first line");
    assert_eq!(&first, b"first\n");
    assert_eq!(d.status(&live), "running");
    std::fs::write(&gate, b"").unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "second\n");
    assert!(follow.wait().unwrap().success());
    assert_eq!(d.status(&live), "succeeded");
}

#[test]
fn kill_with_grace_and_force_end_the_job_and_its_processes() {
    if !cluster() {
        return;
    }
    let d = slurm_daemon("");
    let (a, b) = (unique("1000.6161"), unique("1000.6262"));
    let graceful = d.submit_shell(&format!("sleep {a}"), &[]);
    let forced = d.submit_shell(&format!("sleep {b}"), &[]);
    let _jobs = Jobs(vec![graceful.clone(), forced.clone()]);
    for arg in [&a, &b] {
        wait_for("the agent to run", T, || {
            (!with_arg(arg).is_empty()).then_some(())
        });
    }
    let out = d.json(&["queue", "kill", &graceful, "--json"]);
    assert_eq!(out["status"], "canceled", "{out}");
    let out = d.json(&["queue", "kill", &forced, "--force", "--json"]);
    assert_eq!(out["status"], "canceled", "{out}");
    wait_for("the jobs to leave squeue", T, || {
        squeue_of(&[graceful.clone(), forced.clone()])
            .is_empty()
            .then_some(())
    });
    assert!(with_arg(&a).is_empty() && with_arg(&b).is_empty());
    assert_eq!(d.show(&graceful)["result"], "killed");
}

#[test]
fn max_time_ends_a_job_as_timeout() {
    if !cluster() {
        return;
    }
    let d = slurm_daemon("");
    let arg = unique("600.7373");
    let id = d.submit_shell(&format!("sleep {arg}"), &["--max-time", "60s"]);
    let _jobs = Jobs(vec![id.clone()]);
    let wo = d.wait_terminal(&id, Duration::from_secs(150));
    assert_eq!(
        (&wo["status"], &wo["result"]),
        (&Value::from("failed"), &Value::from("timeout")),
        "{wo}"
    );
    assert!(with_arg(&arg).is_empty());
}

#[test]
fn kill_9_of_the_daemon_keeps_slurm_jobs_and_their_real_exits() {
    if !cluster() {
        return;
    }
    let mut d = slurm_daemon("");
    let gate = d.dir.path().join("gate");
    let finishes = d.submit_shell(
        &format!(
            "while [ ! -e {} ]; do sleep 0.1; done; exit 7",
            gate.display()
        ),
        &[],
    );
    let arg = unique("1000.8383");
    let keeps = d.submit_shell(&format!("echo still here; sleep {arg}"), &[]);
    let _jobs = Jobs(vec![finishes.clone(), keeps.clone()]);
    for id in [&finishes, &keeps] {
        wait_for("running", T, || {
            (d.show(id)["runs"][0]["executorState"] == "RUNNING").then_some(())
        });
    }
    let run_dir = d
        .root
        .join("runs")
        .join(d.show(&finishes)["currentRunId"].as_str().unwrap());
    d.crash();
    std::fs::write(&gate, b"").unwrap();
    wait_for("the job to end while no daemon runs", T, || {
        run_dir.join("exit.json").exists().then_some(())
    });
    d.spawn();
    let wo = d.wait_terminal(&finishes, T);
    assert_eq!(
        (&wo["status"], &wo["exitCode"]),
        (&Value::from("failed"), &Value::from(7)),
        "{wo}"
    );
    assert_eq!(d.status(&keeps), "running");
    let out = d.json(&["queue", "cancel", &keeps, "--json"]);
    assert_eq!(out["status"], "canceled");
    assert!(with_arg(&arg).is_empty());
}

#[test]
fn scancel_from_outside_fails_the_work_order_with_slurms_state() {
    if !cluster() {
        return;
    }
    let d = slurm_daemon("");
    let arg = unique("1000.9494");
    let id = d.submit_shell(&format!("sleep {arg}"), &[]);
    let _jobs = Jobs(vec![id.clone()]);
    wait_for("the agent to run", T, || {
        (!with_arg(&arg).is_empty()).then_some(())
    });
    let job = job_id(&d.show(&id));
    assert!(
        Command::new("scancel")
            .arg(&job)
            .status()
            .unwrap()
            .success()
    );
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    let error = wo["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("slurm job {job}")) && error.contains("outside agentgate"),
        "{error}"
    );
    assert!(with_arg(&arg).is_empty());
}

#[test]
fn a_missing_partition_fails_the_work_order_clearly_and_the_daemon_serves_on() {
    if !cluster() {
        return;
    }
    let d = slurm_daemon("partition = \"nope\"\n");
    let id = d.submit_shell("true", &[]);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(
        (&wo["status"], &wo["result"]),
        (&Value::from("failed"), &Value::from("spawn_failed")),
        "{wo}"
    );
    let error = wo["error"].as_str().unwrap_or_default();
    assert!(error.contains("invalid partition"), "{error}");
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["accepting"], true);
}

#[test]
fn a_pending_job_shows_why_it_waits() {
    if !cluster() {
        return;
    }
    // Held jobs stay pending with Slurm's reason.
    let d = slurm_daemon("extra_args = [\"--hold\"]\n");
    let id = d.submit_shell("true", &[]);
    let _jobs = Jobs(vec![id.clone()]);
    let wo = wait_for("the pending reason", T, || {
        let wo = d.show(&id);
        (wo["runs"][0]["executorReason"] == "JobHeldUser").then_some(wo)
    });
    assert_eq!(wo["status"], "running");
    assert_eq!(wo["runs"][0]["executorState"], "PENDING");
    let text = String::from_utf8_lossy(&d.run(&["queue", "show", &id]).stdout).into_owned();
    assert!(text.contains("PENDING: JobHeldUser"), "{text}");
    // A pending job is canceled out of the queue.
    let out = d.json(&["queue", "cancel", &id, "--json"]);
    assert_eq!(out["status"], "canceled");
    wait_for("the job to leave squeue", T, || {
        squeue_of(std::slice::from_ref(&id))
            .is_empty()
            .then_some(())
    });
}

#[test]
fn extra_args_sbatch_rejects_are_refused_at_daemon_start() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "executor = \"slurm\"\n[slurm]\nextra_args = [\"--no-such-flag\"]\n",
    )
    .unwrap();
    let out = Command::new(common::BIN)
        .args(["daemon", "--http", "off", "--config"])
        .arg(&config)
        .env("AGENTGATE_ROOT", dir.path().join("root"))
        .env("AGENTGATE_SOCKET", dir.path().join("s.sock"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sbatch rejects the [slurm] extra_args") && err.contains("--no-such-flag"),
        "{err}"
    );
}

/// A worktree work order run as a Slurm job on the (shared) filesystem: its
/// setup runs inside the job before the agent, and the daemon reviews and
/// lands its work as for a local run.
#[test]
fn a_worktree_job_with_setup_is_reviewed_and_merged() {
    if !cluster() {
        return;
    }
    let d = slurm_daemon("");
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.path().join("a.txt"), "a\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-qm", "init"]);
    let path = repo.path().display().to_string();
    let id = d.submit_shell(
        "cat ready.txt > out.txt && rm ready.txt && git add out.txt && git commit -qm out",
        &[
            "--path",
            &path,
            "--worktree",
            "--setup",
            "echo ready > ready.txt",
            "--env",
            "GIT_AUTHOR_NAME=agent",
            "--env",
            "GIT_AUTHOR_EMAIL=agent@example.com",
            "--env",
            "GIT_COMMITTER_NAME=agent",
            "--env",
            "GIT_COMMITTER_EMAIL=agent@example.com",
        ],
    );
    let _jobs = Jobs(vec![id.clone()]);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    assert!(!job_id(&d.show(&id)).is_empty(), "ran as a job: {wo}");
    let diff = d.run(&["queue", "diff", &id, "--name-only"]);
    assert_eq!(
        String::from_utf8_lossy(&diff.stdout),
        "out.txt\n",
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    let o = d.run(&["queue", "merge", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(git(&["show", "main:out.txt"]), "ready\n");
}

#[test]
fn a_confined_job_is_confined_as_a_local_run_is() {
    let abi = agentgate::sandbox::apply::landlock_abi().unwrap_or(0);
    if abi < 2 {
        println!("SKIPPED: this kernel has no Landlock (ABI 2 or newer)");
        return;
    }
    if !cluster() {
        return;
    }
    let d = slurm_daemon("");
    let ws = d.dir.path().join("ws");
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(&ws).unwrap();
    let script = format!(
        "echo ok > made-here || exit 10; \
         if echo x > {out}/escaped 2>/dev/null; then exit 11; fi; \
         if cat {key} 2>/dev/null; then exit 12; fi; exit 0",
        out = out.path().display(),
        key = d.root.join("api-key").display()
    );
    let ws_s = ws.display().to_string();
    let id = d.submit_shell(&script, &["--path", &ws_s, "--sandbox", "workspace"]);
    let _jobs = Jobs(vec![id.clone()]);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}\n{}", d.read_log_of(&wo));
    assert!(!job_id(&wo).is_empty(), "ran as a Slurm job: {wo}");
    assert!(ws.join("made-here").exists());
    assert!(!out.path().join("escaped").exists());
    assert!(
        wo["sandboxApplied"]
            .as_str()
            .unwrap()
            .starts_with("workspace (landlock"),
        "{wo}"
    );
}
