//! Supervision that outlives the daemon, through the real binary and real
//! processes: running work survives kill -9, SIGHUP and `daemon restart` of
//! the daemon and is adopted (exits and timeouts that happened meanwhile are
//! recorded as they were); nothing a run starts escapes a stop; no zombie is
//! left; a hung clone can be stopped; SIGKILL follows the grace period
//! whatever the leader did; cgroups hold runs, measure them and limit memory.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Daemon, FAST, all_pids, cmdline, code, pid_alive, stderr, supervisors_of, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

fn args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut a = FAST.to_vec();
    a.extend_from_slice(extra);
    a
}

fn touch(path: &Path) {
    std::fs::write(path, b"").expect("touch");
}

/// Waits until the work order is running with its agent started; its pid.
fn running_pid(d: &Daemon, id: &str) -> i32 {
    wait_for(&format!("{id} to run"), T, || {
        let v = d.show(id);
        (v["status"] == "running")
            .then(|| v["pid"].as_i64())
            .flatten()
            .map(|p| p as i32)
    })
}

fn run_dir(d: &Daemon, wo: &Value) -> PathBuf {
    d.root
        .join("runs")
        .join(wo["currentRunId"].as_str().expect("run id"))
}

/// A script that waits for `gate` to exist (polling a file, inside the agent).
fn gated(gate: &Path, before: &str, after: &str, exit: i32) -> String {
    format!(
        "echo {before}; while [ ! -e {gate} ]; do sleep 0.05; done; echo {after}; exit {exit}",
        gate = gate.display()
    )
}

/// A sleep length unique to this test process (suites may run side by side).
fn unique(base: &str) -> String {
    format!("{base}{}", std::process::id())
}

/// Live processes whose command line has `arg` (a unique sleep length).
fn with_arg(arg: &str) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| pid_alive(p) && cmdline(p).iter().any(|a| a == arg))
        .collect()
}

