//! Queue control through the real binary and real processes: cancel, kill,
//! purge, timeouts, stale detection, health, manual start, and the races the
//! single-owner actor rules out.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, group_alive, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

/// Waits until the work order runs with a pid; returns (work order, pgid).
fn running_pid(d: &Daemon, id: &str) -> (Value, i32) {
    let v = wait_for(&format!("{id} to run with a pid"), T, || {
        let v = d.show(id);
        (v["status"] == "running" && v["pid"].is_number()).then_some(v)
    });
    let pid = v["pid"].as_i64().unwrap() as i32;
    (v, pid)
}

fn expect_fail(d: &Daemon, args: &[&str], code: i32, needle: &str) {
    let out = d.run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
}

#[test]
fn cancel_queued_running_terminal_and_unknown() {
    let d = Daemon::fast(&["--max-concurrent", "1"]);
    let running = d.submit_shell("sleep 1000", &[]);
    let (_, pgid) = running_pid(&d, &running);
    let queued = d.submit_shell("echo never", &[]);
    assert_eq!(d.status(&queued), "queued");

    let mut c = d.json(&["queue", "cancel", &queued, "--json"]);
    // The HTTP payload, AgentGate's `message` included.
    assert!(c["message"].is_string(), "{c}");
    c.as_object_mut().unwrap().remove("message");
    assert_eq!(
        c,
        serde_json::json!({"id": queued, "status": "canceled", "wasRunning": false, "killed": false})
    );
    let c = d.json(&["queue", "cancel", &running, "--json"]);
    assert_eq!(c["wasRunning"], true);
    assert_eq!(c["killed"], true);
    assert_eq!(c["status"], "canceled");
    assert!(group_alive(pgid).is_empty(), "group {pgid} survived cancel");
    let wo = d.show(&running);
    assert_eq!(wo["result"], "canceled");
    // The queued one never started, even with the slot now free.
    let wo = d.show(&queued);
    assert_eq!(wo["status"], "canceled");
    assert_eq!(wo["runCount"], 0);
    assert!(wo.get("startedAt").is_none());

    expect_fail(&d, &["queue", "cancel", &running], 1, "already canceled");
    let done = d.submit_shell("exit 0", &[]);
    d.wait_terminal(&done, T);
    expect_fail(&d, &["queue", "cancel", &done], 1, "already succeeded");
    expect_fail(&d, &["queue", "cancel", "nosuchid0000"], 1, "no work order");
}

#[test]
fn kill_escalates_on_a_term_ignoring_tree() {
    let d = Daemon::fast(&[]);
    // The shell and both sleeps ignore SIGTERM; the backgrounded sleep is a
    // grandchild in the same group.
    let id = d.submit_shell("trap '' TERM; sleep 1000 & sleep 1000", &[]);
    let (_, pgid) = running_pid(&d, &id);
    wait_for("the tree to have three processes", T, || {
        (group_alive(pgid).len() >= 3).then_some(())
    });
    let k = d.json(&[
        "queue",
        "kill",
        &id,
        "--grace",
        "500ms",
        "--reason",
        "stuck on input",
        "--json",
    ]);
    assert_eq!(k["success"], true);
    assert_eq!(k["forcedKill"], false);
    assert_eq!(k["status"], "canceled");
    assert!(
        k["durationMs"].as_u64().unwrap() >= 500,
        "escalated before the grace period: {k}"
    );
    assert!(
        group_alive(pgid).is_empty(),
        "group {pgid} survived: {:?}",
        group_alive(pgid)
    );
    let wo = d.show(&id);
    assert_eq!(wo["status"], "canceled");
    assert_eq!(wo["result"], "killed");
    assert!(wo["error"].as_str().unwrap().contains("stuck on input"));
}

