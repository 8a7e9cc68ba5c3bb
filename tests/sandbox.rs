//! Confined runs through the real binary (`sandbox = "workspace"`): a shell
//! agent writes in its workspace and TMPDIR but not in the home directory,
//! cannot read a key under ~/.ssh or another work order's worktree, and no
//! symlink, hard link, `/proc/self/root` or child process gets it out; with
//! the network off a TCP connect to the test's listener fails (and works with
//! it on); a host without Landlock (the config switch) fails confined work
//! saying how to opt out; the Claude stand-in runs confined and keeps its
//! `~/.claude` state; AgentGate's `policies` map onto it over HTTP.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::web::{http_addr, request};
use common::{Daemon, FAST, wait_for};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(30);

/// Skips (printing why) where the kernel has no Landlock.
fn landlock() -> bool {
    let v = agentgate::sandbox::apply::landlock_abi().unwrap_or(0);
    if v < 2 {
        println!("SKIPPED: this kernel has no Landlock (ABI 2 or newer)");
    }
    v >= 2
}

struct Host {
    d: Daemon,
    _home_dir: tempfile::TempDir,
    home: PathBuf,
    /// The work orders' workspace, inside the home directory.
    ws: PathBuf,
    /// Somewhere outside everything a confined run may write.
    outside: tempfile::TempDir,
}