fn logs(d: &Daemon, id: &str) -> String {
    let out = d.run(&["queue", "logs", "--stdout", id]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How the daemon is taken away while work runs.
#[derive(Clone, Copy, Debug)]
enum Outage {
    Kill9,
    Sighup,
    /// `daemon restart`: no daemon for milliseconds only; the ends come after.
    Restart,
}

/// Five work orders run; the daemon goes away; meanwhile one exits 3 and one
/// passes its max time; a new daemon adopts everything with the real ends.
fn work_survives(outage: Outage) {
    let mut d = Daemon::start(&args(&["--max-concurrent", "8", "--grace-period", "1s"]));
    let gates = d.dir.path().join("gates");
    std::fs::create_dir_all(&gates).unwrap();
    let exits = d.submit_shell(&gated(&gates.join("a"), "a-before", "a-after", 3), &[]);
    let times_out = d.submit_shell("echo b-before; sleep 1000", &["--max-time", "3s"]);
    let keeps: Vec<String> = (0..2)
        .map(|i| {
            d.submit_shell(
                &gated(
                    &gates.join("c"),
                    &format!("c{i}-before"),
                    &format!("c{i}-after"),
                    0,
                ),
                &[],
            )
        })
        .collect();
    // Unique to this variant: the variants run at the same time.
    let sleep_arg = unique(&format!("1000.424{}", outage as u8));
    let canceled_later = d.submit_shell(&format!("echo d-before; sleep {sleep_arg}"), &[]);
    for id in keeps.iter().chain([&exits, &times_out, &canceled_later]) {
        running_pid(&d, id);
    }
    // Output written before the outage is in the logs.
    wait_for("output before the outage", T, || {
        logs(&d, &exits).contains("a-before").then_some(())
    });
    let runs: Vec<PathBuf> = [&exits, &times_out]
        .iter()
        .map(|id| run_dir(&d, &d.show(id)))
        .collect();

    match outage {
        Outage::Kill9 => d.crash(),
        Outage::Sighup => {
            let mut child = d.child.take().unwrap();
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGHUP,
            )
            .unwrap();
            let status = child.wait().unwrap();
            assert!(status.success(), "SIGHUP exit: {status}");
            assert!(d.log_text().contains("SIGHUP received"), "{}", d.log_text());
        }
        Outage::Restart => {
            let out = d.run(&["daemon", "restart"]);
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            assert!(
                stderr(&out).contains("5 running work orders kept"),
                "{}",
                stderr(&out)
            );
        }
    }
    assert!(!d.socket.exists() || !matches!(outage, Outage::Sighup));
    // While no daemon runs (or just after a restart): one exits 3, one passes
    // its deadline.
    touch(&gates.join("a"));
    for run in &runs {
        wait_for("a run to end while the daemon is down", T, || {
            run.join("exit.json").exists().then_some(())
        });
    }
    // The two ended supervisors exit just after writing their exit files.
    wait_for("three runs still supervised", T, || {
        (supervisors_of(&d.root).len() == 3).then_some(())
    });

    if !matches!(outage, Outage::Restart) {
        d.spawn();
    }
    let a = d.show(&exits);
    assert_eq!(
        (&a["status"], &a["result"], &a["exitCode"]),
        (
            &Value::from("failed"),
            &Value::from("exited"),
            &Value::from(3)
        ),
        "{a}"
    );
    let b = d.show(&times_out);
    assert_eq!(
        (&b["status"], &b["result"]),
        (&Value::from("failed"), &Value::from("timeout")),
        "{b}"
    );
    assert_eq!(b["error"], "timed out after 3s");
    for id in keeps.iter().chain([&canceled_later]) {
        assert_eq!(d.status(id), "running", "{}", d.show(id));
    }
    assert_eq!(logs(&d, &exits), "a-before\na-after\n");

    // An adopted run is followed, stopped and ends as before.
    let mut follow = d
        .command()
        .args(["queue", "logs", "--follow", &keeps[0]])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cancel = d.json(&["queue", "cancel", &canceled_later, "--json"]);
    assert_eq!(cancel["status"], "canceled", "{cancel}");
    assert!(
        with_arg(&sleep_arg).is_empty(),
        "canceled agent still alive: {cancel}\n{}",
        d.log_text()
    );
    touch(&gates.join("c"));
    for (i, id) in keeps.iter().enumerate() {
        let wo = d.wait_terminal(id, T);
        assert_eq!(wo["status"], "succeeded", "{wo}");
        assert_eq!(logs(&d, id), format!("c{i}-before\nc{i}-after\n"));
    }
    let status = follow.wait().unwrap();
    let mut out = String::new();
    follow
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "follow exit {status}");
    assert_eq!(out, "c0-before\nc0-after\n");
    let list = d.json(&["queue", "list", "--all", "--json"]);
    for wo in list["items"].as_array().unwrap() {
        assert_ne!(wo["result"], "interrupted", "{wo}");
    }
    assert!(supervisors_of(&d.root).is_empty());
}

#[test]
fn kill_9_of_the_daemon_loses_no_running_work() {
    work_survives(Outage::Kill9);
}

#[test]
fn sighup_of_the_daemon_leaves_work_running_for_the_next() {
    work_survives(Outage::Sighup);
}

#[test]
fn daemon_restart_loses_no_running_work() {
    work_survives(Outage::Restart);
}

