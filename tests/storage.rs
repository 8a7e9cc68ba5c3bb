//! Storage robustness and restart recovery through the real daemon binary:
//! quarantine of bad files, temp-file and orphan cleanup, recovery of work left
//! running (live, dead, reused and untracked pids, expired timeouts), AgentGate
//! data compatibility, and failing writes (disk full, read-only filesystem).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agentgate::model::WorkOrder;
use common::{Daemon, FAST, group_alive, pid_alive};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(20);

fn args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut a = FAST.to_vec();
    a.extend_from_slice(extra);
    a
}

fn work_orders_dir(d: &Daemon) -> PathBuf {
    d.root.join("work-orders")
}

fn quarantine_dir(d: &Daemon) -> PathBuf {
    work_orders_dir(d).join(".quarantine")
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).expect("json")).expect("write");
}

fn wo_file(d: &Daemon, id: &str) -> PathBuf {
    work_orders_dir(d).join(format!("{id}.json"))
}

/// Rewrites a stopped daemon's work-order file.
fn edit_wo(d: &Daemon, id: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let path = wo_file(d, id);
    let mut v = read_json(&path);
    f(v.as_object_mut().expect("object"));
    write_json(&path, &v);
}

fn list(d: &Daemon) -> Vec<Value> {
    d.json(&["queue", "list", "--all", "--json"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn listed_ids(d: &Daemon) -> BTreeSet<String> {
    list(d)
        .iter()
        .filter_map(|w| w["id"].as_str().map(str::to_string))
        .collect()
}

/// Waits until every new work order's own file is written (they are durable
/// in the submit journal first, their files follow behind the answer): a
/// test that edits files of a crashed daemon edits what it expects.
fn settle(d: &Daemon) {
    common::wait_for("the journaled work orders' files", T, || {
        (storage(d)["journaled"] == 0).then_some(())
    });
}

fn storage(d: &Daemon) -> Value {
    d.json(&["queue", "health", "--json"])["storage"].clone()
}

/// A minimal valid work order in the on-disk form, for hand-made files.
fn valid_json(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "taskPrompt": "echo hello",
        "status": status,
        "agentType": "shell",
        "workspaceSource": {"type": "local", "path": "/tmp"},
        "createdAt": "2026-01-02T03:04:05.678Z",
    })
}

/// Kills a process group when dropped, so a failing test leaves no agent behind.
struct GroupGuard(i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.0 > 1 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn start_time_of(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = stat.rsplit_once(')').expect("stat format").1;
    // Fields after the comm: state(3) ... starttime(22) => index 22 - 3 = 19.
    rest.split_whitespace()
        .nth(19)
        .and_then(|s| s.parse().ok())
        .expect("starttime")
}

// ---- 1. startup validation: quarantine, temp files ---------------------------------

#[test]
fn bad_files_are_quarantined_and_the_rest_is_served() {
    let mut d = Daemon::start(&args(&[]));
    let good = d.submit_shell("true", &[]);
    let done = d.wait_terminal(&good, T);
    let run_id = done["currentRunId"].as_str().expect("run id").to_string();
    settle(&d);
    d.crash();

    let dir = work_orders_dir(&d);
    let mut no_status = valid_json("nostatus0001", "queued");
    no_status.as_object_mut().unwrap().remove("status");
    let mut no_prompt = valid_json("noprompt0001", "queued");
    no_prompt.as_object_mut().unwrap().remove("taskPrompt");
    let bad: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated001",
            br#"{"id": "truncated001", "taskPrompt": "x", "sta"#.to_vec(),
            "not valid JSON",
        ),
        ("emptyfile001", Vec::new(), "not valid JSON"),
        (
            "garbage00001",
            b"\x00\xffnot json at all".to_vec(),
            "not valid JSON",
        ),
        (
            "nostatus0001",
            serde_json::to_vec(&no_status).unwrap(),
            "missing field `status`",
        ),
        (
            "noprompt0001",
            serde_json::to_vec(&no_prompt).unwrap(),
            "missing field `taskPrompt`",
        ),
        (
            "badstatus001",
            serde_json::to_vec(&valid_json("badstatus001", "done")).unwrap(),
            "unknown variant `done`",
        ),
        (
            "mismatch0001",
            serde_json::to_vec(&valid_json("otherid00001", "queued")).unwrap(),
            "does not match file name",
        ),
        (
            "notobject001",
            b"[1, 2, 3]".to_vec(),
            "not a valid work order",
        ),
    ];
    for (name, bytes, _) in &bad {
        std::fs::write(dir.join(format!("{name}.json")), bytes).unwrap();
    }
    // A valid hand-written file (legacy status, minimal fields) loads.
    write_json(
        &dir.join("handmade0001.json"),
        &valid_json("handmade0001", "integrating"),
    );
    // Temp files of interrupted writes, in every directory the daemon writes.
    let temps = [
        dir.join(format!(".tmp-{good}.json-AbCd1234")),
        d.root.join(".tmp-daemon.json-Zz99Yy88"),
        d.root
            .join("runs")
            .join(&run_id)
            .join(".tmp-run.json-Qq11Ww22"),
    ];
    for t in &temps {
        std::fs::write(t, b"{\"id\": \"half-writ").unwrap();
    }
    // Not a work order: left alone.
    std::fs::write(dir.join("notes.txt"), b"keep me").unwrap();

    d.spawn();

    assert_eq!(
        listed_ids(&d),
        BTreeSet::from([good.clone(), "handmade0001".to_string()])
    );
    // An in-progress legacy status is recovered like `running` at start.
    let handmade = d.show("handmade0001");
    assert_eq!(handmade["status"], "failed", "{handmade}");
    assert_eq!(handmade["result"], "interrupted", "{handmade}");
    for (name, bytes, why) in &bad {
        assert!(
            !dir.join(format!("{name}.json")).exists(),
            "{name} left in place"
        );
        let moved = quarantine_dir(&d).join(format!("{name}.json"));
        assert_eq!(
            &std::fs::read(&moved).expect("quarantined file"),
            bytes,
            "{name}: bytes kept"
        );
        let reason =
            std::fs::read_to_string(quarantine_dir(&d).join(format!("{name}.json.reason")))
                .expect("reason file");
        assert!(
            reason.contains(why),
            "{name}: reason {reason:?} should mention {why:?}"
        );
    }
    for t in &temps {
        assert!(!t.exists(), "temp file {} not removed", t.display());
    }
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"keep me");
    let s = storage(&d);
    assert_eq!(s["quarantined"], bad.len() as u64, "{s}");
    assert_eq!(s["tempFilesRemoved"], 3, "{s}");
    let log = d.log_text();
    assert!(log.contains("quarantining work-order file"), "{log}");
    assert!(log.contains(&format!("quarantined={}", bad.len())), "{log}");

    // The daemon serves normally.
    let next = d.submit_shell("true", &[]);
    assert_eq!(d.wait_terminal(&next, T)["status"], "succeeded");

    // A second bad file of an already quarantined name: both are kept.
    std::fs::write(dir.join("truncated001.json"), b"{ second").unwrap();
    d.stop();
    d.spawn();
    let q = quarantine_dir(&d);
    assert_eq!(
        std::fs::read(q.join("truncated001.json.1")).unwrap(),
        b"{ second"
    );
    assert!(q.join("truncated001.json.1.reason").exists());
    assert_eq!(
        std::fs::read(q.join("truncated001.json")).unwrap(),
        bad[0].1,
        "first quarantined copy untouched"
    );
    assert_eq!(storage(&d)["quarantined"], 1);
    assert_eq!(listed_ids(&d).len(), 3);
}

