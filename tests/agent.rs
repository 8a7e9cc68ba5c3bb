//! Made for coding agents, through the real binary and real processes: the
//! live transcript of a stream-json agent (tests/agents/claude, a stand-in
//! for Claude Code written for these tests), its result on the work order,
//! follow-ups that resume its session, isolated git worktrees, hooks, prompts
//! and variables per job, and the logs' views.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Daemon, FAST, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

/// A daemon whose PATH has the stand-in `claude` first (the built-in Claude
/// agent types run it) and whose agents record their arguments in `dir/`.
fn with_claude(extra: &[&str], config: Option<&str>) -> (Daemon, Home) {
    with_claude_env(extra, config, &[])
}

/// Same, with more variables in the daemon's environment.
fn with_claude_env(extra: &[&str], config: Option<&str>, env: &[(&str, &str)]) -> (Daemon, Home) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_path_buf();
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/claude");
    std::fs::copy(&script, bin.join("claude")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut args: Vec<String> = FAST.iter().map(|s| s.to_string()).collect();
    if extra.contains(&"--http")
        && let Some(i) = args.iter().position(|a| a == "--http")
    {
        args.drain(i..i + 2);
    }
    args.extend(["--max-concurrent".into(), "4".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    if let Some(text) = config {
        let file = home.join("config.toml");
        std::fs::write(&file, text).unwrap();
        args.extend(["--config".into(), file.display().to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let home_s = home.display().to_string();
    let mut vars = vec![
        ("PATH", path.as_str()),
        ("FAKE_CLAUDE_DIR", home_s.as_str()),
    ];
    vars.extend_from_slice(env);
    let d = Daemon::start_env(&refs, &vars);
    (d, Home(dir))
}

/// The stand-in's home (its bin/ and what it records), removed at the end.
struct Home(tempfile::TempDir);

impl Home {
    fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.path().join(p)
    }
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn submit(d: &Daemon, args: &[&str]) -> String {
    let mut a = vec!["submit", "--json"];
    a.extend_from_slice(args);
    d.json(&a)["id"].as_str().unwrap().to_string()
}

#[test]
fn transcript_streams_live_and_the_result_is_recorded() {
    let (d, home) = with_claude(&[], None);
    let gate = home.join("gate");
    let gate_s = format!("FAKE_CLAUDE_GATE={}", gate.display());
    let id = submit(
        &d,
        &["--max-iterations", "7", "--env", &gate_s, "fix the parser"],
    );
    // The follower shows the transcript while the agent still runs: it is
    // held at the gate before its last lines.
    let mut follow = d
        .command()
        .args(["queue", "logs", "--follow", &id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = follow.stdout.take().unwrap();
    let expected_live = "● session ";
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen)
        .contains("▸ Edit  src/parse.rs\n  ↳ The file src/parse.rs has been updated.\n")
    {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "follower ended early");
        seen.push(byte[0]);
    }
    let live = String::from_utf8_lossy(&seen).into_owned();
    assert!(live.starts_with(expected_live), "{live}");
    assert!(live.contains("I will run the test suite first.\n▸ Bash  cargo test\n  ↳ running 12 tests (+4 lines)\n"), "{live}");
    assert_eq!(d.status(&id), "running", "the agent has not finished yet");
    std::fs::write(&gate, b"").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(follow.wait().unwrap().success());
    assert!(
        rest.ends_with("✓ done (4.3s, 4 turns, 120 in, 80 out tokens, $0.0123)\n  Fixed the error path in src/parse.rs; all 12 tests pass.\n"),
        "{rest}"
    );
    // --raw is the stream byte for byte.
    let raw = d.run(&["queue", "logs", "--raw", &id]);
    let run = d.show(&id)["currentRunId"].as_str().unwrap().to_string();
    let file = std::fs::read(d.root.join("runs").join(&run).join("stdout.log")).unwrap();
    assert_eq!(raw.stdout, file);
    assert!(
        out(&raw)
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    // The result on the work order (show, list, wait).
    let wo = d.show(&id);
    let r = &wo["agentResult"];
    assert_eq!(r["costUsd"], 0.0123, "{wo}");
    assert_eq!(r["turns"], 4);
    assert!(r["sessionId"].as_str().unwrap().starts_with("9b1d2c3e-"));
    assert_eq!(r["isError"], false);
    assert_eq!(r["durationMs"], 4321);
    let list = d.json(&["queue", "list", "--json"]);
    assert_eq!(list["items"][0]["agentResult"]["turns"], 4);
    let w = d.run(&["queue", "wait", &id]);
    assert!(
        out(&w).contains(
            "Fixed the error path in src/parse.rs; all 12 tests pass. ($0.0123, 4 turns, 120 in, 80 out tokens, 4s)"
        ),
        "{}",
        out(&w)
    );
    let text = out(&d.run(&["queue", "show", &id]));
    assert!(
        text.contains(
            "agent run:   $0.0123, 4 turns, 120 in, 80 out tokens, 4s\nmodel:       claude-sonnet-4-5\n"
        ),
        "{text}"
    );
    // AgentGate's iterations are not Claude's turns: recorded, not passed
    // on as --max-turns (which stops a real run after that many turns).
    assert_eq!(wo["maxIterations"], 7);
    let args = std::fs::read_to_string(home.join(format!("{id}.args"))).unwrap();
    assert!(!args.contains("--max-turns"), "{args}");
}

/// The session the stand-in announced in the `init` line of `id`'s log.
fn init_session(d: &Daemon, id: &str) -> String {
    wait_for("the init event", T, || {
        let log = d.read_log_of(&d.show(id));
        let first: Value = serde_json::from_str(log.lines().next()?).ok()?;
        first["session_id"].as_str().map(str::to_string)
    })
}

#[test]
fn a_run_cut_off_by_its_time_limit_or_a_stop_can_be_continued() {
    let (mut d, home) = with_claude(&[], None);
    let project = tempfile::tempdir().unwrap();
    let p = project.path().display().to_string();
    // Cut off by --max-time after its init event, before any result.
    let hang = ["--path", &p, "--env", "FAKE_CLAUDE_HANG=1"];
    let timed = submit(&d, &[&hang[..], &["--max-time", "1s", "fix it"]].concat());
    let session = init_session(&d, &timed);
    let wo = d.wait_terminal(&timed, T);
    assert_eq!(wo["result"], "timeout", "{wo}");
    assert_eq!(wo["agentResult"]["sessionId"], session.as_str(), "{wo}");
    let text = out(&d.run(&["queue", "show", &timed]));
    assert!(text.contains(&format!("session:     {session}")), "{text}");
    let next = d.json(&["queue", "continue", &timed, "go on", "--json"]);
    let next = next["id"].as_str().unwrap().to_string();
    d.wait_terminal(&next, T);
    let args = std::fs::read_to_string(home.join(format!("{next}.args"))).unwrap();
    assert!(args.contains(&format!("--resume\n{session}\n")), "{args}");

    // Cut off by the daemon's stop (its runs stop with it).
    let stopped = submit(&d, &[&hang[..], &["fix it again"]].concat());
    let session = init_session(&d, &stopped);
    d.stop();
    d.spawn();
    let wo = d.wait_terminal(&stopped, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    assert_eq!(wo["agentResult"]["sessionId"], session.as_str(), "{wo}");
    let next = d.json(&["queue", "continue", &stopped, "go on", "--json"]);
    let next = next["id"].as_str().unwrap().to_string();
    wait_for("the follow-up to start", T, || {
        std::fs::read_to_string(home.join(format!("{next}.args"))).ok()
    });
    let args = std::fs::read_to_string(home.join(format!("{next}.args"))).unwrap();
    assert!(args.contains(&format!("--resume\n{session}\n")), "{args}");

    // Its supervisor killed (no end recorded): the session is read from the log.
    let lost = submit(&d, &[&hang[..], &["fix it once more"]].concat());
    let session = init_session(&d, &lost);
    let run = d.show(&lost)["currentRunId"].as_str().unwrap().to_string();
    let state: Value = serde_json::from_slice(
        &std::fs::read(d.root.join("runs").join(&run).join("state.json")).unwrap(),
    )
    .unwrap();
    let supervisor = state["supervisorPid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let wo = d.wait_terminal(&lost, T);
    assert!(
        wo["error"].as_str().unwrap().contains("supervisor lost"),
        "{wo}"
    );
    assert_eq!(wo["agentResult"]["sessionId"], session.as_str(), "{wo}");
}

#[test]
fn an_agent_at_its_turn_limit_says_so_in_show_wait_and_logs() {
    // A type that does pass a turn limit, as a user may configure one.
    let config = r#"
[agents.capped]
command = ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose", "--max-turns", "{max_iterations}"]
output = "claude-stream-json"
"#;
    let (d, _home) = with_claude(&[], Some(config));
    let id = submit(
        &d,
        &[
            "--agent",
            "capped",
            "--max-iterations",
            "2",
            "--env",
            "FAKE_CLAUDE_END=max_turns",
            "fix the parser",
        ],
    );
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    let why = "claude: error_max_turns after 2 turns (exited with code 1)";
    assert_eq!(wo["error"], why, "{wo}");
    assert_eq!(wo["agentResult"]["subtype"], "error_max_turns", "{wo}");
    assert_eq!(wo["agentResult"]["isError"], true, "{wo}");
    let text = out(&d.run(&["queue", "show", &id]));
    assert!(text.contains(why), "{text}");
    let w = d.run(&["queue", "wait", &id]);
    assert_eq!(w.status.code(), Some(1));
    assert!(out(&w).contains(why), "{}", out(&w));
    let logs = out(&d.run(&["queue", "logs", &id]));
    assert!(
        logs.contains("✗ error_max_turns (2.1s, 2 turns, 90 in, 40 out tokens, $0.0071)\n"),
        "{logs}"
    );
}

#[test]
fn subscription_runs_without_the_api_key_and_the_api_type_needs_one() {
    let key = ("ANTHROPIC_API_KEY", "sk-ant-test-1");
    let (mut d, home) = with_claude_env(&[], None, &[key]);
    let key_of = |id: &str| {
        d.wait_terminal(id, T);
        std::fs::read_to_string(home.join(format!("{id}.key"))).unwrap()
    };
    // The default type uses the login of `claude`: the key is withheld.
    let sub = submit(&d, &["fix it"]);
    assert_eq!(key_of(&sub), "unset\n");
    let api = submit(&d, &["--agent", "claude-code-api", "fix it"]);
    assert_eq!(key_of(&api), "sk-ant-test-1\n");
    // Given explicitly, a key reaches even the subscription type.
    let given = submit(&d, &["--env", "ANTHROPIC_API_KEY=sk-ant-mine", "fix it"]);
    assert_eq!(key_of(&given), "sk-ant-mine\n");

    // Without a key the API type is refused at submit, naming the variable;
    // one queued while there was a key fails at its start, saying the same.
    assert!(d.run(&["queue", "pause"]).status.success());
    let queued = submit(&d, &["--agent", "claude-code-api", "fix it later"]);
    d.stop();
    d.env.retain(|(k, _)| k != "ANTHROPIC_API_KEY");
    d.spawn_with(|c| {
        c.env_remove("ANTHROPIC_API_KEY");
    });
    let o = d
        .command()
        .env_remove("ANTHROPIC_API_KEY")
        .args(["submit", "--agent", "claude-code-api", "fix it"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("ANTHROPIC_API_KEY is not set") && err(&o).contains("claude-code-api"),
        "{}",
        err(&o)
    );
    assert!(d.run(&["queue", "resume"]).status.success());
    let wo = d.wait_terminal(&queued, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    assert!(
        wo["error"]
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_API_KEY is not set"),
        "{wo}"
    );
    let ok = submit(
        &d,
        &[
            "--agent",
            "claude-code-api",
            "--env",
            "ANTHROPIC_API_KEY=sk-ant-2",
            "fix it",
        ],
    );
    assert_eq!(d.wait_terminal(&ok, T)["status"], "succeeded");
}

#[test]
fn continue_resumes_the_session_in_the_same_workspace() {
    let (d, home) = with_claude(&[], None);
    let project = tempfile::tempdir().unwrap();
    let p = project.path().display().to_string();
    let first = submit(&d, &["--path", &p, "fix the parser"]);
    let wo = d.wait_terminal(&first, T);
    let session = wo["agentResult"]["sessionId"].as_str().unwrap().to_string();
    let next = d.json(&["queue", "continue", &first, "now add a test", "--json"]);
    let next = next["id"].as_str().unwrap().to_string();
    let wo = d.wait_terminal(&next, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    assert_eq!(wo["parentId"], first.as_str());
    let args = std::fs::read_to_string(home.join(format!("{next}.args"))).unwrap();
    assert!(args.contains(&format!("--resume\n{session}\n")), "{args}");
    assert!(args.starts_with("-p\nnow add a test\n"), "{args}");
    let pwd = std::fs::read_to_string(home.join(format!("{next}.pwd"))).unwrap();
    assert_eq!(pwd.trim(), p);
    assert_eq!(wo["agentResult"]["sessionId"], session.as_str());
    let text = out(&d.run(&["queue", "show", &next]));
    assert!(text.contains(&format!("follows up:  {first}")), "{text}");

    // `--last` follows up the newest work order (here `next`).
    let third = d.json(&["queue", "continue", "--last", "and the docs", "--json"]);
    let third = third["id"].as_str().unwrap().to_string();
    let wo = d.wait_terminal(&third, T);
    assert_eq!(wo["parentId"], next.as_str(), "{wo}");
    let o = d.run(&["queue", "continue", "--last", &first, "two prompts"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--last PROMPT"), "{}", err(&o));

    // Refused: an agent type that cannot resume; a work order with no session.
    let shell = d.submit_shell("true", &[]);
    d.wait_terminal(&shell, T);
    let o = d.run(&["queue", "continue", &shell, "more"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("cannot resume a session") && err(&o).contains("resume_command"),
        "{}",
        err(&o)
    );
}

#[test]
fn worktrees_isolate_parallel_agents_and_purge_keeps_their_branches() {
    let d = Daemon::start(&[FAST, &["--max-concurrent", "4"]].concat());
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", err(&o));
        out(&o)
    };
    git(&["init", "-q"]);
    std::fs::write(repo.path().join("README"), "hello\n").unwrap();
    git(&["add", "README"]);
    git(&[
        "-c",
        "user.email=t@e",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "init",
    ]);
    let gate = repo.path().join(".git").join("gate");
    let path = repo.path().display().to_string();
    let ident = [
        "--env",
        "GIT_AUTHOR_NAME=agent",
        "--env",
        "GIT_AUTHOR_EMAIL=agent@example.com",
        "--env",
        "GIT_COMMITTER_NAME=agent",
        "--env",
        "GIT_COMMITTER_EMAIL=agent@example.com",
    ];
    let ids: Vec<String> = ["a", "b"]
        .iter()
        .map(|name| {
            let script = format!(
                "while [ ! -e {} ]; do sleep 0.05; done; echo {name} > {name}.txt; git add {name}.txt; git commit -qm 'add {name}'; [ {name} = a ] || echo wip > wip.txt; pwd",
                gate.display()
            );
            let mut a = vec!["--agent", "shell", "--path", &path, "--worktree"];
            a.extend_from_slice(&ident);
            a.push(&script);
            submit(&d, &a)
        })
        .collect();
    // Both run at once, each in its own worktree.
    for id in &ids {
        d.wait_status(id, "running", T);
    }
    std::fs::write(&gate, b"").unwrap();
    let mut dirs = Vec::new();
    for id in &ids {
        let wo = d.wait_terminal(id, T);
        assert_eq!(wo["status"], "succeeded", "{wo}\n{}", d.log_text());
        let w = &wo["worktree"];
        assert_eq!(w["branch"], format!("agentgate/{id}"));
        assert_eq!(w["changes"]["commits"], 1, "{wo}");
        assert_eq!(w["changes"]["filesChanged"], 1, "{wo}");
        // b left a file it did not commit: counted, not added to its index.
        let left = if id == &ids[0] { 0 } else { 1 };
        assert_eq!(w["changes"]["uncommitted"], left, "{wo}");
        let dir = w["path"].as_str().unwrap().to_string();
        assert_eq!(d.read_log_of(&wo).trim(), dir);
        let text = out(&d.run(&["queue", "show", id]));
        assert!(
            text.contains("changes:     1 commit, 1 file changed, +1 -0"),
            "{text}"
        );
        dirs.push(dir);
    }
    assert_ne!(dirs[0], dirs[1]);
    // The source's own checkout is untouched.
    assert!(!repo.path().join("a.txt").exists() && !repo.path().join("b.txt").exists());
    let o = d.run(&["queue", "purge", "--yes", &ids[0], &ids[1]]);
    assert!(o.status.success(), "{}", err(&o));
    for dir in &dirs {
        assert!(!Path::new(dir).exists(), "{dir} left");
    }
    let list = git(&["worktree", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    let branches = git(&["branch", "--list", "agentgate/*"]);
    for id in &ids {
        assert!(branches.contains(&format!("agentgate/{id}")), "{branches}");
    }
    // A directory that is not a repository is refused at submit.
    let plain = tempfile::tempdir().unwrap();
    let o = d.run(&[
        "submit",
        "--agent",
        "shell",
        "--worktree",
        "--path",
        &plain.path().display().to_string(),
        "true",
    ]);
    // A flag the daemon cannot honour: a usage error.
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("needs a local git repository"),
        "{}",
        err(&o)
    );
}

#[test]
fn hooks_run_on_ends_and_a_hanging_one_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("hook-env");
    let hung = dir.path().join("hung-pid");
    let config = format!(
        "env_remove = [\"HOOK_SECRET_*\"]\n\n[[hooks]]\non = [\"succeeded\"]\ncommand = [\"sh\", \"-c\", \"env | grep -E '^(AGENTGATE_|HOOK_)' | sort > {}\"]\n\n\
         [[hooks]]\non = [\"failed\"]\ncommand = [\"sh\", \"-c\", \"echo $$ > {}; exec sleep 1000\"]\ntimeout = \"1s\"\n",
        record.display(),
        hung.display()
    );
    // The daemon's secrets and what env_remove names never reach a hook.
    let (d, _home) = with_claude_env(
        &[],
        Some(&config),
        &[
            ("AGENTGATE_API_KEY", "hook-must-not-see-this"),
            ("HOOK_SECRET_TOKEN", "nor-this"),
            ("HOOK_VISIBLE", "kept"),
        ],
    );
    let ok = submit(&d, &["fix the parser"]);
    d.wait_terminal(&ok, T);
    let env = wait_for("the hook's record", T, || {
        std::fs::read_to_string(&record)
            .ok()
            .filter(|s| s.contains("AGENTGATE_SUMMARY"))
    });
    for want in [
        format!("AGENTGATE_WORK_ORDER_ID={ok}"),
        "AGENTGATE_STATUS=succeeded".into(),
        "AGENTGATE_RESULT=exited".into(),
        "AGENTGATE_EXIT_CODE=0".into(),
        "AGENTGATE_COST_USD=0.0123".into(),
        "AGENTGATE_SUMMARY=Fixed the error path in src/parse.rs; all 12 tests pass.".into(),
    ] {
        assert!(env.contains(&want), "{want} not in\n{env}");
    }
    assert!(env.contains("HOOK_VISIBLE=kept"), "{env}");
    for secret in ["AGENTGATE_API_KEY", "HOOK_SECRET_TOKEN"] {
        assert!(!env.contains(secret), "{secret} reached the hook:\n{env}");
    }
    // A failed work order's hook hangs: it is killed at its timeout.
    let bad = d.submit_shell("exit 3", &[]);
    d.wait_terminal(&bad, T);
    let pid: i32 = wait_for("the hanging hook", T, || {
        std::fs::read_to_string(&hung).ok()?.trim().parse().ok()
    });
    wait_for("the hook to be killed", T, || {
        (!common::pid_alive(pid)).then_some(())
    });
    assert!(d.log_text().contains("hook timed out"), "{}", d.log_text());
    // The daemon is fine and the work order untouched.
    assert_eq!(d.status(&bad), "failed");
    assert_eq!(d.json(&["queue", "health", "--json"])["accepting"], true);
}

#[test]
fn prompts_from_stdin_and_files_env_per_job_and_long_prompts_refused() {
    let d = Daemon::start(FAST);
    let mut child = d
        .command()
        .args(["submit", "--agent", "shell", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"exit 0").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let id = serde_json::from_slice::<Value>(&o.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d.wait_terminal(&id, T)["status"], "succeeded");
    // From a file.
    let f = d.dir.path().join("prompt.sh");
    std::fs::write(&f, "echo from a file").unwrap();
    let id = submit(
        &d,
        &[
            "--agent",
            "shell",
            "--prompt-file",
            &f.display().to_string(),
        ],
    );
    assert_eq!(d.read_log_of(&d.wait_terminal(&id, T)), "from a file\n");
    // 200 KiB cannot be one argument: refused at submit, naming the fix.
    let long = "x".repeat(200 * 1024);
    std::fs::write(&f, &long).unwrap();
    let o = d.run(&[
        "submit",
        "--agent",
        "shell",
        "--prompt-file",
        &f.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("--prompt-file") && err(&o).contains("prompt_via"),
        "{}",
        err(&o)
    );
    // --env for one work order only; names in show, values in --json.
    let with = submit(
        &d,
        &["--agent", "shell", "--env", "FOO=bar", "echo \"FOO=$FOO\""],
    );
    let without = submit(&d, &["--agent", "shell", "echo \"FOO=$FOO\""]);
    assert_eq!(d.read_log_of(&d.wait_terminal(&with, T)), "FOO=bar\n");
    assert_eq!(d.read_log_of(&d.wait_terminal(&without, T)), "FOO=\n");
    let text = out(&d.run(&["queue", "show", &with]));
    assert!(
        text.contains("env:         FOO\n") && !text.contains("bar"),
        "{text}"
    );
    assert_eq!(d.show(&with)["env"]["FOO"], "bar");
    let envf = d.dir.path().join("job.env");
    std::fs::write(&envf, "# comment\nA=1\nexport B=\"two words\"\n").unwrap();
    let id = submit(
        &d,
        &[
            "--agent",
            "shell",
            "--env-file",
            &envf.display().to_string(),
            "echo \"$A/$B\"",
        ],
    );
    assert_eq!(d.read_log_of(&d.wait_terminal(&id, T)), "1/two words\n");
    let o = d.run(&[
        "submit",
        "--agent",
        "shell",
        "--env",
        "AGENTGATE_RUN_ID=x",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("set by agentgate itself"), "{}", err(&o));
}

#[test]
fn prompt_files_and_stdin_carry_long_prompts() {
    let config = "[agents.byfile]\ncommand = [\"sh\", \"-c\", \"wc -c < \\\"$0\\\"\", \"{prompt_file}\"]\n\n\
                  [agents.bystdin]\ncommand = [\"wc\", \"-c\"]\nprompt_via = \"stdin\"\n";
    let (d, _home) = with_claude(&[], Some(config));
    let long = "y".repeat(300 * 1024);
    let f = d.dir.path().join("long.txt");
    std::fs::write(&f, &long).unwrap();
    for agent in ["byfile", "bystdin"] {
        let id = submit(
            &d,
            &["--agent", agent, "--prompt-file", &f.display().to_string()],
        );
        let wo = d.wait_terminal(&id, T);
        assert_eq!(wo["status"], "succeeded", "{wo}");
        assert_eq!(d.read_log_of(&wo).trim(), (300 * 1024).to_string());
    }
}

#[test]
fn logs_interleave_pick_a_run_and_stamp_lines() {
    let d = Daemon::start(FAST);
    let script = "echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; exit 3";
    let id = d.submit_shell(script, &[]);
    d.wait_terminal(&id, T);
    assert_eq!(out(&d.run(&["queue", "logs", &id])), "out1\nerr1\nout2\n");
    assert_eq!(
        out(&d.run(&["queue", "logs", "--stdout", &id])),
        "out1\nout2\n"
    );
    assert_eq!(out(&d.run(&["queue", "logs", "--stderr", &id])), "err1\n");
    assert_eq!(
        out(&d.run(&["queue", "logs", "--tail", "2", &id])),
        "err1\nout2\n"
    );
    let stamped = out(&d.run(&["queue", "logs", "--timestamps", &id]));
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 3, "{stamped}");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = lines
        .iter()
        .map(|l| chrono::DateTime::parse_from_rfc3339(l.split(' ').next().unwrap()).unwrap())
        .collect();
    assert!(times[0] < times[1] && times[1] < times[2], "{stamped}");
    assert!(lines[1].ends_with(" err1"));
    // A retry is a second run; --run picks the first.
    d.json(&["queue", "start", &id, "--json"]);
    d.wait_terminal(&id, T);
    assert_eq!(d.show(&id)["runCount"], 2);
    assert_eq!(
        out(&d.run(&["queue", "logs", "--run", "1", &id])),
        "out1\nerr1\nout2\n"
    );
    let first = d.show(&id)["runIds"][0].as_str().unwrap().to_string();
    assert_eq!(
        out(&d.run(&["queue", "logs", "--run", &first, &id])),
        "out1\nerr1\nout2\n"
    );
    let o = d.run(&["queue", "logs", "--run", "9", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("has no run \"9\""), "{}", err(&o));
}

#[test]
fn submit_wait_and_follow_block_with_the_same_exit_codes() {
    let d = Daemon::start(FAST);
    let o = d.run(&["submit", "--agent", "shell", "--wait", "echo hi; exit 3"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let o = d.run(&["submit", "--agent", "shell", "--follow", "echo streamed"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "streamed\n");
    let o = d.run(&["submit", "--agent", "shell", "--wait", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// Collects a WebSocket's messages about `id` until one satisfies `done`.
fn ws_until(ws: &mut common::web::Ws, id: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + T;
    while let Some(m) = ws.next_json_until(deadline) {
        if m["workOrderId"] != id {
            continue;
        }
        let end = done(&m);
        seen.push(m);
        if end {
            return seen;
        }
    }
    panic!("timed out; messages seen: {seen:?}");
}

#[test]
fn websocket_carries_the_agents_text_tool_calls_and_results() {
    let (d, _home) = with_claude(&["--http", "127.0.0.1:0", "--no-auto-process"], None);
    let addr = common::web::http_addr(&d);
    let path = format!("/ws?token={}", d.api_key());
    let mut all = common::web::Ws::connect(&addr, &path, &[]).unwrap();
    let mut no_calls = common::web::Ws::connect(&addr, &path, &[]).unwrap();
    let id = submit(&d, &["fix the parser"]);
    all.send_json(serde_json::json!({"type": "subscribe", "workOrderId": id}));
    all.wait_for(T, |m| m["type"] == "subscription_confirmed");
    no_calls.send_json(serde_json::json!({"type": "subscribe", "workOrderId": id,
        "filters": {"includeToolCalls": false, "includeOutput": false}}));
    no_calls.wait_for(T, |m| m["type"] == "subscription_confirmed");
    let o = d.run(&["queue", "start", &id]);
    assert!(o.status.success(), "{}", err(&o));

    // Every event of the stream, in order, until the agent's last words.
    let last = "Fixed the error path in src/parse.rs; all 12 tests pass.";
    let seen = ws_until(&mut all, &id, |m| {
        m["type"] == "agent_output" && m["content"] == last
    });
    let agent: Vec<&Value> = seen
        .iter()
        .filter(|m| m["type"].as_str().is_some_and(|t| t.starts_with("agent_")))
        .collect();
    let kinds: Vec<&str> = agent.iter().filter_map(|m| m["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "agent_output",
            "agent_tool_call",
            "agent_tool_result",
            "agent_tool_call",
            "agent_tool_result",
            "agent_output"
        ],
        "{seen:?}"
    );
    assert_eq!(agent[0]["content"], "I will run the test suite first.");
    let bash = agent[1];
    assert_eq!(
        (&bash["tool"], &bash["toolUseId"], &bash["input"]["command"]),
        (&"Bash".into(), &"toolu_01".into(), &"cargo test".into())
    );
    let result = agent[2];
    assert_eq!(result["toolUseId"], "toolu_01");
    assert_eq!(result["success"], true);
    assert!(
        result["contentPreview"]
            .as_str()
            .unwrap()
            .starts_with("running 12 tests")
    );
    assert!(result["contentLength"].as_u64().unwrap() > 16, "{result}");
    assert!(result["durationMs"].is_u64(), "{result}");
    assert_eq!(agent[3]["tool"], "Edit");
    assert_eq!(agent[3]["input"]["file_path"], "src/parse.rs");
    let run_id = seen.iter().find(|m| m["type"] == "run_started").unwrap()["runId"].clone();
    assert!(agent.iter().all(|m| m["runId"] == run_id), "{seen:?}");

    // The filtered subscription: results only.
    let seen = ws_until(&mut no_calls, &id, |m| m["type"] == "run_completed");
    let kinds: Vec<&str> = seen.iter().filter_map(|m| m["type"].as_str()).collect();
    assert!(
        !kinds.contains(&"agent_tool_call") && !kinds.contains(&"agent_output"),
        "{kinds:?}"
    );
    let results = seen
        .iter()
        .filter(|m| m["type"] == "agent_tool_result")
        .count();
    // A result read after the run ended may come after run_completed.
    let late = no_calls.drain(Duration::from_millis(300));
    let late_results = late
        .iter()
        .filter(|m| m["type"] == "agent_tool_result")
        .count();
    assert_eq!(results + late_results, 2, "{seen:?} {late:?}");
}

#[test]
fn http_create_takes_env_and_worktree() {
    let (d, _home) = with_claude(&["--http", "127.0.0.1:0"], None);
    let addr = common::web::http_addr(&d);
    let auth = format!("Bearer {}", d.api_key());
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let post = |body: Value| {
        common::web::request(
            &addr,
            "POST",
            "/api/v1/work-orders",
            &headers,
            Some(body.to_string().as_bytes()),
        )
    };
    let work = d.dir.path().display().to_string();
    let created = post(serde_json::json!({
        "taskPrompt": "echo \"FOO=$FOO\"", "agentType": "shell",
        "workspaceSource": {"type": "local", "path": work},
        "env": {"FOO": "from-http"},
    }))
    .data(201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["env"]["FOO"], "from-http");
    assert_eq!(d.read_log_of(&d.wait_terminal(id, T)), "FOO=from-http\n");
    // Bad input is refused with the field named.
    for (body, field) in [
        (
            serde_json::json!({"taskPrompt": "true", "agentType": "shell", "env": {"FOO": 1}}),
            "env.FOO",
        ),
        (
            serde_json::json!({"taskPrompt": "true", "agentType": "shell", "env": "FOO=1"}),
            "env: invalid type",
        ),
        (
            serde_json::json!({"taskPrompt": "true", "agentType": "shell", "env": {"AGENTGATE_X": "1"}}),
            "AGENTGATE_X",
        ),
        (
            serde_json::json!({"taskPrompt": "true", "agentType": "shell", "worktree": "yes"}),
            "worktree: invalid type",
        ),
        (
            serde_json::json!({"taskPrompt": "true", "agentType": "shell", "worktree": true,
            "workspaceSource": {"type": "local", "path": work}}),
            "git repository",
        ),
    ] {
        let e = post(body.clone()).error(400);
        assert!(e.to_string().contains(field), "{body}: {e}");
    }
}