#[test]
fn daemon_restart_keeps_running_work_and_adopts_it_in_place() {
    let d = Daemon::start(&args(&["--grace-period", "1s"]));
    let gate = d.dir.path().join("gate");
    let id = d.submit_shell(&gated(&gate, "before", "after", 0), &[]);
    let agent = running_pid(&d, &id);
    let daemon_pid = d.pid();
    let out = d.run(&["daemon", "restart"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 running work orders kept"),
        "{}",
        stderr(&out)
    );
    assert!(pid_alive(daemon_pid as i32), "restarted in place");
    assert!(pid_alive(agent), "the agent kept running");
    assert_eq!(d.status(&id), "running");
    assert!(d.log_text().contains("restarting in place"));
    assert!(
        d.log_text().contains("adopted running work"),
        "{}",
        d.log_text()
    );
    touch(&gate);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    assert_eq!(logs(&d, &id), "before\nafter\n");
    // The supervisor was the daemon's child across the exec: reaped, no zombie.
    wait_for("no zombie under the daemon", T, || {
        zombies_under(daemon_pid as i32).is_empty().then_some(())
    });
}

#[test]
fn daemon_stop_keep_running_leaves_work_for_the_next_daemon() {
    let mut d = Daemon::start(&args(&["--grace-period", "1s"]));
    let gate = d.dir.path().join("gate");
    let id = d.submit_shell(&gate_script(&gate), &[]);
    let agent = running_pid(&d, &id);
    let out = d.run(&["daemon", "stop", "--keep-running"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 running work orders left"),
        "{}",
        stderr(&out)
    );
    let _ = d.child.take().map(|mut c| c.wait());
    assert!(pid_alive(agent));
    d.spawn();
    assert_eq!(d.status(&id), "running");
    touch(&gate);
    assert_eq!(d.wait_terminal(&id, T)["status"], "succeeded");
}

fn gate_script(gate: &Path) -> String {
    gated(gate, "before", "after", 0)
}

/// Zombie processes whose parent is `ppid`.
fn zombies_under(ppid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                return false;
            };
            let f: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, r)| r.split_whitespace().collect())
                .unwrap_or_default();
            f.len() > 1 && f[0] == "Z" && f[1] == ppid.to_string()
        })
        .collect()
}

// ---- nothing escapes ---------------------------------------------------------------

/// How a run ends in the escape tests.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Cancel,
    Kill,
    KillForce,
    Timeout,
    NaturalExit,
}

/// A tree whose descendants leave the agent's process group in three ways;
/// `tag` makes their sleep lengths unique to this case.
fn escaping_tree(tag: u32, gate: &Path) -> (String, [String; 3]) {
    let args = [
        format!("7001.{tag}"),
        format!("7002.{tag}"),
        format!("7003.{tag}"),
    ];
    let script = format!(
        "setsid sleep {} & ( sleep {} & ) & nohup sleep {} >/dev/null 2>&1 & \
         while [ ! -e {} ]; do sleep 0.05; done; exit 0",
        args[0],
        args[1],
        args[2],
        gate.display()
    );
    (script, args)
}

fn nothing_escapes(cgroups: &str) {
    let d = Daemon::start_env(
        &args(&["--max-concurrent", "8", "--grace-period", "2s"]),
        &[("AGENTGATE_CGROUPS", cgroups)],
    );
    let endings = [
        Ending::Cancel,
        Ending::Kill,
        Ending::KillForce,
        Ending::Timeout,
        Ending::NaturalExit,
    ];
    // Unique to this test process and variant: suites may run side by side.
    let salt = std::process::id() * 10 + u32::from(cgroups == "off");
    let mut cases = Vec::new();
    for (i, ending) in endings.into_iter().enumerate() {
        let tag = salt * 10 + i as u32;
        let gate = d.dir.path().join(format!("gate-{i}"));
        let (script, sleeps) = escaping_tree(tag, &gate);
        let extra: &[&str] = match ending {
            Ending::Timeout => &["--max-time", "2s"],
            _ => &[],
        };
        let id = d.submit_shell(&script, extra);
        cases.push((ending, id, gate, sleeps));
    }
    for (ending, id, _, sleeps) in &cases {
        running_pid(&d, id);
        if !matches!(ending, Ending::Timeout) {
            wait_for("the escapers to run", T, || {
                sleeps.iter().all(|s| !with_arg(s).is_empty()).then_some(())
            });
        }
    }
    for (ending, id, gate, sleeps) in &cases {
        match ending {
            Ending::Cancel => {
                d.json(&["queue", "cancel", id, "--json"]);
            }
            Ending::Kill => {
                d.json(&["queue", "kill", id, "--json"]);
            }
            Ending::KillForce => {
                d.json(&["queue", "kill", id, "--force", "--json"]);
            }
            Ending::Timeout => {}
            Ending::NaturalExit => touch(gate),
        }
        let wo = d.wait_terminal(id, T);
        let expect = match ending {
            Ending::Cancel | Ending::Kill | Ending::KillForce => ("canceled", None),
            Ending::Timeout => ("failed", Some("timeout")),
            Ending::NaturalExit => ("succeeded", Some("exited")),
        };
        assert_eq!(wo["status"], expect.0, "{ending:?} ({cgroups}): {wo}");
        if let Some(r) = expect.1 {
            assert_eq!(wo["result"], r, "{ending:?}: {wo}");
        }
        for s in sleeps {
            assert!(
                with_arg(s).is_empty(),
                "{ending:?} ({cgroups}): `sleep {s}` escaped\n{}",
                d.log_text()
            );
        }
    }
}