// ---- 2. orphans ---------------------------------------------------------------------

#[test]
fn orphaned_runs_and_dangling_references_are_cleaned() {
    let mut d = Daemon::start(&args(&[]));
    let a = d.submit_shell("true", &[]);
    let b = d.submit_shell("true", &[]);
    let run_a = d.wait_terminal(&a, T)["currentRunId"]
        .as_str()
        .unwrap()
        .to_string();
    let run_b = d.wait_terminal(&b, T)["currentRunId"]
        .as_str()
        .unwrap()
        .to_string();
    settle(&d);
    d.crash();
    let runs = d.root.join("runs");

    // a's run is gone: a keeps living without the reference.
    std::fs::remove_dir_all(runs.join(&run_a)).unwrap();
    // b's work order is gone: its run is an orphan.
    std::fs::remove_file(wo_file(&d, &b)).unwrap();
    // A run of a work order that is being quarantined: kept for repair.
    std::fs::write(
        wo_file(&d, "broken000001"),
        b"{\"id\": \"broken000001\", \"runId\": \"runOfBroken1\"",
    )
    .unwrap();
    std::fs::create_dir(runs.join("runOfBroken1")).unwrap();
    std::fs::write(runs.join("runOfBroken1").join("stdout.log"), b"output").unwrap();
    // A run directory with no record at all and no work order: an orphan.
    std::fs::create_dir(runs.join("strayRun0001")).unwrap();
    // Something that is not a run directory: not ours to remove.
    std::fs::write(runs.join("README"), b"x").unwrap();

    d.spawn();

    let s = storage(&d);
    assert_eq!(s["quarantined"], 1, "{s}");
    assert_eq!(s["orphanRunsRemoved"], 2, "{s}");
    assert_eq!(s["danglingRunRefs"], 1, "{s}");
    assert!(
        !runs.join(&run_b).exists(),
        "orphaned run of a deleted work order kept"
    );
    assert!(!runs.join("strayRun0001").exists());
    assert!(
        runs.join("runOfBroken1").join("stdout.log").exists(),
        "run of a quarantined work order removed"
    );
    assert!(runs.join("README").exists());

    let shown = d.show(&a);
    assert_eq!(shown["status"], "succeeded");
    assert!(
        shown.get("currentRunId").is_none_or(Value::is_null),
        "{shown}"
    );
    assert_eq!(shown["runs"], json!([]));
    let on_disk = read_json(&wo_file(&d, &a));
    assert!(on_disk.get("currentRunId").is_none(), "{on_disk}");
    assert!(on_disk.get("runIds").is_none(), "{on_disk}");
    assert_eq!(listed_ids(&d), BTreeSet::from([a.clone()]));

    let log = d.log_text();
    assert!(log.contains("orphan_runs_removed=2"), "{log}");
    assert!(log.contains("dangling_run_refs=1"), "{log}");

    // Clean now: a second start finds nothing to do.
    d.stop();
    d.spawn();
    let s = storage(&d);
    assert_eq!(
        (s["orphanRunsRemoved"].clone(), s["danglingRunRefs"].clone()),
        (json!(0), json!(0))
    );
}