#[test]
fn graceful_kill_returns_when_the_group_is_gone_not_after_the_grace() {
    let d = Daemon::fast(&[]);
    let id = d.submit_shell("sleep 1000", &[]);
    let (_, pgid) = running_pid(&d, &id);
    // A 10-minute grace period: the command can only return in time if it
    // stops waiting the moment the group is gone.
    let k = d.json(&["queue", "kill", &id, "--grace", "10m", "--json"]);
    assert!(k["durationMs"].as_u64().unwrap() < 600_000);
    assert!(group_alive(pgid).is_empty());
    assert_eq!(d.show(&id)["signal"], 15);
}

#[test]
fn force_kill_is_immediate_and_wrong_states_are_refused() {
    // A 10-minute grace period: only an immediate SIGKILL can return in time.
    let d = Daemon::fast(&["--grace-period", "10m"]);
    let id = d.submit_shell("trap '' TERM; sleep 1000 & sleep 1000", &[]);
    let (_, pgid) = running_pid(&d, &id);
    let started = Instant::now();
    let k = d.json(&["queue", "kill", &id, "--force", "--json"]);
    assert!(started.elapsed() < Duration::from_secs(60), "{k}");
    assert_eq!(k["forcedKill"], true);
    assert!(group_alive(pgid).is_empty());
    let wo = d.show(&id);
    assert_eq!(wo["result"], "killed");
    assert_eq!(wo["signal"], 9);

    expect_fail(&d, &["queue", "kill", &id], 1, "already canceled");
    expect_fail(&d, &["queue", "kill", "nosuchid0000"], 1, "no work order");
    expect_fail(&d, &["queue", "kill", "../../etc"], 1, "invalid id");
}

#[test]
fn purge_ids_filters_dry_run_and_confirmation() {
    let d = Daemon::fast(&["--no-auto-process"]);
    let a = d.submit_shell("exit 0", &[]);
    let b = d.submit_shell("exit 1", &[]);
    let q = d.submit_shell("echo queued", &[]);
    for id in [&a, &b] {
        d.json(&["queue", "start", id, "--json"]);
        d.wait_terminal(id, T);
    }
    let run_b = d.show(&b)["currentRunId"].as_str().unwrap().to_string();
    assert!(d.root.join("runs").join(&run_b).join("stdout.log").exists());

    // Without a TTY and without --yes, more than one is refused.
    expect_fail(&d, &["queue", "purge"], 2, "--yes");
    // Dry run lists the terminal ones only and deletes nothing.
    let dry = d.json(&["queue", "purge", "--dry-run", "--json"]);
    let mut would: Vec<String> = serde_json::from_value(dry["wouldDelete"].clone()).unwrap();
    would.sort();
    let mut expect = vec![a.clone(), b.clone()];
    expect.sort();
    assert_eq!(would, expect);
    assert_eq!(dry["deletedCount"], 0);
    assert_eq!(d.json(&["queue", "list", "--json"])["total"], 3);
    // --older-than excludes fresh work.
    let dry = d.json(&[
        "queue",
        "purge",
        "--older-than",
        "1h",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry["wouldDelete"], serde_json::json!([]));
    // By status.
    let p = d.json(&["queue", "purge", "--status", "failed", "--json"]);
    assert_eq!(p["deletedIds"], serde_json::json!([b]));
    assert!(
        !d.root
            .join("work-orders")
            .join(format!("{b}.json"))
            .exists()
    );
    assert!(!d.root.join("runs").join(&run_b).exists());
    expect_fail(&d, &["queue", "show", &b], 1, "no work order");
    // By id; queued is untouched by an unfiltered purge.
    let p = d.json(&["queue", "purge", "--yes", "--json"]);
    assert_eq!(p["deletedIds"], serde_json::json!([a]));
    assert_eq!(d.status(&q), "queued");
    // A queued one named by status is canceled then purged.
    let p = d.json(&["queue", "purge", "--status", "queued", "--json"]);
    assert_eq!(p["deletedIds"], serde_json::json!([q]));
    assert_eq!(d.json(&["queue", "list", "--json"])["total"], 0);
    expect_fail(&d, &["queue", "purge", "nosuchid0000"], 1, "no work order");
}

#[test]
fn purge_while_running_stops_the_tree_and_deletes_everything() {
    let d = Daemon::fast(&[]);
    let id = d.submit_shell("sleep 1000 & sleep 1000", &[]);
    let (wo, pgid) = running_pid(&d, &id);
    let run = wo["currentRunId"].as_str().unwrap().to_string();
    let p = d.json(&["queue", "purge", &id, "--json"]);
    assert_eq!(p["deletedIds"], serde_json::json!([id]));
    assert!(group_alive(pgid).is_empty());
    assert!(
        !d.root
            .join("work-orders")
            .join(format!("{id}.json"))
            .exists()
    );
    assert!(!d.root.join("runs").join(run).exists());
    assert_eq!(d.json(&["queue", "list", "--json"])["total"], 0);
}

#[test]
fn max_time_times_out_with_result_timeout() {
    let d = Daemon::fast(&[]);
    let id = d.submit_shell("sleep 100", &["--max-time", "2s"]);
    let (wo, pgid) = running_pid(&d, &id);
    let started = chrono::DateTime::parse_from_rfc3339(wo["startedAt"].as_str().unwrap()).unwrap();
    let timeout_at =
        chrono::DateTime::parse_from_rfc3339(wo["timeoutAt"].as_str().unwrap()).unwrap();
    assert_eq!((timeout_at - started).num_milliseconds(), 2000);
    assert_eq!(wo["maxTime"], 2);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "failed");
    assert_eq!(wo["result"], "timeout");
    assert_eq!(wo["error"], "timed out after 2s");
    assert!(group_alive(pgid).is_empty());
}