#[test]
fn nothing_escapes_a_stop_with_cgroups() {
    nothing_escapes("auto");
}

#[test]
fn nothing_escapes_a_stop_without_cgroups() {
    nothing_escapes("off");
}

#[test]
fn two_hundred_setsid_runs_leave_no_zombie() {
    let d = Daemon::start(&args(&["--max-concurrent", "8"]));
    let ids: Vec<String> = (0..200)
        .map(|_| d.submit_shell("setsid sleep 0.2 & exit 0", &[]))
        .collect();
    wait_for("200 runs to finish", Duration::from_secs(120), || {
        let h = d.json(&["queue", "health", "--json"]);
        (h["counts"]["succeeded"] == 200).then_some(())
    });
    for id in ids.iter().step_by(50) {
        assert_eq!(d.status(id), "succeeded");
    }
    assert!(supervisors_of(&d.root).is_empty(), "supervisors left");
    let daemon = d.pid() as i32;
    let zombies = zombies_under(daemon);
    assert!(zombies.is_empty(), "zombies under the daemon: {zombies:?}");
    let leftovers = all_pids()
        .into_iter()
        .filter(|&p| pid_alive(p) && cmdline(p) == ["sleep", "0.2"])
        .filter(|&p| {
            std::fs::read(format!("/proc/{p}/environ")).is_ok_and(|env| {
                String::from_utf8_lossy(&env).contains(&d.root.display().to_string())
            })
        })
        .count();
    assert_eq!(leftovers, 0, "setsid sleeps outlived their runs");
}

// ---- stopping ------------------------------------------------------------------------