// ---- 3. restart recovery --------------------------------------------------------------

/// What an agentgate without supervisors left behind when it crashed: a work
/// order `running`, its run record without an executor handle, and its agent
/// alive in a process group of its own with the root's heartbeat path in its
/// environment (that version's agents were the daemon's children and could
/// not be adopted). Returns the work order id and the agent (a child of the
/// test); the daemon is stopped.
fn legacy_running(d: &mut Daemon) -> (String, Child) {
    legacy_runs(d, 1).remove(0)
}

/// `n` of them (see `legacy_running`).
fn legacy_runs(d: &mut Daemon, n: usize) -> Vec<(String, Child)> {
    let ids: Vec<String> = (0..n).map(|_| d.submit_shell("sleep 1000", &[])).collect();
    for id in &ids {
        assert_eq!(d.status(id), "queued");
    }
    settle(d);
    d.crash();
    ids.into_iter()
        .map(|id| fabricate_legacy_run(d, id))
        .collect()
}

fn fabricate_legacy_run(d: &Daemon, id: String) -> (String, Child) {
    use std::os::unix::process::CommandExt;
    let run_id = format!("legacy{}", &id[..6]);
    let run_dir = d.root.join("runs").join(&run_id);
    std::fs::create_dir_all(&run_dir).expect("run dir");
    let agent = Command::new("sleep")
        .arg("1000")
        .process_group(0)
        .env("AGENTGATE_HEARTBEAT_FILE", run_dir.join("heartbeat"))
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn agent");
    let pid = agent.id() as i32;
    let start = start_time_of(pid);
    let now = chrono::Utc::now();
    let ts =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    write_json(
        &run_dir.join("run.json"),
        &json!({"id": run_id, "workOrderId": id, "status": "running",
            "startedAt": ts(now), "pid": pid, "pidStartTime": start}),
    );
    edit_wo(d, &id, |m| {
        m.insert("status".into(), json!("running"));
        m.insert("startedAt".into(), json!(ts(now)));
        m.insert(
            "timeoutAt".into(),
            json!(ts(now + chrono::Duration::seconds(3600))),
        );
        m.insert("pid".into(), json!(pid));
        m.insert("pidStartTime".into(), json!(start));
        m.insert("runCount".into(), json!(1));
        m.insert("currentRunId".into(), json!(run_id));
        m.insert("runIds".into(), json!([run_id]));
    });
    (id, agent)
}

fn legacy_args() -> Vec<&'static str> {
    args(&["--grace-period", "2s", "--no-auto-process"])
}

#[test]
fn live_agent_of_an_older_version_is_stopped_and_failed_interrupted() {
    let mut d = Daemon::start(&legacy_args());
    let (id, mut agent) = legacy_running(&mut d);
    let pid = agent.id() as i32;
    let _guard = GroupGuard(pid);
    assert!(!group_alive(pid).is_empty());

    d.spawn();
    let v = d.show(&id);
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["result"], "interrupted", "{v}");
    assert!(v["error"].as_str().unwrap_or("").contains("stopped"), "{v}");
    assert!(
        group_alive(pid).is_empty(),
        "agent group still alive after recovery"
    );
    // The run record agrees.
    assert_eq!(v["runs"][0]["status"], "failed", "{v}");
    assert_eq!(v["runs"][0]["result"], "interrupted", "{v}");
    let _ = agent.wait();
}