#[test]
fn stale_detector_fails_silent_work_and_spares_active_work() {
    let d = Daemon::fast(&[
        "--stale-threshold",
        "2s",
        "--stale-check-interval",
        "1s",
        "--max-concurrent",
        "3",
    ]);
    let silent = d.submit_shell("sleep 100", &[]);
    let chatty = d.submit_shell("while true; do echo tick; sleep 0.5; done", &[]);
    let beating = d.submit_shell(
        "while true; do touch \"$AGENTGATE_HEARTBEAT_FILE\"; sleep 0.5; done",
        &[],
    );
    let (_, pgid) = running_pid(&d, &silent);
    let wo = d.wait_terminal(&silent, T);
    assert_eq!(wo["status"], "failed");
    assert_eq!(wo["result"], "stale");
    assert!(
        wo["error"].as_str().unwrap().contains("no activity"),
        "{wo}"
    );
    assert!(group_alive(pgid).is_empty());
    // Started together with the silent one, past its threshold, still running,
    // and their lastActivityAt moves on.
    for id in [&chatty, &beating] {
        let wo = d.show(id);
        assert_eq!(wo["status"], "running");
        let started =
            chrono::DateTime::parse_from_rfc3339(wo["startedAt"].as_str().unwrap()).unwrap();
        let active =
            chrono::DateTime::parse_from_rfc3339(wo["lastActivityAt"].as_str().unwrap()).unwrap();
        assert!(active > started, "{wo}");
    }
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["staleDetectionsLastHour"], 1);
    assert!(
        h["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "stale")
    );
    assert!(d.log_text().contains("stale work order detected"));
}

#[test]
fn max_running_time_fails_even_active_work() {
    let d = Daemon::fast(&["--max-running-time", "2s", "--stale-check-interval", "1s"]);
    let id = d.submit_shell("while true; do echo tick; sleep 0.2; done", &[]);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["result"], "stale");
    assert!(
        wo["error"].as_str().unwrap().contains("max_running_time"),
        "{wo}"
    );
}

