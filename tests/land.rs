//! Reviewing and landing a worktree's work through the real binary, on real
//! repositories in temp dirs: `queue diff` (commits, uncommitted and
//! untracked changes; HTTP text and JSON), `queue merge` (a branch checked
//! out nowhere: the user's tree untouched; the checked-out clean branch;
//! refused on a dirty tree touching the same file and on a conflict, with
//! every ref and `git status` unchanged; squash; a second merge after `queue
//! continue`), `queue discard`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::web::{http_addr, request};
use common::{Daemon, code, stderr, stdout};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

/// Who commits, for the agents and for the test's own git.
const IDENTITY: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "agent"),
    ("GIT_AUTHOR_EMAIL", "agent@example.com"),
    ("GIT_COMMITTER_NAME", "agent"),
    ("GIT_COMMITTER_EMAIL", "agent@example.com"),
];

/// An agent type that announces a session (so it can be continued) and runs
/// its prompt as a shell command.
const CONFIG: &str = r#"[agents.sh-session]
command = ["sh", "-c", "echo '{\"type\":\"thread.started\",\"thread_id\":\"t-1\"}'; eval \"$1\"", "sh", "{prompt}"]
resume_command = ["sh", "-c", "echo '{\"type\":\"thread.started\",\"thread_id\":\"$1\"}'; eval \"$2\"", "sh", "{session_id}", "{prompt}"]
output = "codex-json"

[agents.with-setup]
command = ["sh", "-c", "{prompt}"]
setup = "echo from-type > from-type.txt"
"#;

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// A repository with one commit on `main`: `a.txt` and `b.txt`.
    fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.write("a.txt", "one\ntwo\nthree\n");
        r.write("b.txt", "bee\n");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-qm", "init"]);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_default()
    }

    fn git(&self, args: &[&str]) -> String {
        let o = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .envs(IDENTITY)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// Every ref and the status: what a refused merge must leave as it was.
    fn state(&self) -> String {
        self.git(&["for-each-ref", "--format=%(refname) %(objectname)"])
            + &self.git(&["status", "--porcelain", "--untracked-files=all"])
            + &self.git(&["rev-parse", "HEAD"])
    }
}

fn daemon() -> (Daemon, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let cfg = config.display().to_string();
    let d = Daemon::with_http(&["--max-concurrent", "4", "--config", &cfg], &IDENTITY);
    (d, dir)
}