#[test]
fn reused_pid_is_never_signalled() {
    let mut d = Daemon::start(&legacy_args());
    let (id, mut agent) = legacy_running(&mut d);
    let agent_pid = agent.id() as i32;
    let _agent_guard = GroupGuard(agent_pid);
    // The agent dies while no daemon watches...
    let _ = agent.kill();
    let _ = agent.wait();
    // ...and an unrelated process now has the recorded pid (simulated: the file
    // names a live process with a different start time).
    let mut other: Child = {
        use std::os::unix::process::CommandExt;
        Command::new("sleep")
            .arg("1000")
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sleep")
    };
    let other_pid = other.id() as i32;
    let _other_guard = GroupGuard(other_pid);
    let real_start = start_time_of(other_pid);
    edit_wo(&d, &id, |m| {
        m.insert("pid".into(), json!(other_pid));
        m.insert("pidStartTime".into(), json!(real_start + 12_345));
    });

    d.spawn();
    let v = d.show(&id);
    assert_eq!(
        (v["status"].clone(), v["result"].clone()),
        (json!("failed"), json!("interrupted")),
        "{v}"
    );
    assert!(
        v["error"].as_str().unwrap_or("").contains("already gone"),
        "{v}"
    );
    assert!(
        pid_alive(other_pid),
        "an unrelated process with a reused pid was signalled"
    );
    assert_eq!(other.try_wait().expect("try_wait"), None);
    let _ = other.kill();
    let _ = other.wait();
}

#[test]
fn agent_whose_pid_was_never_persisted_is_found_and_stopped() {
    // A crash between spawning the agent and writing its pid: the file says
    // `running` with no pid, yet the agent lives. Recovery finds it by the
    // environment every agent of this root carries, and stops its group.
    let mut d = Daemon::start(&legacy_args());
    let (id, mut agent) = legacy_running(&mut d);
    let pid = agent.id() as i32;
    let _guard = GroupGuard(pid);
    edit_wo(&d, &id, |m| {
        m.remove("pid");
        m.remove("pidStartTime");
    });

    d.spawn();
    let v = d.show(&id);
    assert_eq!(
        (v["status"].clone(), v["result"].clone()),
        (json!("failed"), json!("interrupted")),
        "{v}"
    );
    assert!(group_alive(pid).is_empty(), "untracked agent left running");
    assert!(d.log_text().contains("did not track"), "{}", d.log_text());
    let _ = agent.wait();
}

#[test]
fn persisted_timeout_of_an_older_version_is_honoured() {
    let mut d = Daemon::start(&legacy_args());
    let mut runs = legacy_runs(&mut d, 2);
    let (pending, mut agent_b) = runs.pop().unwrap();
    let (expired, mut agent_a) = runs.pop().unwrap();
    let (pid_a, pid_b) = (agent_a.id() as i32, agent_b.id() as i32);
    let _ga = GroupGuard(pid_a);
    let _gb = GroupGuard(pid_b);
    // While the daemon was down, `expired`'s deadline passed; `pending`'s did not.
    let past = chrono::Utc::now() - chrono::Duration::seconds(30);
    edit_wo(&d, &expired, |m| {
        m.insert(
            "timeoutAt".into(),
            json!(past.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
    });

    d.spawn();
    let a = d.show(&expired);
    assert_eq!(
        (a["status"].clone(), a["result"].clone()),
        (json!("failed"), json!("timeout")),
        "{a}"
    );
    assert_eq!(a["error"], "timed out after 3600s", "{a}");
    let b = d.show(&pending);
    assert_eq!(
        (b["status"].clone(), b["result"].clone()),
        (json!("failed"), json!("interrupted")),
        "{b}"
    );
    assert!(group_alive(pid_a).is_empty() && group_alive(pid_b).is_empty());
    let _ = agent_a.wait();
    let _ = agent_b.wait();
}

// ---- 5. AgentGate compatibility -------------------------------------------------------

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agentgate-root")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn fixture_orders() -> BTreeMap<String, (Vec<u8>, Value)> {
    std::fs::read_dir(fixture_root().join("work-orders"))
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string();
            let bytes = std::fs::read(e.path()).unwrap();
            let v = serde_json::from_slice(&bytes).unwrap();
            (name, (bytes, v))
        })
        .collect()
}