#[test]
fn no_stale_check_leaves_silent_work_alone() {
    let d = Daemon::fast(&[
        "--no-stale-check",
        "--stale-threshold",
        "1s",
        "--stale-check-interval",
        "1s",
    ]);
    let id = d.submit_shell("sleep 100", &[]);
    running_pid(&d, &id);
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert_eq!(d.status(&id), "running");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn health_counts_match_list_counts() {
    let d = Daemon::fast(&["--max-concurrent", "1"]);
    let ok = d.submit_shell("exit 0", &[]);
    d.wait_terminal(&ok, T);
    let bad = d.submit_shell("exit 2", &[]);
    d.wait_terminal(&bad, T);
    let run = d.submit_shell("sleep 1000", &[]);
    running_pid(&d, &run);
    let q1 = d.submit_shell("exit 0", &[]);
    let q2 = d.submit_shell("exit 0", &[]);
    d.json(&["queue", "cancel", &q2, "--json"]);
    let h = d.json(&["queue", "health", "--json"]);
    let list = d.json(&["queue", "list", "--all", "--json"]);
    let count = |s: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["status"] == s)
            .count() as u64
    };
    for s in ["queued", "running", "succeeded", "failed", "canceled"] {
        assert_eq!(h["counts"][s].as_u64().unwrap(), count(s), "{s}: {h}");
    }
    assert_eq!(h["runningCount"], 1);
    assert_eq!(h["queuedCount"], 1);
    assert_eq!(h["completedCount"], 1);
    assert_eq!(h["failedCount"], 1);
    assert_eq!(h["canceledCount"], 1);
    assert_eq!(h["maxConcurrent"], 1);
    assert!(h["oldestRunningAge"].is_u64());
    assert_eq!(h["stuckThreshold"], 1_800_000);
    assert!(h["memory"]["availableMb"].is_u64());
    assert_eq!(h["autoProcess"], true);
    assert_eq!(h["accepting"], true);
    assert!(matches!(h["status"].as_str(), Some("healthy" | "degraded")));
    assert!(h["timestamp"].is_string());
    assert_eq!(h["storage"]["quarantined"], 0);
    let _ = q1;
}

#[test]
fn manual_start_queued_retry_failed_and_refusals() {
    let d = Daemon::fast(&["--no-auto-process", "--max-concurrent", "1"]);
    let a = d.submit_shell("sleep 1000", &[]);
    let b = d.submit_shell("exit 5", &[]);
    let s = d.json(&["queue", "start", &a, "--json"]);
    assert_eq!(s["status"], "running");
    assert!(s["runId"].is_string());
    expect_fail(&d, &["queue", "start", &a], 1, "only queued or failed");
    expect_fail(&d, &["queue", "start", &b], 1, "concurrency limit reached");
    d.json(&["queue", "kill", &a, "--force", "--json"]);
    d.json(&["queue", "start", &b, "--json"]);
    let wo = d.wait_terminal(&b, T);
    assert_eq!(wo["status"], "failed");
    let first_run = wo["currentRunId"].clone();
    // A retry of a failed work order is a new run.
    d.json(&["queue", "start", &b, "--json"]);
    let wo = d.wait_terminal(&b, T);
    assert_eq!(wo["runCount"], 2);
    assert_ne!(wo["currentRunId"], first_run);
    assert_eq!(wo["runs"].as_array().unwrap().len(), 2);
    expect_fail(&d, &["queue", "start", &a], 1, "only queued or failed");
    expect_fail(&d, &["queue", "start", "nosuchid0000"], 1, "no work order");
}