fn host(extra: &[&str], config: Option<&str>) -> Host {
    let home_dir = tempfile::tempdir().unwrap();
    let home = std::fs::canonicalize(home_dir.path()).unwrap();
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_test"), "SECRET-KEY\n").unwrap();
    let ws = home.join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let mut args: Vec<String> = [
        "--stagger-delay",
        "0",
        "--min-memory",
        "0",
        "--max-concurrent",
        "4",
    ]
    .map(String::from)
    .to_vec();
    if !extra.contains(&"--http") {
        args.extend(["--http", "off"].map(String::from));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    if let Some(c) = config {
        let f = home.join("agentgate.toml");
        std::fs::write(&f, c).unwrap();
        args.extend(["--config".to_string(), f.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let home_s = home.display().to_string();
    let d = Daemon::start_env(&args, &[("HOME", &home_s), ("AGENTGATE_SANDBOX", "auto")]);
    Host {
        d,
        _home_dir: home_dir,
        home,
        ws,
        outside: tempfile::tempdir().unwrap(),
    }
}

impl Host {
    fn submit(&self, script: &str, extra: &[&str]) -> String {
        let ws = self.ws.display().to_string();
        let mut args = vec!["--path", &ws];
        args.extend_from_slice(extra);
        self.d.submit_shell(script, &args)
    }

    /// Both of its outputs, as `queue logs` shows them.
    fn log(&self, wo: &Value) -> String {
        let id = wo["id"].as_str().unwrap();
        common::stdout(&self.d.run(&["queue", "logs", id]))
    }
}

/// Every way out, tried; each exits with its own code when it gets out.
const ESCAPES: &str = r#"
echo ok > made-here || exit 10
echo t > "$TMPDIR/t" || exit 11
if touch "$HOME/x" 2>/dev/null; then exit 12; fi
if cat "$HOME/.ssh/id_test" 2>/dev/null; then exit 13; fi
ln -s "$OUTSIDE/target" link
if echo hi > link 2>/dev/null; then exit 14; fi
if ln "$HOME/.ssh/id_test" hard 2>/dev/null; then exit 15; fi
if cat "/proc/self/root$HOME/.ssh/id_test" 2>/dev/null; then exit 16; fi
if sh -c 'touch "$HOME/y" && cat "$HOME/.ssh/id_test"' 2>/dev/null; then exit 17; fi
if cat "$OTHER/secret.txt" 2>/dev/null; then exit 18; fi
if echo x > "$OUTSIDE/direct" 2>/dev/null; then exit 19; fi
exit 0
"#;

fn git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn a_confined_shell_stays_in_its_workspace() {
    if !landlock() {
        return;
    }
    let h = host(&[], None);
    // Another work order's worktree, with something in it.
    let repo = h.outside.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("README"), "r\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "init"]);
    let repo_s = repo.display().to_string();
    let other = h.d.submit_shell(
        "echo other-secret > secret.txt",
        &["--path", &repo_s, "--worktree"],
    );
    let other = h.d.wait_terminal(&other, T);
    assert_eq!(other["status"], "succeeded", "{other}");
    let other_dir = other["worktree"]["path"].as_str().unwrap().to_string();
    assert!(Path::new(&other_dir).join("secret.txt").exists());

    let env_outside = format!("OUTSIDE={}", h.outside.path().display());
    let env_other = format!("OTHER={other_dir}");
    let env = ["--env", &env_outside, "--env", &env_other];
    let mut args = env.to_vec();
    args.extend(["--sandbox", "workspace"]);
    let id = h.submit(ESCAPES, &args);
    let wo = h.d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}\n{}", h.log(&wo));
    assert!(h.ws.join("made-here").exists());
    assert!(!h.home.join("x").exists() && !h.home.join("y").exists());
    assert!(!h.outside.path().join("target").exists());
    assert!(!h.outside.path().join("direct").exists());
    assert!(!h.ws.join("hard").exists());
    let applied = wo["sandboxApplied"].as_str().unwrap();
    assert!(applied.starts_with("workspace (landlock v"), "{applied}");
    let shown = common::stdout(&h.d.run(&["queue", "show", &id]));
    assert!(
        shown.contains("sandbox:     workspace (landlock"),
        "{shown}"
    );

    // The same script unconfined gets out at once: the checks can fail.
    std::fs::remove_file(h.ws.join("link")).unwrap();
    let mut args = env.to_vec();
    args.extend(["--sandbox", "off"]);
    let id = h.submit(ESCAPES, &args);
    let wo = h.d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    assert_eq!(wo["exitCode"], 12, "{wo}");
    assert_eq!(wo["sandboxApplied"], "off", "{wo}");
}

#[test]
fn the_network_off_is_loopback_only() {
    if !landlock() {
        return;
    }
    let h = host(&[], None);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let connect = format!(
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5); print('connected')\""
    );
    // Off: the host's loopback is not reachable, its own loopback is up.
    let own_lo = "python3 -c \"import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); socket.create_connection(s.getsockname()); print('own loopback ok')\"";
    let script = format!("{own_lo} && {connect}");
    let id = h.submit(&script, &["--sandbox", "workspace", "--no-network"]);
    let wo = h.d.wait_terminal(&id, T);
    let log = h.log(&wo);
    assert_eq!(wo["status"], "failed", "{wo}\n{log}");
    assert!(log.contains("own loopback ok"), "{log}");
    assert!(
        log.contains("Connection refused") || log.contains("unreachable"),
        "{log}"
    );
    assert!(
        wo["sandboxApplied"]
            .as_str()
            .unwrap()
            .contains("network off"),
        "{wo}"
    );
    assert!(listener.accept().is_err(), "nothing got through");
    // On: the same connect succeeds.
    let id = h.submit(&connect, &["--sandbox", "workspace"]);
    let wo = h.d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}\n{}", h.log(&wo));
    wait_for("the connection", T, || listener.accept().ok());
}

#[test]
fn a_host_without_landlock_refuses_confined_work_saying_how_to_opt_out() {
    let h = host(&[], Some("sandbox_landlock = false\n"));
    let id = h.submit("echo should-not-run", &["--sandbox", "workspace"]);
    let wo = h.d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    let error = wo["error"].as_str().unwrap();
    assert!(
        error.contains("no Landlock") && error.contains("--sandbox off"),
        "{error}"
    );
    assert!(!h.log(&wo).contains("should-not-run"));
    // Unconfined work still runs; health says what this host has.
    let id = h.submit("echo fine", &["--sandbox", "off"]);
    assert_eq!(h.d.wait_terminal(&id, T)["status"], "succeeded");
    let health = h.d.json(&["queue", "health", "--json"]);
    let detail = health["executors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("confinement: no landlock"), "{detail}");
}

#[test]
fn the_claude_stand_in_runs_confined_and_keeps_its_state() {
    if !landlock() {
        return;
    }
    let bin = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/claude");
    std::fs::copy(&script, bin.path().join("claude")).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home_dir = tempfile::tempdir().unwrap();
    let home = std::fs::canonicalize(home_dir.path()).unwrap();
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_test"), "SECRET-KEY\n").unwrap();
    let ws = home.join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let home_s = home.display().to_string();
    let d = Daemon::start_env(
        FAST,
        &[
            ("PATH", &path),
            ("HOME", &home_s),
            ("FAKE_CLAUDE_STATE", "1"),
            ("ANTHROPIC_API_KEY", "sk-test"),
            ("AGENTGATE_SANDBOX", "auto"),
        ],
    );
    let ws_s = ws.display().to_string();
    let v = d.json(&[
        "submit",
        "--json",
        "--agent",
        "claude-code-api",
        "--path",
        &ws_s,
        "fix the tests",
    ]);
    let id = v["id"].as_str().unwrap();
    let wo = d.wait_terminal(id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}\n{}", d.read_log_of(&wo));
    assert!(
        wo["sandboxApplied"]
            .as_str()
            .unwrap()
            .starts_with("workspace"),
        "{wo}"
    );
    let session = wo["agentResult"]["sessionId"].as_str().unwrap();
    let state = home
        .join(".claude/projects")
        .join(format!("{session}.jsonl"));
    assert!(
        state.exists(),
        "the stand-in's state at {}",
        state.display()
    );
    // It could not read the key (the stand-in tries, as a curious agent might).
    assert!(
        !std::fs::read_to_string(&state)
            .unwrap()
            .contains("SECRET-KEY")
    );
}

#[test]
fn agentgates_policies_map_onto_the_sandbox() {
    if !landlock() {
        return;
    }
    let h = host(&["--http", "127.0.0.1:0"], None);
    let addr = http_addr(&h.d);
    let key = h.d.api_key();
    let auth = format!("Bearer {key}");
    let post = |body: Value| {
        request(
            &addr,
            "POST",
            "/api/v1/work-orders",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Some(body.to_string().as_bytes()),
        )
    };
    let submit = |body: Value| post(body).data(201)["id"].as_str().unwrap().to_string();
    let ws = h.ws.display().to_string();
    let allowed = h.outside.path().join("allowed");
    std::fs::create_dir_all(&allowed).unwrap();
    let id = submit(json!({
        "taskPrompt": format!("echo x > {}/ok && echo SECRET=1 > .env", allowed.display()),
        "agentType": "shell",
        "workspaceSource": {"type": "local", "path": ws},
        "sandbox": "workspace",
        "policies": {
            "networkAllowed": false,
            "allowedPaths": [allowed.display().to_string()],
            "forbiddenPatterns": ["**/.env", "**/*.pem"]
        }
    }));
    let wo = h.d.wait_terminal(&id, T);
    assert!(allowed.join("ok").exists(), "allowedPaths are writable");
    assert_eq!(wo["status"], "failed", "{wo}");
    let error = wo["error"].as_str().unwrap();
    assert!(
        error.contains("forbidden files") && error.contains(".env"),
        "{error}"
    );
    assert_eq!(wo["sandbox"]["network"], false, "{wo}");
    assert!(
        wo["sandboxApplied"]
            .as_str()
            .unwrap()
            .contains("network off")
    );
    // A bad glob is refused at submit, naming the field.
    let r = post(json!({"taskPrompt": "true", "agentType": "shell",
                   "workspaceSource": {"type": "local", "path": ws},
                   "policies": {"forbiddenPatterns": ["a["]}}));
    let e = r.error(400);
    assert!(e.to_string().contains("forbiddenPatterns"), "{e}");
}