/// Every field of `orig` is in `now` with the same value, except `changed`.
fn assert_fields_kept(id: &str, orig: &Value, now: &Value, changed: &[&str]) {
    for (k, v) in orig.as_object().unwrap() {
        if changed.contains(&k.as_str()) {
            continue;
        }
        assert_eq!(
            now.get(k),
            Some(v),
            "{id}: field {k} lost or changed\nnow: {now}"
        );
    }
}

#[test]
fn agentgate_files_round_trip_through_the_model() {
    for (id, (bytes, orig)) in fixture_orders() {
        let (wo, extra) =
            WorkOrder::from_json_slice(&bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(wo.id, id);
        let out: Value = serde_json::from_slice(&wo.to_json_pretty_with(&extra)).unwrap();
        assert_fields_kept(&id, &orig, &out, &[]);
        let (again, extra2) = WorkOrder::from_json_value(out).unwrap();
        assert_eq!(again, wo, "{id}");
        assert_eq!(extra2, extra, "{id}");
    }
}

#[test]
fn agentgate_root_loads_lists_and_rewrites_without_losing_fields() {
    let mut d = Daemon::start(&args(&["--no-auto-process"]));
    settle(&d);
    d.crash();
    copy_tree(&fixture_root(), &d.root);
    let fixtures = fixture_orders();
    d.spawn();

    let s = storage(&d);
    assert_eq!(s["quarantined"], 0, "{s}\n{}", d.log_text());
    assert_eq!(s["danglingRunRefs"], 0, "{s}");
    assert_eq!(s["orphanRunsRemoved"], 0, "{s}");
    assert!(!quarantine_dir(&d).exists());

    // Listing: all of them, newest first, with their statuses and sources.
    let items = list(&d);
    let ids: Vec<&str> = items.iter().filter_map(|w| w["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "agFreshChild0002",
            "agFreshChild0001",
            "agGithubNewRoot1",
            "agLocalQueued0001",
            "agGithubFailed01",
            "agGitSucceeded01",
            "agCanceled000001",
        ]
    );
    let by_id: BTreeMap<&str, &Value> = items
        .iter()
        .map(|w| (w["id"].as_str().unwrap(), w))
        .collect();
    let expect_status = [
        ("agLocalQueued0001", "queued"),
        ("agGitSucceeded01", "succeeded"),
        ("agGithubFailed01", "failed"),
        // were `waiting_for_children`, `integrating` and `running` under
        // AgentGate: in progress with no process left, recovered at startup
        ("agGithubNewRoot1", "failed"),
        ("agFreshChild0001", "failed"),
        ("agFreshChild0002", "failed"),
        ("agCanceled000001", "canceled"),
    ];
    for (id, status) in expect_status {
        // Legacy running-like statuses are kept, and shown as `running` (the
        // five AgentGate's clients can render) with the stored one beside.
        if matches!(status, "waiting_for_children" | "integrating") {
            assert_eq!(by_id[id]["status"], "running", "{id}");
            assert_eq!(by_id[id]["legacyStatus"], status, "{id}");
        } else {
            assert_eq!(by_id[id]["status"], status, "{id}");
            assert!(by_id[id].get("legacyStatus").is_none(), "{id}");
        }
        // GitHub sources read back as AgentGate's API shows them:
        // `repo: "owner/repo"`, whatever form the file has.
        let mut source = fixtures[id].1["workspaceSource"].clone();
        if source["type"] == "github"
            && let Some(owner) = source.as_object_mut().and_then(|o| o.remove("owner"))
        {
            let repo = format!(
                "{}/{}",
                owner.as_str().unwrap(),
                source["repo"].as_str().unwrap()
            );
            source["repo"] = repo.into();
        }
        assert_eq!(by_id[id]["workspaceSource"], source, "{id}");
        assert_eq!(
            by_id[id]["taskPrompt"], fixtures[id].1["taskPrompt"],
            "{id}"
        );
    }
    assert_eq!(by_id["agGitSucceeded01"]["maxTime"], 7200);
    for id in ["agFreshChild0002", "agGithubNewRoot1", "agFreshChild0001"] {
        assert_eq!(by_id[id]["result"], "interrupted", "{id}");
    }
    let status_filter = d.json(&["queue", "list", "--status", "failed", "--json"]);
    assert_eq!(status_filter["total"], 4, "{status_filter}");

    // Runs: AgentGate records are shown, older runs of existing work orders kept.
    let shown = d.show("agGitSucceeded01");
    assert_eq!(shown["currentRunId"], "agRunGitSucc0001");
    assert_eq!(shown["runs"][0]["status"], "succeeded", "{shown}");
    assert!(d.root.join("runs/agRunGitOld00001/run.json").exists());

    // Rewrites: cancel one; three were rewritten by recovery.
    d.json(&["queue", "cancel", "agLocalQueued0001", "--json"]);
    for (id, (bytes, orig)) in &fixtures {
        let path = wo_file(&d, id);
        let now_bytes = std::fs::read(&path).unwrap();
        match id.as_str() {
            "agLocalQueued0001" | "agGithubNewRoot1" | "agFreshChild0001" | "agFreshChild0002" => {
                let now: Value = serde_json::from_slice(&now_bytes).unwrap();
                assert_fields_kept(id, orig, &now, &["status", "completedAt", "error"]);
                assert_ne!(now["status"], orig["status"], "{id}");
            }
            // Never touched: byte for byte what AgentGate wrote.
            _ => assert_eq!(&now_bytes, bytes, "{id} was rewritten"),
        }
    }
    // The recovered AgentGate run record keeps its own fields too.
    let run = read_json(&d.root.join("runs/agRunRunning0001/run.json"));
    assert_eq!(run["status"], "failed");
    assert_eq!(run["result"], "interrupted");
    assert_eq!(
        run["snapshotBeforeSha"],
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    );
    assert_eq!(run["maxCiIterations"], 3);
    assert!(d.root.join("runs/agRunRunning0001/agent-logs.txt").exists());
    // AgentGate's other files are not ours.
    for f in [
        "workspaces/ws-agGitSucceeded01.json",
        "trees/agGithubNewRoot1.json",
    ] {
        assert_eq!(
            std::fs::read(d.root.join(f)).unwrap(),
            std::fs::read(fixture_root().join(f)).unwrap(),
            "{f}"
        );
    }

    // And the rewritten root loads cleanly again.
    d.stop();
    d.spawn();
    assert_eq!(storage(&d)["quarantined"], 0);
    assert_eq!(d.status("agLocalQueued0001"), "canceled");
    assert_eq!(d.status("agGithubNewRoot1"), "failed");
    assert_eq!(list(&d).len(), fixtures.len());
}

// ---- 6. failing writes ------------------------------------------------------------------

/// A small tmpfs, unmounted (lazily, so a stuck file cannot keep it) on drop.
struct Tmpfs {
    dir: Option<tempfile::TempDir>,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir: Some(dir) })
    }

    fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new("/nonexistent"))
    }
}

