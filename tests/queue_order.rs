//! Queue control for people and scripts (issue 13), through the real binary
//! and real processes: dependencies (`--after`), priorities, why queued work
//! waits, pause and live settings across restarts, `queue restart`, several
//! ids, prefixes and `--last`, and shell completion of live ids.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Daemon, code, stderr, stdout};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(20);

/// A script that waits for the file `gate`, then exits with `exit`.
fn gated(gate: &Path, exit: i32) -> String {
    format!(
        "while [ ! -e '{}' ]; do sleep 0.02; done; exit {exit}",
        gate.display()
    )
}

fn open(gate: &Path) {
    std::fs::write(gate, "").unwrap();
}

fn time(v: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(
        v[field].as_str().unwrap_or_else(|| panic!("{field}: {v}")),
    )
    .unwrap()
}

fn reason(d: &Daemon, id: &str) -> String {
    d.show(id)["queuedReason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Writes a work-order file as another tool (or a person) would.
fn write_work_order(root: &Path, id: &str, status: &str, after: &[&str], created: &str) {
    let dir = root.join("work-orders");
    std::fs::create_dir_all(&dir).unwrap();
    let v = json!({
        "id": id, "taskPrompt": format!("echo {id}"), "status": status, "agentType": "shell",
        "workspaceSource": {"type": "local", "path": "/tmp"}, "createdAt": created,
        "dependsOn": after,
    });
    std::fs::write(dir.join(format!("{id}.json")), v.to_string()).unwrap();
}

#[test]
fn after_waits_for_success_and_a_failure_cancels_the_chain() {
    let d = Daemon::fast(&["--max-concurrent", "4"]);
    let gate = d.dir.path().join("gate-a");
    let a = d.submit_shell(&gated(&gate, 0), &[]);
    let b = d.submit_shell("echo b", &["--after", &a]);
    // A chain of three, named by prefixes.
    let c = d.submit_shell("echo c", &["--after", &b[..5]]);
    for (id, dep) in [(&b, &a), (&c, &b)] {
        let wo = d.show(id);
        assert_eq!(wo["status"], "queued", "{wo}");
        assert_eq!(wo["dependsOn"], json!([dep]), "{wo}");
        assert_eq!(wo["queuedReason"], format!("dependency {dep}"), "{wo}");
    }
    // The listing says the same, from the same admission logic.
    let list = d.json(&["queue", "list", "--json"]);
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == b.as_str())
        .unwrap();
    assert_eq!(item["queuedReason"], format!("dependency {a}"));
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["id"] != a.as_str() || w.get("queuedReason").is_none())
    );
    let text = stdout(&d.run(&["queue", "show", &b]));
    assert!(
        text.contains(&format!("after:       {a} (running)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("waiting:     dependency {a}")),
        "{text}"
    );

    open(&gate);
    let (wa, wb, wc) = (
        d.wait_terminal(&a, T),
        d.wait_terminal(&b, T),
        d.wait_terminal(&c, T),
    );
    for w in [&wa, &wb, &wc] {
        assert_eq!(w["status"], "succeeded", "{w}");
    }
    assert!(
        time(&wa, "completedAt") <= time(&wb, "startedAt"),
        "{wa}\n{wb}"
    );
    assert!(
        time(&wb, "completedAt") <= time(&wc, "startedAt"),
        "{wb}\n{wc}"
    );

    // A failure cancels the dependent, and its dependents after it.
    let gate = d.dir.path().join("gate-f");
    let f = d.submit_shell(&gated(&gate, 3), &[]);
    let g = d.submit_shell("echo g", &["--after", &f]);
    let h = d.submit_shell("echo h", &["--after", &g]);
    open(&gate);
    let wg = d.wait_terminal(&g, T);
    let wh = d.wait_terminal(&h, T);
    assert_eq!(d.show(&f)["status"], "failed");
    for w in [&wg, &wh] {
        assert_eq!(w["status"], "canceled", "{w}");
        assert_eq!(w["result"], "dependency_failed", "{w}");
        assert_eq!(w["runCount"], 0, "{w}");
        assert!(w.get("startedAt").is_none(), "{w}");
    }
    assert_eq!(wg["error"], format!("dependency {f} failed"));
    assert_eq!(
        wh["error"],
        format!("dependency {g} was canceled: dependency {f} failed")
    );
    // Waiting for them tells why.
    let out = d.run(&["queue", "wait", &h]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("canceled: dependency"),
        "{}",
        stdout(&out)
    );

    // Canceling a queued dependency cancels its dependents too.
    let gate = d.dir.path().join("gate-q");
    let blocker = d.submit_shell(&gated(&gate, 0), &[]);
    let q = d.submit_shell("echo q", &["--after", &blocker]);
    let r = d.submit_shell("echo r", &["--after", &q]);
    d.json(&["queue", "cancel", &q, "--json"]);
    let wr = d.wait_terminal(&r, T);
    assert_eq!(wr["result"], "dependency_failed");
    assert_eq!(wr["error"], format!("dependency {q} was canceled"));
    open(&gate);
    d.wait_terminal(&blocker, T);

    // Refused at submit: an unknown id (exit 1, as an unknown id is for
    // every command), and one that can never succeed (a bad --after value).
    for (after, needle, exit) in [
        ("nosuchid0000", "--after nosuchid0000: no work order", 1),
        (f.as_str(), "already failed", 2),
    ] {
        let out = d.run(&["submit", "--agent", "shell", "--after", after, "true"]);
        assert_eq!(code(&out), exit, "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
    // A started dependency still gates a manual start.
    let gate = d.dir.path().join("gate-m");
    let m = d.submit_shell(&gated(&gate, 0), &[]);
    let n = d.submit_shell("true", &["--after", &m]);
    let out = d.run(&["queue", "start", &n]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains(&format!("waits for {m}")),
        "{}",
        stderr(&out)
    );
    open(&gate);
    assert_eq!(d.wait_terminal(&n, T)["status"], "succeeded");
}

#[test]
fn dependencies_left_unsettled_on_disk_are_settled_at_start() {
    let mut d = Daemon::fast(&["--no-auto-process"]);
    d.stop();
    let t = "2026-01-02T03:04:05.678Z";
    // A cycle (only files written by hand can hold one), and a work order
    // waiting for it.
    write_work_order(&d.root, "cycleAAAAAAA", "queued", &["cycleBBBBBBB"], t);
    write_work_order(&d.root, "cycleBBBBBBB", "queued", &["cycleAAAAAAA"], t);
    write_work_order(&d.root, "cycleCCCCCCC", "queued", &["cycleAAAAAAA"], t);
    // A dependency that failed while its dependent's cancel was not written.
    write_work_order(&d.root, "failedDDDDDD", "failed", &[], t);
    write_work_order(&d.root, "waitingEEEEE", "queued", &["failedDDDDDD"], t);
    // A dependency that succeeded, then was purged: nothing left to wait for.
    write_work_order(&d.root, "orphanFFFFFF", "queued", &["goneGGGGGGGG"], t);
    d.spawn();
    for id in ["cycleAAAAAAA", "cycleBBBBBBB"] {
        let w = d.show(id);
        assert_eq!(w["status"], "canceled", "{w}");
        assert_eq!(w["result"], "dependency_failed", "{w}");
        assert_eq!(
            w["error"], "dependency cycle: cycleAAAAAAA -> cycleBBBBBBB -> cycleAAAAAAA",
            "{w}"
        );
    }
    let w = d.show("cycleCCCCCCC");
    assert_eq!(w["status"], "canceled");
    assert_eq!(
        w["error"],
        "dependency cycleAAAAAAA was canceled: dependency cycle: cycleAAAAAAA -> cycleBBBBBBB -> cycleAAAAAAA"
    );
    let w = d.show("waitingEEEEE");
    assert_eq!(w["status"], "canceled");
    assert_eq!(w["error"], "dependency failedDDDDDD failed");
    let w = d.show("orphanFFFFFF");
    assert_eq!(w["status"], "queued");
    assert_eq!(w["queuedReason"], "auto-process off");
    // Written durably: a second start finds them settled.
    d.stop();
    d.spawn();
    assert_eq!(d.status("cycleBBBBBBB"), "canceled");
    assert!(d.log_text().contains("work orders wait for each other"));
}

#[test]
fn priorities_start_highest_first_and_fifo_within_one() {
    let d = Daemon::fast(&["--max-concurrent", "1"]);
    let gate = d.dir.path().join("gate");
    let blocker = d.submit_shell(&gated(&gate, 0), &[]);
    d.wait_status(&blocker, "running", T);
    let p0a = d.submit_shell("true", &[]);
    let p5a = d.submit_shell("true", &["--priority", "5"]);
    let low = d.submit_shell("true", &["--priority", "-1"]);
    let p0b = d.submit_shell("true", &[]);
    let p5b = d.submit_shell("true", &["--priority", "5"]);
    assert_eq!(reason(&d, &p5a), "concurrency (1 of 1 running)");
    // Behind one of its own priority: its place in the line, not priority.
    assert_eq!(reason(&d, &p5b), "1 ahead in queue");
    assert_eq!(reason(&d, &p0a), "priority (2 ahead)");
    assert_eq!(reason(&d, &p0b), "priority (3 ahead)");
    assert_eq!(reason(&d, &low), "priority (4 ahead)");
    let text = stdout(&d.run(&["queue", "show", &p5b]));
    assert!(text.contains("waiting:     1 ahead in queue\n"), "{text}");
    assert_eq!(d.show(&p5a)["priority"], 5);
    // Reordered while queued.
    let out = d.run(&["queue", "set-priority", &p0b, "9"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(reason(&d, &p0b), "concurrency (1 of 1 running)");
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["queuedReason"], "concurrency (1 of 1 running)");
    // Not once it runs.
    let out = d.run(&["queue", "set-priority", &blocker, "1"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("queued work only"),
        "{}",
        stderr(&out)
    );
    open(&gate);
    let order = [&p0b, &p5a, &p5b, &p0a, &low];
    let done: Vec<Value> = order.iter().map(|id| d.wait_terminal(id, T)).collect();
    for pair in done.windows(2) {
        assert!(
            time(&pair[0], "completedAt") <= time(&pair[1], "startedAt"),
            "out of order:\n{}\n{}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn pause_survives_a_restart_and_live_settings_need_none() {
    let mut d = Daemon::fast(&["--max-concurrent", "2"]);
    let out = d.run(&["queue", "pause"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("queue paused"), "{}", stdout(&out));
    let w = d.submit_shell("true", &[]);
    assert_eq!(reason(&d, &w), "paused");
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["paused"], true);
    assert_eq!(h["queuedReason"], "paused");
    assert!(stdout(&d.run(&["queue", "health"])).contains("admission:    PAUSED"));
    // Kept in the root, private, across a restart.
    let file = d.root.join("queue-settings.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    d.stop();
    d.spawn();
    assert_eq!(d.status(&w), "queued");
    assert_eq!(reason(&d, &w), "paused");
    let out = d.run(&["queue", "resume"]);
    assert_eq!(code(&out), 0);
    assert_eq!(d.wait_terminal(&w, T)["status"], "succeeded");

    // Two slots: the third waits, until the running daemon gets a third.
    let ids: Vec<String> = (0..3).map(|_| d.submit_shell("sleep 1000", &[])).collect();
    d.wait_status(&ids[0], "running", T);
    d.wait_status(&ids[1], "running", T);
    assert_eq!(reason(&d, &ids[2]), "concurrency (2 of 2 running)");
    let pid = d.pid();
    let c = d.json(&["queue", "config", "--max-concurrent", "3", "--json"]);
    assert_eq!(c["maxConcurrent"], 3);
    assert_eq!(c["configured"]["maxConcurrent"], 2);
    assert_eq!(c["overrides"], json!(["maxConcurrent"]));
    d.wait_status(&ids[2], "running", T);
    assert_eq!(d.pid(), pid, "the daemon was restarted");
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["maxConcurrent"], 3);
    assert_eq!(h["config"]["configured"]["maxConcurrent"], 2);
    let text = stdout(&d.run(&["queue", "health"]));
    assert!(
        text.contains("max concurrent 3 (set at run time; configured 2)"),
        "{text}"
    );
    // The change outlives the daemon; --reset goes back to the flags.
    d.stop();
    d.spawn();
    assert_eq!(d.json(&["queue", "health", "--json"])["maxConcurrent"], 3);
    let c = d.json(&["queue", "config", "--reset", "--json"]);
    assert_eq!(c["maxConcurrent"], 2);
    assert_eq!(c["overrides"], json!([]));
    // Bad values are refused in terms of the flag.
    let out = d.run(&["queue", "config", "--stagger-delay", "2d"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--stagger-delay 2d: at most 1d"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_stagger_and_memory_say_why_work_waits() {
    let d = Daemon::start(&[
        "--stagger-delay",
        "1h",
        "--max-concurrent",
        "3",
        "--min-memory",
        "0",
        "--http",
        "off",
    ]);
    let first = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&first, "running", T);
    let second = d.submit_shell("true", &[]);
    let r = reason(&d, &second);
    assert!(r.starts_with("stagger (next start in "), "{r}");
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["runningCount"], 1);
    assert!(
        h["queuedReason"].as_str().unwrap().starts_with("stagger"),
        "{h}"
    );
    // The stagger is a live setting too; then memory holds it back.
    d.json(&[
        "queue",
        "config",
        "--stagger-delay",
        "0",
        "--min-memory",
        "100TiB",
        "--json",
    ]);
    let r = reason(&d, &second);
    assert!(r.starts_with("memory (") && r.ends_with(" needed)"), "{r}");
    assert!(r.contains("100 TiB needed"), "{r}");
    d.json(&["queue", "config", "--min-memory", "0", "--json"]);
    assert_eq!(d.wait_terminal(&second, T)["status"], "succeeded");
}

#[test]
fn restart_queues_a_copy_of_any_finished_work_order() {
    let d = Daemon::fast(&[]);
    let orig = d.submit_shell(
        "echo \"mode=$MODE token=$TOKEN\"; exit 4",
        &[
            "--env",
            "MODE=one",
            "--env",
            "TOKEN=t",
            "--label",
            "nightly",
            "--priority",
            "3",
            "--max-time",
            "90s",
        ],
    );
    assert_eq!(d.wait_terminal(&orig, T)["status"], "failed");
    // `queue start` keeps its meaning; restart copies.
    let out = d.run(&["queue", "restart", &orig, "--env", "MODE=two", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let copy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let copy_id = copy["id"].as_str().unwrap().to_string();
    assert_ne!(copy_id, orig);
    assert_eq!(copy["restartedFrom"], orig.as_str());
    assert_eq!(copy["labels"], json!(["nightly"]));
    assert_eq!(copy["priority"], 3);
    assert_eq!(copy["maxTime"], 90);
    assert_eq!(copy["env"], json!({"MODE": "two", "TOKEN": "t"}));
    let done = d.wait_terminal(&copy_id, T);
    assert_eq!(done["exitCode"], 4);
    assert_eq!(d.read_log_of(&done), "mode=two token=t\n");
    assert!(stdout(&d.run(&["queue", "show", &copy_id])).contains(&format!("restart of:  {orig}")));

    // A succeeded one, with its prompt edited first.
    let ok = d.submit_shell("echo old-words", &[]);
    d.wait_terminal(&ok, T);
    let editor = d.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/old-words/new-words/' \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = d
        .command()
        .args(["queue", "restart", "--last", "--edit-prompt"])
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let edited = stdout(&out).trim().to_string();
    let w = d.wait_terminal(&edited, T);
    assert_eq!(w["taskPrompt"], "echo new-words");
    assert_eq!(d.read_log_of(&w), "new-words\n");

    // Only work that has ended.
    let running = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&running, "running", T);
    let out = d.run(&["queue", "restart", &running]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("restart copies work orders that have ended"),
        "{}",
        stderr(&out)
    );
    let out = d.run(&["queue", "start", &ok]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("queue restart"), "{}", stderr(&out));
}

#[test]
fn several_ids_prefixes_and_last() {
    let mut d = Daemon::fast(&["--no-auto-process"]);
    let ids: Vec<String> = (0..3)
        .map(|i| d.submit_shell(&format!("echo {i}"), &[]))
        .collect();
    // Several at once, one by a 5-character prefix.
    let out = d.run(&["queue", "cancel", &ids[0], &ids[1][..5], &ids[2]]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    for id in &ids {
        assert_eq!(d.status(id), "canceled");
    }
    // One refused among several: the others are done, each told, exit 1.
    let fresh = d.submit_shell("echo fresh", &[]);
    let out = d.run(&["queue", "cancel", &ids[0], &fresh, "--json"]);
    assert_eq!(code(&out), 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["id"], ids[0].as_str());
    assert_eq!(v[0]["error"]["code"], "invalid_state");
    assert_eq!(v[1]["status"], "canceled");
    assert!(
        stderr(&out).contains("already canceled"),
        "{}",
        stderr(&out)
    );
    // An unknown one among several: nothing is done.
    let kept = d.submit_shell("echo kept", &[]);
    let out = d.run(&["queue", "cancel", &kept, "nosuchid0000"]);
    assert_eq!(code(&out), 1);
    assert_eq!(d.status(&kept), "queued");
    // Start and kill take several too.
    let s1 = d.submit_shell("sleep 1000", &[]);
    let s2 = d.submit_shell("sleep 1000", &[]);
    let started = d.json(&["queue", "start", &s1, &s2[..6], "--json"]);
    assert_eq!(started.as_array().unwrap().len(), 2, "{started}");
    let killed = d.json(&["queue", "kill", &s1[..4], &s2, "--force", "--json"]);
    assert_eq!(killed[0]["status"], "canceled");
    assert_eq!(killed[1]["status"], "canceled");
    assert_eq!(d.show(&s2)["result"], "killed");
    let other = d.submit_shell("echo other", &[]);
    // --last is the newest.
    let last = d.json(&["queue", "show", "--last", "--json"]);
    assert_eq!(last["id"], other.as_str());
    let both = d.json(&["queue", "show", &fresh, "--last", "--json"]);
    assert_eq!(both.as_array().unwrap().len(), 2);
    // Too short to be safe.
    let out = d.run(&["queue", "show", &kept[..3]]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("at least 4 characters"),
        "{}",
        stderr(&out)
    );

    // An ambiguous prefix names every candidate.
    d.stop();
    let t = "2026-01-02T03:04:05.678Z";
    write_work_order(&d.root, "ambiXXXX0001", "succeeded", &[], t);
    write_work_order(&d.root, "ambiXXXX0002", "failed", &[], t);
    d.spawn();
    let out = d.run(&["queue", "show", "ambiX"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("ambiguous"), "{err}");
    assert!(
        err.contains("ambiXXXX0001 (succeeded") && err.contains("ambiXXXX0002 (failed"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        d.json(&["queue", "show", "ambiXXXX0002", "--json"])["status"],
        "failed"
    );
    let out = d.run(&["queue", "purge", "--yes", "ambiXXXX0001", "ambiXXXX0002"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("purged 2 work orders"));
}

#[test]
fn labels_filter_the_listing() {
    let d = Daemon::fast(&["--no-auto-process"]);
    let a = d.submit_shell("echo a", &["--label", "nightly", "--label", "team=infra"]);
    let b = d.submit_shell("echo b", &["--label", "nightly"]);
    d.submit_shell("echo c", &[]);
    let list = d.json(&["queue", "list", "--label", "nightly", "--json"]);
    assert_eq!(list["total"], 2);
    let both = d.json(&[
        "queue",
        "list",
        "--label",
        "nightly",
        "--label",
        "team=infra",
        "--json",
    ]);
    assert_eq!(both["total"], 1);
    assert_eq!(both["items"][0]["id"], a.as_str());
    assert_eq!(both["items"][0]["labels"], json!(["nightly", "team=infra"]));
    let text = stdout(&d.run(&["queue", "list", "--label", "nightly"]));
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines()
            .all(|l| l.split('\t').nth(4).unwrap().contains("nightly")),
        "{text}"
    );
    let _ = b;
    let out = d.run(&["submit", "--agent", "shell", "--label", "no spaces", "x"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--label: label \"no spaces\" is not valid"),
        "{}",
        stderr(&out)
    );
}

/// Completes `words` (after the program name) in a real bash with the
/// script of `completions/` loaded; returns the candidates.
fn bash_complete(d: &Daemon, words: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/agentgate.bash");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=('{}' {})\nCOMP_CWORD={}\n_agentgate_live \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        common::BIN,
        quoted.join(" "),
        words.len()
    );
    let out = std::process::Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(&program)
        .env("AGENTGATE_ROOT", &d.root)
        .env("AGENTGATE_SOCKET", &d.socket)
        .env("AGENTGATE_CONFIG", d.dir.path().join("no-config.toml"))
        .current_dir(d.dir.path())
        .output()
        .expect("bash");
    assert!(out.status.success(), "bash: {}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_offers_live_ids() {
    let d = Daemon::fast(&["--max-concurrent", "1"]);
    let running = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&running, "running", T);
    let queued = d.submit_shell("true", &[]);
    let done = d.submit_shell("true", &[]);
    d.json(&["queue", "cancel", &done, "--json"]);
    assert_eq!(
        bash_complete(&d, &["queue", "kill", ""]),
        vec![running.clone()]
    );
    let mut cancel = bash_complete(&d, &["queue", "cancel", ""]);
    cancel.sort();
    let mut want = vec![running.clone(), queued.clone()];
    want.sort();
    assert_eq!(cancel, want);
    // What was typed narrows it down; options and subcommands stay static.
    assert_eq!(
        bash_complete(&d, &["queue", "show", &done[..4]]),
        vec![done.clone()]
    );
    assert_eq!(
        bash_complete(&d, &["queue", "kill", "--gr"]),
        vec!["--grace".to_string()]
    );
    assert!(bash_complete(&d, &["queue", "ki"]).contains(&"kill".to_string()));
    assert!(
        bash_complete(&d, &["queue", "kill", "--grace", ""])
            .iter()
            .all(|c| c != &running)
    );
    let restart = bash_complete(&d, &["queue", "restart", ""]);
    assert_eq!(restart, vec![done.clone()]);
}

/// zsh and fish, where installed: the same hook answers them.
#[test]
fn zsh_and_fish_completion_offer_live_ids_where_installed() {
    let d = Daemon::fast(&[]);
    let running = d.submit_shell("sleep 1000", &[]);
    d.wait_status(&running, "running", T);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let env = |c: &mut std::process::Command| {
        c.env("AGENTGATE_ROOT", &d.root)
            .env("AGENTGATE_SOCKET", &d.socket)
            .env("AGENTGATE_CONFIG", d.dir.path().join("no-config.toml"));
    };
    let mut tried = 0;
    if std::process::Command::new("zsh")
        .arg("-fc")
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        tried += 1;
        let program = format!(
            "_describe() {{ local name=${{argv[-1]}}; print -l -- ${{(P)name}} }}\ncompdef() {{ : }}\nsource '{}'\nwords=('{}' queue kill '')\nCURRENT=4\n_agentgate\n",
            dir.join("_agentgate").display(),
            common::BIN
        );
        let mut c = std::process::Command::new("zsh");
        c.arg("-fc").arg(&program);
        env(&mut c);
        let out = c.output().unwrap();
        let text = stdout(&out);
        assert!(
            text.contains(&format!("{running}:running · sleep 1000")),
            "zsh: {text}{}",
            stderr(&out)
        );
    }
    if std::process::Command::new("fish")
        .arg("-c")
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        tried += 1;
        let program = format!(
            "source '{}'; complete -C '{} queue kill '",
            dir.join("agentgate.fish").display(),
            common::BIN
        );
        let mut c = std::process::Command::new("fish");
        c.arg("--no-config").arg("-c").arg(&program);
        env(&mut c);
        let out = c.output().unwrap();
        let text = stdout(&out);
        assert!(
            text.contains(&format!("{running}\trunning · sleep 1000")),
            "fish: {text}{}",
            stderr(&out)
        );
    }
    if tried == 0 {
        eprintln!("SKIPPED: neither zsh nor fish is installed");
    }
}

#[test]
fn by_default_a_free_slot_is_used_at_once() {
    // No --stagger-delay: the default lets each start follow the last at once
    // (a 30 s default made five dependent echoes take two minutes).
    let d = Daemon::start(&["--min-memory", "0", "--http", "off"]);
    let config = d.json(&["queue", "config", "--json"]);
    assert_eq!(config["staggerDelayMs"], 0, "{config}");
    let started = std::time::Instant::now();
    let mut last = d.submit_shell("echo 1", &[]);
    for i in 2..=5 {
        last = d.submit_shell(&format!("echo {i}"), &["--after", &last]);
    }
    let wo = d.wait_terminal(&last, T);
    let took = started.elapsed();
    assert_eq!(wo["status"], "succeeded", "{wo}");
    // Generous for a loaded machine; a stagger of even 5 s would take 20 s.
    assert!(
        took < Duration::from_secs(10),
        "five dependent echoes took {took:?}"
    );
}

/// TAB in a real bash: status and agent values, no hidden subcommands, and
/// an id older than the newest 200 still offered once its prefix is typed.
#[test]
fn bash_completion_offers_values_and_filters_before_the_cut() {
    let d = Daemon::fast(&["--no-auto-process"]);
    let oldest = d.submit_shell("true", &[]);
    for i in 0..205 {
        d.json(&["submit", "--agent", "shell", "--json", &format!("echo {i}")]);
    }
    let prefix = &oldest[..6];
    let offered = bash_complete(&d, &["queue", "show", prefix]);
    assert!(offered.contains(&oldest), "{offered:?}");

    let mut statuses = bash_complete(&d, &["queue", "list", "--status", ""]);
    statuses.sort();
    assert_eq!(
        statuses,
        ["canceled", "failed", "queued", "running", "succeeded"]
    );
    let agents = bash_complete(&d, &["submit", "--agent", ""]);
    assert!(agents.contains(&"shell".to_string()), "{agents:?}");
    assert!(
        agents.contains(&"claude-code-subscription".to_string()),
        "{agents:?}"
    );
    let top = bash_complete(&d, &[""]);
    assert!(top.contains(&"queue".to_string()), "{top:?}");
    assert!(top.iter().all(|c| !c.starts_with("__")), "{top:?}");
}