/// A worktree work order running `script` in the repository; waits for it.
fn agent(d: &Daemon, repo: &Repo, script: &str) -> String {
    let path = repo.path().display().to_string();
    let id = d.json(&[
        "submit",
        "--json",
        "--agent",
        "sh-session",
        "--path",
        &path,
        "--worktree",
        script,
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    id
}

fn worktree(d: &Daemon, id: &str) -> PathBuf {
    PathBuf::from(d.show(id)["worktree"]["path"].as_str().unwrap())
}

#[test]
fn diff_shows_commits_uncommitted_and_untracked_work() {
    let (d, _c) = daemon();
    let repo = Repo::new();
    let id = agent(
        &d,
        &repo,
        "echo four >> a.txt && git commit -qam 'a: four' && echo BEE > b.txt && echo new > c.txt",
    );
    let before = repo.state();
    let o = d.run(&["queue", "diff", &id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("+four"), "{text}");
    assert!(text.contains("-bee\n+BEE"), "{text}");
    assert!(text.contains("+++ b/c.txt"), "{text}");
    assert!(!text.contains("\x1b["), "plain when piped: {text}");
    let names = stdout(&d.run(&["queue", "diff", &id, "--name-only"]));
    assert_eq!(names, "a.txt\nb.txt\nc.txt\n");
    let stat = stdout(&d.run(&["queue", "diff", &id, "--stat"]));
    assert!(stat.contains("3 files changed"), "{stat}");
    let colored = stdout(&d.run(&["queue", "diff", &id, "--color", "always"]));
    assert!(colored.contains("\x1b["), "{colored}");
    let json = d.json(&["queue", "diff", &id, "--json"]);
    assert_eq!(json["insertions"], 3, "{json}");
    assert_eq!(json["deletions"], 1, "{json}");
    assert_eq!(json["files"][2]["path"], "c.txt");
    // Looking changed nothing: the agent's files are still uncommitted.
    assert_eq!(repo.state(), before);
    let wt = worktree(&d, &id);
    let st = Command::new("git")
        .arg("-C")
        .arg(&wt)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(stdout(&st), " M b.txt\n?? c.txt\n");

    // HTTP: the text, and the files as JSON.
    let addr = http_addr(&d);
    let key = d.api_key();
    let r = request(
        &addr,
        "GET",
        &format!("/api/v1/work-orders/{id}/diff"),
        &[("X-API-Key", &key)],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.text, text);
    let r = request(
        &addr,
        "GET",
        &format!("/api/v1/work-orders/{id}/diff?stat=true"),
        &[("X-API-Key", &key)],
        None,
    );
    assert_eq!(r.json()["data"], json);

    // No worktree: a clear refusal.
    let plain = d.submit_shell("true", &[]);
    d.wait_terminal(&plain, T);
    let o = d.run(&["queue", "diff", &plain]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("has no worktree"), "{}", stderr(&o));
    let r = request(
        &addr,
        "GET",
        "/api/v1/work-orders/nope/diff",
        &[("X-API-Key", &key)],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text);
}

#[test]
fn merge_lands_work_without_touching_what_it_must_not() {
    let (d, _c) = daemon();
    let repo = Repo::new();
    let id = agent(
        &d,
        &repo,
        "echo four >> a.txt && git commit -qam 'a: four' && echo new > c.txt",
    );
    // main checked out nowhere: only its ref moves; the user's tree stays
    // byte for byte.
    repo.git(&["checkout", "-q", "-b", "elsewhere"]);
    let files = (
        repo.read("a.txt"),
        repo.read("b.txt"),
        repo.git(&["status", "--porcelain"]),
    );
    let o = d.run(&["queue", "merge", &id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!("merged {id} into main as a fast-forward")),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        (
            repo.read("a.txt"),
            repo.read("b.txt"),
            repo.git(&["status", "--porcelain"])
        ),
        files
    );
    assert_eq!(repo.git(&["show", "main:a.txt"]), "one\ntwo\nthree\nfour\n");
    assert_eq!(
        repo.git(&["show", "main:c.txt"]),
        "new\n",
        "uncommitted work is landed too"
    );
    let wo = d.show(&id);
    let merges = &wo["merges"];
    assert_eq!(merges, &wo["worktree"]["merges"]);
    assert_eq!(merges.as_array().unwrap().len(), 1, "{wo}");
    assert_eq!(merges[0]["into"], "main");
    assert_eq!(merges[0]["commit"], repo.git(&["rev-parse", "main"]).trim());
    // Merging again with nothing new is refused, changing nothing.
    let before = repo.state();
    let o = d.run(&["queue", "merge", &id]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("nothing to merge"), "{}", stderr(&o));
    assert_eq!(repo.state(), before);

    // Into the checked-out clean branch: the checkout follows (a merge
    // commit: main moved meanwhile).
    repo.git(&["checkout", "-q", "main"]);
    let id2 = agent(&d, &repo, "echo bee2 >> b.txt && git commit -qam 'b: bee2'");
    repo.write("d.txt", "mine\n");
    repo.git(&["add", "d.txt"]);
    repo.git(&["commit", "-qm", "user: d"]);
    let o = d.run(&["queue", "merge", &id2, "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(out["merge"]["into"], "main");
    assert_eq!(repo.read("b.txt"), "bee\nbee2\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3,
        "a merge commit"
    );

    // A dirty tree touching a file the merge changes: refused, named.
    let id3 = agent(&d, &repo, "echo five >> a.txt && git commit -qam 'a: five'");
    repo.write("a.txt", "my own edit\n");
    let before = repo.state();
    let o = d.run(&["queue", "merge", &id3]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("uncommitted changes to files this merge changes: a.txt"),
        "{}",
        stderr(&o)
    );
    assert_eq!(repo.state(), before);
    assert_eq!(repo.read("a.txt"), "my own edit\n");
    repo.git(&["checkout", "a.txt"]);

    // A conflict: refused listing the file, nothing changed anywhere.
    let id4 = agent(&d, &repo, "sed -i 1s/one/uno/ a.txt");
    repo.write("a.txt", "ONE\ntwo\nthree\nfour\nbee\n");
    repo.git(&["commit", "-qam", "user: ONE"]);
    let wt4 = worktree(&d, &id4);
    let wt_before = std::fs::read_to_string(wt4.join("a.txt")).unwrap();
    let before = repo.state();
    let o = d.run(&["queue", "merge", &id4]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let e = stderr(&o);
    assert!(
        e.contains("conflicts in a.txt") && e.contains("queue continue"),
        "{e}"
    );
    assert_eq!(repo.state(), before);
    assert!(!repo.read("a.txt").contains("<<<<<<<"));
    assert_eq!(
        std::fs::read_to_string(wt4.join("a.txt")).unwrap(),
        wt_before
    );
    assert_eq!(d.show(&id4)["worktree"]["merges"], Value::Array(vec![]));

    // HTTP: the same refusal, as a 409.
    let addr = http_addr(&d);
    let key = d.api_key();
    let r = request(
        &addr,
        "POST",
        &format!("/api/v1/work-orders/{id4}/merge"),
        &[("X-API-Key", &key), ("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("conflicts in a.txt"), "{}", r.text);
    let r = request(
        &addr,
        "POST",
        &format!("/api/v1/work-orders/{id4}/merge"),
        &[("X-API-Key", &key), ("Content-Type", "application/json")],
        Some(br#"{"sqash": true}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text);
}

#[test]
fn squash_then_continue_and_merge_again_then_discard() {
    let (d, _c) = daemon();
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.git(&["checkout", "-q", "main"]);
    let id = agent(
        &d,
        &repo,
        "echo 1 > n.txt && git add n.txt && git commit -qm one && echo 2 >> n.txt && git commit -qam two",
    );
    // Unmerged work is not discarded without --force.
    let o = d.run(&["queue", "discard", &id, "--yes"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not merged"), "{}", stderr(&o));
    // A running work order cannot be merged.
    let running = d.submit_shell(
        "sleep 600",
        &["--path", repo.path().to_str().unwrap(), "--worktree"],
    );
    d.wait_status(&running, "running", T);
    let o = d.run(&["queue", "merge", &running]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("while it is running"), "{}", stderr(&o));
    d.run(&["queue", "kill", &running]);

    let o = d.run(&[
        "queue",
        "merge",
        &id,
        "--squash",
        "--into",
        "side",
        "-m",
        "n: one and two",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("into side as one squashed commit"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        repo.git(&["log", "--format=%s", "side"]),
        "n: one and two\ninit\n"
    );
    assert_eq!(repo.git(&["show", "side:n.txt"]), "1\n2\n");

    // A follow-up adds work in the same worktree; merging again lands only it.
    let next = d.json(&["queue", "continue", &id, "echo 3 >> n.txt", "--json"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d.wait_terminal(&next, T)["status"], "succeeded");
    let o = d.run(&["queue", "merge", &next, "--squash", "--into", "side"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(repo.git(&["show", "side:n.txt"]), "1\n2\n3\n");
    assert_eq!(repo.git(&["rev-list", "--count", "side"]).trim(), "3");

    // Landed: discard removes the worktree and the branch.
    let wt = worktree(&d, &id);
    let o = d.run(&["queue", "discard", &next, "--yes"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!wt.exists());
    assert_eq!(
        repo.git(&["branch", "--list", &format!("agentgate/{id}")]),
        ""
    );
    assert_eq!(d.show(&id)["worktree"]["discarded"], true);
    let o = d.run(&["queue", "diff", &id]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("discarded"), "{}", stderr(&o));
    // Unmerged, forced.
    let other = agent(
        &d,
        &repo,
        "echo x > x.txt && git add x.txt && git commit -qm x",
    );
    let o = d.run(&["queue", "discard", &other, "--force", "--yes"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!worktree(&d, &other).exists());
    // Scripts are not asked: without --yes, refused.
    let third = agent(&d, &repo, "true");
    let o = d.run(&["queue", "discard", &third]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

/// A merge reaches WebSocket subscribers as `work_order_updated` with it.
#[test]
fn websocket_announces_a_merge() {
    let (d, _c) = daemon();
    let repo = Repo::new();
    let id = agent(&d, &repo, "echo more >> b.txt");
    let addr = http_addr(&d);
    let mut ws =
        common::web::Ws::connect(&addr, &format!("/ws?token={}", d.api_key()), &[]).unwrap();
    ws.send_json(serde_json::json!({"type": "subscribe", "workOrderId": id}));
    ws.wait_for(T, |m| m["type"] == "subscription_confirmed");
    let o = d.run(&["queue", "merge", &id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m = ws.wait_for(T, |m| m["type"] == "work_order_updated");
    assert_eq!(m["workOrderId"], id.as_str());
    assert_eq!(m["status"], m["previousStatus"]);
    assert_eq!(m["merge"]["into"], "main", "{m}");
    assert_eq!(
        m["merge"]["commit"],
        repo.git(&["rev-parse", "main"]).trim(),
        "{m}"
    );
}

/// `queue push` to a bare repository as the remote; `queue pr` without `gh`
/// says so (exit 1) and the push alone still works.
#[test]
fn push_to_a_bare_remote_and_pr_without_gh() {
    // A PATH with git and sh only: no gh, whatever this machine has.
    let bin = tempfile::tempdir().unwrap();
    for tool in ["git", "sh"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let path = stdout(&found).trim().to_string();
        std::os::unix::fs::symlink(&path, bin.path().join(tool)).unwrap();
    }
    let path = bin.path().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let cfg = config.display().to_string();
    let mut env: Vec<(&str, &str)> = IDENTITY.to_vec();
    env.push(("PATH", &path));
    let d = Daemon::with_http(&["--config", &cfg], &env);

    let remote = tempfile::tempdir().unwrap();
    let bare = remote.path().join("origin.git");
    let repo = Repo::new();
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    let id = agent(&d, &repo, "echo pushed > p.txt");
    let o = d.run(&["queue", "push", &id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!("pushed agentgate/{id} (")),
        "{}",
        stdout(&o)
    );
    let on_remote = Command::new("git")
        .arg("--git-dir")
        .arg(&bare)
        .args(["show", &format!("agentgate/{id}:p.txt")])
        .output()
        .unwrap();
    assert_eq!(stdout(&on_remote), "pushed\n", "{}", stderr(&on_remote));

    let o = d.run(&["queue", "pr", &id]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("gh) is not installed") && stderr(&o).contains("queue push"),
        "{}",
        stderr(&o)
    );
    // No remote at all: said, with the fix.
    repo.git(&["remote", "remove", "origin"]);
    let o = d.run(&["queue", "push", &id]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("no remote to push to"),
        "{}",
        stderr(&o)
    );
}

/// Setup before the agent: `--setup`, the agent type's `setup`, the
/// repository's `.agentgate/setup`; a failing one fails the work order with
/// its exit and last lines, and the agent never starts.
#[test]
fn setup_runs_before_the_agent_and_a_failing_one_stops_it() {
    let (d, _c) = daemon();
    let repo = Repo::new();
    let path = repo.path().display().to_string();
    let submit = |args: &[&str]| -> String {
        let mut a = vec!["submit", "--json", "--path", &path, "--worktree"];
        a.extend_from_slice(args);
        d.json(&a)["id"].as_str().unwrap().to_string()
    };
    let ok = submit(&[
        "--agent",
        "shell",
        "--setup",
        "echo installing; touch .setup-done",
        "test -e .setup-done && echo agent-ran",
    ]);
    let wo = d.wait_terminal(&ok, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    assert_eq!(wo["setup"], "echo installing; touch .setup-done");
    let logs = stdout(&d.run(&["queue", "logs", &ok]));
    assert!(logs.contains("[setup] installing\n"), "{logs}");
    assert!(logs.contains("agent-ran\n"), "{logs}");

    let bad = submit(&[
        "--agent",
        "shell",
        "--setup",
        "echo resolving; echo 'npm ERR! missing script: ci' >&2; exit 3",
        "touch agent-started",
    ]);
    let wo = d.wait_terminal(&bad, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    let error = wo["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("setup `echo resolving; echo 'npm ERR! missing script: ci' >&2; exit 3` failed with exit code 3; the agent was not started"),
        "{error}"
    );
    assert!(error.contains("npm ERR! missing script: ci"), "{error}");
    assert_eq!(wo["exitCode"], 3);
    assert!(!worktree(&d, &bad).join("agent-started").exists());

    // The agent type's own setup, in a fresh worktree.
    let typed = submit(&["--agent", "with-setup", "cat from-type.txt"]);
    assert_eq!(d.wait_terminal(&typed, T)["status"], "succeeded");
    assert!(stdout(&d.run(&["queue", "logs", &typed])).contains("from-type\n"));

    // The repository's .agentgate/setup, when nothing else is set.
    std::fs::create_dir_all(repo.path().join(".agentgate")).unwrap();
    repo.write(
        ".agentgate/setup",
        "#!/bin/sh\necho from-repo > from-repo.txt\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["update-index", "--chmod=+x", ".agentgate/setup"]);
    repo.git(&["commit", "-qm", "setup script"]);
    let scripted = submit(&["--agent", "shell", "cat from-repo.txt"]);
    let wo = d.wait_terminal(&scripted, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    assert!(stdout(&d.run(&["queue", "logs", &scripted])).contains("from-repo\n"));
    // Refused: an empty setup.
    let o = d.run(&["submit", "--agent", "shell", "--setup", " ", "true"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}