/// `dir` made read-only by a read-only bind mount over itself; undone on drop.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn bind(dir: &Path) -> ReadOnly {
        let mount = |args: &[&str]| {
            let st = Command::new("mount")
                .args(args)
                .arg(dir)
                .arg(dir)
                .status()
                .expect("mount");
            assert!(st.success(), "mount {args:?}");
        };
        mount(&["--bind"]);
        let guard = ReadOnly(dir.to_path_buf());
        let st = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(st.success(), "remount read-only");
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = Command::new("umount").arg("-l").arg(dir.path()).status();
            drop(dir);
        }
    }
}

/// Fills the filesystem at `dir` until a write fails with ENOSPC.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 4096];
    loop {
        match f.write_all(&chunk) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc_enospc()) => break,
            Err(e) => panic!("filling: {e}"),
        }
    }
    let _ = f.sync_all();
    path
}

fn libc_enospc() -> i32 {
    nix::errno::Errno::ENOSPC as i32
}

#[test]
fn failed_writes_fail_the_request_and_leave_memory_unchanged() {
    let fs = match Tmpfs::mount("2m") {
        Ok(fs) => fs,
        Err(why) => {
            println!("SKIPPED failed_writes_fail_the_request_and_leave_memory_unchanged: {why}");
            return;
        }
    };
    // The daemon's root lives on the small filesystem; its socket and log do not.
    let home = tempfile::tempdir().expect("tempdir");
    let mut d = Daemon {
        root: fs.path().join("root"),
        socket: home.path().join("run").join("agentgate.sock"),
        log: home.path().join("daemon.log"),
        dir: home,
        child: None,
        args: args(&["--no-auto-process"])
            .iter()
            .map(|s| s.to_string())
            .collect(),
        env: Vec::new(),
        nofile: None,
    };
    d.spawn();
    let queued = d.submit_shell("true", &[]);
    let before = listed_ids(&d);

    // Disk full.
    let filler = fill(fs.path());
    let out = d.run(&["submit", "--agent", "shell", "--json", "echo never"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "submit on a full disk: {stderr}"
    );
    assert!(
        stderr.contains("No space left on device"),
        "unclear error: {stderr}"
    );
    assert!(
        stderr.contains("work-orders"),
        "error should name the file: {stderr}"
    );
    let out = d.run(&["queue", "cancel", &queued, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = d.run(&["queue", "start", &queued]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(d.root.join("runs")).unwrap().count(),
        0,
        "a failed start left a run directory"
    );
    // Memory unchanged, daemon serving.
    assert_eq!(listed_ids(&d), before);
    assert_eq!(d.status(&queued), "queued");
    assert!(d.child.as_mut().unwrap().try_wait().unwrap().is_none());
    let leftovers: Vec<_> = std::fs::read_dir(d.root.join("work-orders"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // Space again: requests work.
    std::fs::remove_file(&filler).unwrap();
    let later = d.submit_shell("true", &[]);
    d.json(&["queue", "cancel", &queued, "--json"]);
    assert_eq!(d.status(&queued), "canceled");

    // Read-only filesystem (the "cannot write" case root cannot get from modes).
    let ro = ReadOnly::bind(&d.root.join("work-orders"));
    let out = d.run(&["submit", "--agent", "shell", "--json", "echo never"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Read-only file system"),
        "unclear error: {stderr}"
    );
    let out = d.run(&["queue", "cancel", &later, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(d.status(&later), "queued");
    drop(ro);
    d.json(&["queue", "cancel", &later, "--json"]);
    let after = listed_ids(&d);
    assert_eq!(after.len(), 2, "{after:?}");

    // What was acknowledged is on disk.
    d.stop();
    d.spawn();
    assert_eq!(listed_ids(&d), after);
    assert_eq!(d.status(&later), "canceled");
    drop(d);
}

/// A daemon whose root is on `fs`; its socket and log elsewhere.
fn daemon_on(fs: &Tmpfs, extra: &[&'static str]) -> Daemon {
    let home = tempfile::tempdir().expect("tempdir");
    let mut d = Daemon {
        root: fs.path().join("root"),
        socket: home.path().join("run").join("agentgate.sock"),
        log: home.path().join("daemon.log"),
        dir: home,
        child: None,
        args: args(extra).iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        nofile: None,
    };
    d.spawn();
    d
}

fn status_on_disk(d: &Daemon, id: &str) -> String {
    let v: Value = std::fs::read(wo_file(d, id))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    v["status"].as_str().unwrap_or("").to_string()
}

/// Submits an agent that exits 0 once `go` exists; returns its id, running.
fn waiting_agent(d: &Daemon, go: &Path) -> String {
    let script = format!(
        "while [ ! -e {} ]; do sleep 0.02; done; exit 0",
        go.display()
    );
    let id = d.submit_shell(&script, &[]);
    // Its start recorded (pid and all), so nothing else is left to write.
    common::wait_for("the agent's start on disk", T, || {
        let v: Value = serde_json::from_slice(&std::fs::read(wo_file(d, &id)).ok()?).ok()?;
        v["pid"].is_u64().then_some(())
    });
    id
}

#[test]
fn an_exit_on_a_full_disk_is_kept_pending_and_written_once_space_is_back() {
    let fs = match Tmpfs::mount("2m") {
        Ok(fs) => fs,
        Err(why) => {
            println!("SKIPPED an_exit_on_a_full_disk_is_kept_pending: {why}");
            return;
        }
    };
    let mut d = daemon_on(&fs, &[]);
    let go = d.dir.path().join("go");
    let id = waiting_agent(&d, &go);

    // The agent exits 0 while the disk is full.
    let filler = fill(fs.path());
    std::fs::write(&go, "").expect("go");
    let health = common::wait_for("the exit, pending", T, || {
        let h = d.json(&["queue", "health", "--json"]);
        (h["counts"]["succeeded"] == 1).then_some(h)
    });
    assert_eq!(health["unpersisted"], 1, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["alerts"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["kind"] == "unpersisted")),
        "{health}"
    );
    // The supervisor could not write exit.json either, and told the daemon.
    assert!(
        d.log_text().contains("cannot record it yet"),
        "{}",
        d.log_text()
    );
    // Served from memory as it happened; the file still says running.
    assert_eq!(d.status(&id), "succeeded");
    assert_eq!(status_on_disk(&d, &id), "running");

    // Space again: the file catches up within a tick, no restart.
    std::fs::remove_file(&filler).expect("free");
    common::wait_for("the pending exit on disk", Duration::from_secs(3), || {
        (status_on_disk(&d, &id) == "succeeded").then_some(())
    });
    let h = d.json(&["queue", "health", "--json"]);
    assert_eq!(h["unpersisted"], 0, "{h}");
    let wo = read_json(&wo_file(&d, &id));
    assert_eq!(wo["exitCode"], 0, "{wo}");
    let run = wo["currentRunId"].as_str().expect("run").to_string();
    // The supervisor wrote its exit file too, and the run record caught up.
    common::wait_for("exit.json and run.json", T, || {
        let r = read_json(&d.root.join("runs").join(&run).join("run.json"));
        (d.root.join("runs").join(&run).join("exit.json").exists() && r["status"] == "succeeded")
            .then_some(())
    });

    // Again, but the daemon is killed (-9) while the exit is pending.
    let go2 = d.dir.path().join("go2");
    let id2 = waiting_agent(&d, &go2);
    let filler = fill(fs.path());
    std::fs::write(&go2, "").expect("go");
    common::wait_for("the second exit, pending", T, || {
        let h = d.json(&["queue", "health", "--json"]);
        (h["counts"]["succeeded"] == 2 && h["unpersisted"] == 1).then_some(())
    });
    settle(&d);
    d.crash();
    assert_eq!(status_on_disk(&d, &id2), "running");
    std::fs::remove_file(&filler).expect("free");
    d.spawn();
    let wo = d.wait_status(&id2, "succeeded", T);
    assert_eq!(wo["exitCode"], 0, "{wo}");
    assert_eq!(wo["result"], "exited", "{wo}");
    assert_eq!(status_on_disk(&d, &id2), "succeeded");

    // A cancel whose result cannot be written says so in its reply.
    let go3 = d.dir.path().join("go3");
    let id3 = waiting_agent(&d, &go3);
    let filler = fill(fs.path());
    let out = d.run(&["queue", "cancel", &id3, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(reply["status"], "canceled", "{reply}");
    assert_eq!(reply["durable"], false, "{reply}");
    assert!(
        reply["warning"]
            .as_str()
            .is_some_and(|w| w.contains("not saved")),
        "{reply}"
    );
    std::fs::remove_file(&filler).expect("free");
    common::wait_for("the cancel on disk", Duration::from_secs(3), || {
        (status_on_disk(&d, &id3) == "canceled").then_some(())
    });
    drop(d);
}

#[test]
fn out_of_range_numbers_of_older_data_are_clamped_and_logged() {
    let mut d = Daemon::unstarted(&args(&[]));
    std::fs::create_dir_all(work_orders_dir(&d)).expect("mkdir");
    let mut v = valid_json("hugeMaxTime01", "queued");
    v["taskPrompt"] = json!("sleep 0.2; echo ran");
    v["maxTime"] = json!(1e30);
    v["maxIterations"] = json!(-4);
    v["runCount"] = json!(99_999_999_999u64);
    write_json(&wo_file(&d, "hugeMaxTime01"), &v);
    let mut w = valid_json("badPidSignal1", "failed");
    w["pid"] = json!(5_000_000_000u64);
    w["pidStartTime"] = json!(12);
    w["signal"] = json!(999);
    w["exitCode"] = json!(1.5);
    write_json(&wo_file(&d, "badPidSignal1"), &w);
    d.spawn();

    // Loaded (not quarantined), with their numbers in range.
    assert_eq!(storage(&d)["quarantined"], 0);
    assert_eq!(storage(&d)["clamped"], 2);
    assert!(
        d.log_text().contains("numbers out of range")
            && d.log_text().contains("now 604800")
            && d.log_text().contains("signal 999"),
        "{}",
        d.log_text()
    );
    let bad = d.show("badPidSignal1");
    assert!(bad["pid"].is_null() && bad["signal"].is_null() && bad["exitCode"].is_null());
    // The file now says what the daemon uses.
    let on_disk = read_json(&wo_file(&d, "badPidSignal1"));
    assert!(
        on_disk.get("pid").is_none() && on_disk.get("signal").is_none(),
        "{on_disk}"
    );
    // A maxTime of 1e30 once overflowed and timed the run out at once.
    let wo = d.wait_status("hugeMaxTime01", "succeeded", T);
    assert_eq!(wo["maxTime"], 604_800, "{wo}");
    assert_eq!(wo["maxIterations"], 3, "{wo}");
    // Clamped to u32::MAX, and counting on saturates instead of wrapping.
    assert_eq!(wo["runCount"], u32::MAX, "{wo}");
    assert_eq!(d.read_log_of(&wo).trim(), "ran");

    // Rewritten clean: nothing to clamp at the next start.
    d.stop();
    d.spawn();
    assert_eq!(storage(&d)["clamped"], 0);
}