#[test]
fn a_hung_clone_is_stopped_and_frees_its_slot() {
    // A git server that accepts the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
            let _ = tx.send(());
        }
    });
    let d = Daemon::start(&args(&["--max-concurrent", "1", "--grace-period", "3s"]));
    let url = format!("http://127.0.0.1:{port}/repo.git");
    let v = d.json(&[
        "submit", "--agent", "shell", "--url", &url, "--json", "true",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    rx.recv_timeout(T).expect("the clone connected");
    let with_url = || {
        all_pids()
            .into_iter()
            .filter(|&p| pid_alive(p) && cmdline(p).iter().any(|a| a.contains(&url)))
            .count()
    };
    assert!(with_url() > 0, "the clone runs");
    let started = Instant::now();
    let out = d.run(&["queue", "cancel", &id, "--json"]);
    let took = started.elapsed();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Returns within the grace period (plus slack), not never.
    assert!(took < Duration::from_secs(15), "cancel took {took:?}");
    let wo = d.show(&id);
    assert_eq!(wo["status"], "canceled", "{wo}");
    assert_eq!(with_url(), 0, "clone processes left");
    // The slot is free: the next one runs at once.
    let next = d.submit_shell("true", &[]);
    assert_eq!(d.wait_terminal(&next, T)["status"], "succeeded");
}

#[test]
fn sigkill_follows_the_grace_period_when_the_leader_is_gone() {
    let d = Daemon::start(&args(&[]));
    let (child, leader) = (unique("1000.8181"), unique("1000.8182"));
    let id = d.submit_shell(
        &format!("(trap '' TERM; exec sleep {child}) & sleep {leader}; wait"),
        &[],
    );
    running_pid(&d, &id);
    wait_for("the child", T, || {
        (!with_arg(&child).is_empty()).then_some(())
    });
    let out = d.json(&["queue", "kill", &id, "--grace", "2s", "--json"]);
    // The leader went at once on SIGTERM; the child ignored it and was
    // SIGKILLed when the grace period ended, not before and not never.
    let ms = out["durationMs"].as_u64().unwrap();
    assert!(
        ms >= 1900,
        "returned after {ms} ms, before the grace period ended"
    );
    assert!(ms < 15_000, "returned after {ms} ms");
    assert!(with_arg(&child).is_empty(), "TERM-ignoring child survived");
    assert_eq!(out["status"], "canceled");
}

// ---- cgroups ---------------------------------------------------------------------------

fn isolation(d: &Daemon) -> String {
    d.json(&["queue", "health", "--json"])["executors"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn runs_have_their_own_cgroup_with_usage_figures() {
    let d = Daemon::start(&args(&[]));
    let how = isolation(&d);
    if !how.contains("cgroup v2") {
        println!("SKIPPED: no writable cgroup v2 on this host ({how})");
        return;
    }
    let id = d.submit_shell(&format!("sleep {}", unique("1000.5151")), &[]);
    let agent = running_pid(&d, &id);
    let wo = d.show(&id);
    let cgroup = PathBuf::from(wo["runs"][0]["cgroup"].as_str().expect("cgroup path"));
    assert!(cgroup.is_dir(), "{}", cgroup.display());
    let procs = std::fs::read_to_string(cgroup.join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().any(|l| l == agent.to_string()),
        "agent {agent} not in {procs}"
    );
    d.json(&["queue", "cancel", &id, "--json"]);
    wait_for("the cgroup to be removed", T, || {
        (!cgroup.exists()).then_some(())
    });
    let run = &d.show(&id)["runs"][0];
    assert!(
        run["peakMemoryBytes"].as_u64().is_some_and(|b| b > 0),
        "{run}"
    );
    assert!(run["cpuTimeMs"].as_u64().is_some(), "{run}");
}

#[test]
fn an_agent_over_its_memory_max_fails_with_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[agents.small]\ncommand = [\"sh\", \"-c\", \"{prompt}\"]\nmemory_max = \"64MiB\"\n",
    )
    .unwrap();
    let config_arg = config.display().to_string();
    let mut a: Vec<&str> = args(&[]);
    a.extend_from_slice(&["--config", &config_arg]);
    let d = Daemon::start(&a);
    let how = isolation(&d);
    if !how.contains("memory") || how.contains("no memory controller") {
        println!("SKIPPED: no memory cgroup on this host ({how})");
        return;
    }
    // `tail -c` keeps what it reads in memory: 300 MB of it.
    let v = d.json(&[
        "submit",
        "--agent",
        "small",
        "--json",
        "head -c 300000000 /dev/zero | tail -c 300000000 > /dev/null",
    ]);
    let id = v["id"].as_str().unwrap();
    let wo = d.wait_terminal(id, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    let error = wo["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("out of memory") && error.contains("64MiB"),
        "{error}"
    );
    // A well-behaved agent of the same type is fine.
    let ok = d.json(&["submit", "--agent", "small", "--json", "echo fine"]);
    let ok = d.wait_terminal(ok["id"].as_str().unwrap(), T);
    assert_eq!(ok["status"], "succeeded", "{ok}");
}

#[test]
fn agents_start_with_a_clean_signal_state_and_get_sigterm_first() {
    let d = Daemon::start(&args(&[]));
    // Nothing blocked or ignored is inherited from the supervisor (which
    // blocks SIGTERM/SIGCHLD for itself) or from whatever started the daemon.
    let id = d.submit_shell("grep -E '^Sig(Blk|Ign)' /proc/self/status", &[]);
    assert_eq!(d.wait_terminal(&id, T)["status"], "succeeded");
    assert_eq!(
        logs(&d, &id),
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
    // A stop is SIGTERM first: an agent that acts on it ends at once, long
    // before a 60 s grace period would have it SIGKILLed.
    let id = d.submit_shell(
        "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
        &[],
    );
    wait_for("the agent to be ready", T, || {
        logs(&d, &id).contains("ready").then_some(())
    });
    let started = Instant::now();
    let out = d.json(&["queue", "kill", &id, "--grace", "60s", "--json"]);
    assert!(started.elapsed() < Duration::from_secs(30), "{out}");
    assert_eq!(out["status"], "canceled");
    assert_eq!(logs(&d, &id), "ready\ngot TERM\n");
}