#[test]
fn cancel_racing_natural_exit_ends_in_exactly_one_state() {
    let d = Daemon::fast(&["--max-concurrent", "4"]);
    for i in 0..12 {
        let id = d.submit_shell(&format!("sleep 0.0{i}"), &[]);
        let out = d.run(&["queue", "cancel", &id, "--json"]);
        let wo = d.wait_terminal(&id, T);
        let status = wo["status"].as_str().unwrap();
        if out.status.success() {
            // The cancel won: canceled, whatever the process did meanwhile.
            assert_eq!(status, "canceled", "{wo}");
        } else {
            // The exit won: the cancel was refused as too late.
            assert_eq!(status, "succeeded", "{wo}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("already succeeded"));
        }
        // The run record agrees with the work order; no process is left.
        if let Some(run) = wo["runs"].as_array().and_then(|r| r.first()) {
            assert_eq!(run["status"], wo["status"]);
        }
        if let Some(pid) = wo["runs"][0]["pid"].as_i64() {
            assert!(group_alive(pid as i32).is_empty());
        }
    }
}

#[test]
fn kill_with_an_absurd_grace_period_is_refused_not_a_crash() {
    let d = Daemon::fast(&[]);
    let id = d.submit_shell("sleep 1000", &[]);
    let (_, pgid) = running_pid(&d, &id);
    expect_fail(
        &d,
        &["queue", "kill", &id, "--grace", "1000d"],
        2,
        "--grace 1000d: at most 1h",
    );
    assert_eq!(d.status(&id), "running");
    d.json(&["queue", "kill", &id, "--force", "--json"]);
    assert!(group_alive(pgid).is_empty());
}

#[test]
fn cancel_of_a_work_order_and_its_dependent_in_one_call_succeeds() {
    let d = Daemon::fast(&[]);
    // A runs, B waits for it: canceling A cancels B on the way, and B named
    // in the same call is no error.
    let a = d.submit_shell("sleep 1000", &[]);
    running_pid(&d, &a);
    let b = d.submit_shell("echo b", &["--after", &a]);
    let out = d.run(&["queue", "cancel", &a, &b]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("canceled {b}")), "{stdout}");
    assert_eq!(d.show(&a)["result"], "canceled");
    let wb = d.show(&b);
    assert_eq!(wb["status"], "canceled");
    assert_eq!(wb["result"], "dependency_failed", "{wb}");
    // Both queued, through kill: the same.
    let d2 = Daemon::fast(&["--max-concurrent", "1"]);
    let c = d2.submit_shell("sleep 1000", &[]);
    running_pid(&d2, &c);
    let e = d2.submit_shell("echo e", &[]);
    let f = d2.submit_shell("echo f", &["--after", &e]);
    let out = d2.run(&["queue", "kill", &e, &f]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing ran: no time, no SIGKILL, no "no process was running".
    assert_eq!(
        stdout,
        format!(
            "killed {e}: canceled before it started\nkilled {f}: canceled before it started: a work order it depends on ended\n"
        )
    );
    assert_eq!(d2.show(&f)["result"], "dependency_failed");
    // A work order canceled by the user is still refused a second time.
    expect_fail(&d, &["queue", "cancel", &a], 1, "already canceled");
}

/// `queue health` is a probe: against a stopped daemon (SIGSTOP) it gives up
/// within seconds with exit 3, where other commands wait AGENTGATE_TIMEOUT.
#[test]
fn health_of_a_stopped_daemon_says_it_is_not_answering() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let d = Daemon::fast(&[]);
    let pid = Pid::from_raw(d.pid() as i32);
    kill(pid, Signal::SIGSTOP).unwrap();
    // Continued whatever happens below, so the daemon can be stopped.
    struct Cont(Pid);
    impl Drop for Cont {
        fn drop(&mut self) {
            let _ = kill(self.0, Signal::SIGCONT);
        }
    }
    let _cont = Cont(pid);
    let started = Instant::now();
    let out = d.run(&["queue", "health"]);
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("is not answering"), "{err}");
    // Bounded by the probe's 5 s, not the 30 s of other commands.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    kill(pid, Signal::SIGCONT).unwrap();
    let out = d.run(&["queue", "health", "--json"]);
    assert!(out.status.success());
}
