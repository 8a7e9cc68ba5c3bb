//! Every built-in kind of coding agent through the real binary, each through
//! its stand-in under tests/agents/ (printing what the real CLI prints): the
//! live transcript while it runs, the result fields on the work order, resume
//! on `queue continue`, lines that are not events, and an error event ending
//! the run as failed with the agent's own message. (Claude Code's own
//! details: tests/agent.rs.)

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Daemon, FAST};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

/// What differs between the kinds, as each stand-in prints it.
struct Kind {
    /// The built-in agent type (and the stand-in's program name).
    name: &'static str,
    /// Transcript lines shown before the stand-in waits at its gate.
    live: &'static str,
    /// The transcript's end.
    end: &'static str,
    /// The result line of the transcript for a failing run.
    failed_line: &'static str,
    /// The work order's error for a failing run starts with this.
    failure: &'static str,
    model: Option<&'static str>,
    tokens: (u64, u64, u64),
    turns: Option<u64>,
    /// The resume arguments, with `{s}` for the session.
    resume: &'static str,
}

const CODEX: Kind = Kind {
    name: "codex",
    live: "∴ **Running the test suite**\n\
           ▸ shell  bash -lc 'cargo test'\n  \
           ✗ running 12 tests (+1 lines)\n\
           ± src/parse.rs\n",
    end: "Fixed the error path in src/parse.rs; all 12 tests pass.\n\
          ✓ turn completed (24763 in, 122 out tokens)\n",
    failed_line: "✗ turn failed\n  stream disconnected before completion: rate limit reached\n",
    failure: "codex: turn.failed after 1 turn: stream disconnected before completion: rate limit reached",
    model: None,
    tokens: (24763, 122, 24448),
    turns: Some(1),
    resume: "resume\n{s}\n",
};

const GEMINI: Kind = Kind {
    name: "gemini",
    live: "I will run the tests first.\n\
           ▸ run_shell_command  cargo test\n  \
           ✗ exit code 101: test parse::err ... FAILED\n\
           ▸ replace  src/parse.rs\n  \
           ↳ Successfully modified file: src/parse.rs (1 replacements).\n",
    end: "Fixed the error path in src/parse.rs; all 12 tests pass.\n\
          ✓ done (4.3s, 1200 in, 300 out tokens)\n",
    failed_line: "✗ error: Quota exceeded for quota metric generate_content_requests\n\
                  ✗ error (1.2s, 800 in, 100 out tokens)\n  \
                  Quota exceeded for quota metric generate_content_requests\n",
    failure: "gemini: error: Quota exceeded for quota metric generate_content_requests",
    model: Some("gemini-2.5-pro"),
    tokens: (1200, 300, 800),
    turns: None,
    resume: "--resume\n{s}\n-p\n",
};

/// A directory whose `bin/` holds the stand-in `name` (removed with it),
/// and a PATH that finds it first.
fn stand_in(name: &str) -> (tempfile::TempDir, String) {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents")
        .join(name);
    std::fs::copy(&script, bin.join(name)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (home, path)
}

/// A daemon whose PATH has the stand-in first, recording its arguments in
/// the returned directory.
fn with_agent(kind: &Kind) -> (Daemon, tempfile::TempDir) {
    let (home, path) = stand_in(kind.name);
    let mut args: Vec<&str> = FAST.to_vec();
    args.extend(["--max-concurrent", "4"]);
    let dir = home.path().display().to_string();
    let d = Daemon::start_env(&args, &[("PATH", &path), ("FAKE_AGENT_DIR", &dir)]);
    (d, home)
}

fn submit(d: &Daemon, args: &[&str]) -> String {
    let mut a = vec!["submit", "--json"];
    a.extend_from_slice(args);
    d.json(&a)["id"].as_str().unwrap().to_string()
}

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Live transcript, result fields, resume: one kind end to end.
fn runs_live_records_and_resumes(kind: &Kind) {
    let (d, home) = with_agent(kind);
    let gate = home.path().join("gate");
    let gate_env = format!("FAKE_AGENT_GATE={}", gate.display());
    let id = submit(
        &d,
        &["--agent", kind.name, "--env", &gate_env, "fix the parser"],
    );
    let mut follow = d
        .command()
        .args(["queue", "logs", "--follow", &id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = follow.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).ends_with(kind.live) {
        assert_eq!(
            stdout.read(&mut byte).unwrap(),
            1,
            "follower ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(byte[0]);
    }
    let live = String::from_utf8_lossy(&seen).into_owned();
    assert!(live.starts_with("● session "), "{live}");
    assert_eq!(d.status(&id), "running", "held at its gate");
    std::fs::write(&gate, b"").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(follow.wait().unwrap().success());
    assert_eq!(rest, kind.end, "{}: {rest}", kind.name);

    // The result on the work order: what the agent reported, nulls for
    // what it does not report.
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    let r = &wo["agentResult"];
    assert_eq!(r["agent"], kind.name, "{wo}");
    assert_eq!(
        r["model"],
        kind.model.map_or(Value::Null, Value::from),
        "{wo}"
    );
    assert_eq!(
        (
            &r["inputTokens"],
            &r["outputTokens"],
            &r["cachedInputTokens"]
        ),
        (
            &kind.tokens.0.into(),
            &kind.tokens.1.into(),
            &kind.tokens.2.into()
        ),
        "{wo}"
    );
    assert_eq!(
        r["costUsd"],
        Value::Null,
        "{} reports no dollars",
        kind.name
    );
    assert_eq!(r["turns"], kind.turns.map_or(Value::Null, Value::from));
    assert_eq!(r["isError"], false);
    assert_eq!(
        r["summary"],
        "Fixed the error path in src/parse.rs; all 12 tests pass."
    );
    let session = r["sessionId"].as_str().unwrap().to_string();
    // The same in list --json, and said in show.
    let list = d.json(&["queue", "list", "--json"]);
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id.as_str())
        .unwrap();
    assert_eq!(listed["agentResult"], *r);
    let shown = text(&d.run(&["queue", "show", &id]));
    assert!(
        shown.contains(&format!(
            "{} in, {} out tokens",
            kind.tokens.0, kind.tokens.1
        )),
        "{shown}"
    );

    // continue resumes its session with the new prompt.
    let next = d.json(&["queue", "continue", &id, "now add a test", "--json"]);
    let next = next["id"].as_str().unwrap().to_string();
    let wo = d.wait_terminal(&next, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    let args = std::fs::read_to_string(home.path().join(format!("{next}.args"))).unwrap();
    assert!(
        args.contains(&kind.resume.replace("{s}", &session)),
        "{}: {args}",
        kind.name
    );
    assert!(args.contains("now add a test\n"), "{args}");
    assert_eq!(wo["agentResult"]["sessionId"], session.as_str());
}

/// A line that is not an event is shown raw and counted, the run goes on;
/// an error event ends the run as failed with the agent's own message.
fn malformed_lines_and_errors(kind: &Kind) {
    let (d, _home) = with_agent(kind);
    let id = submit(
        &d,
        &["--agent", kind.name, "--env", "FAKE_AGENT_JUNK=1", "fix it"],
    );
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    let logs = text(&d.run(&["queue", "logs", &id]));
    let first = logs.lines().next().unwrap_or_default();
    assert!(
        !first.starts_with('{') && !first.starts_with('●'),
        "the raw line comes first: {logs}"
    );
    assert!(logs.contains("● session "), "{logs}");
    let detail = d.json(&["queue", "show", &id, "--json"]);
    assert_eq!(detail["runs"][0]["malformedLines"], 1, "{detail}");

    let bad = submit(
        &d,
        &[
            "--agent",
            kind.name,
            "--env",
            "FAKE_AGENT_END=error",
            "fix it",
        ],
    );
    let wo = d.wait_terminal(&bad, T);
    assert_eq!(wo["status"], "failed", "{wo}");
    let error = wo["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(kind.failure), "{}: {error}", kind.name);
    assert_eq!(wo["agentResult"]["isError"], true);
    let logs = text(&d.run(&["queue", "logs", &bad]));
    assert!(logs.ends_with(kind.failed_line), "{}: {logs}", kind.name);
    // wait says the agent's reason too.
    let o = d.run(&["queue", "wait", &bad]);
    assert_eq!(o.status.code(), Some(1));
    let said = format!("{}{}", text(&o), String::from_utf8_lossy(&o.stderr));
    assert!(said.contains(kind.failure), "{said}");
}

#[test]
fn codex_runs_live_records_its_result_and_resumes() {
    runs_live_records_and_resumes(&CODEX);
}

#[test]
fn gemini_runs_live_records_its_result_and_resumes() {
    runs_live_records_and_resumes(&GEMINI);
}

#[test]
fn codex_malformed_lines_and_a_failed_turn() {
    malformed_lines_and_errors(&CODEX);
}

#[test]
fn gemini_malformed_lines_and_an_error_result() {
    malformed_lines_and_errors(&GEMINI);
}

/// A custom agent type points at a known reader with `output = "..."`.
#[test]
fn a_custom_command_uses_a_known_reader() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/codex");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[agents.my-codex]\ncommand = [\"{}\", \"exec\", \"{{prompt}}\"]\noutput = \"codex-json\"\n",
            script.display()
        ),
    )
    .unwrap();
    let mut args: Vec<&str> = FAST.to_vec();
    let cfg = config.display().to_string();
    args.extend(["--config", &cfg]);
    let d = Daemon::start(&args);
    let id = submit(&d, &["--agent", "my-codex", "go"]);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["agentResult"]["agent"], "codex", "{wo}");
    assert_eq!(wo["agentResult"]["outputTokens"], 122, "{wo}");
    // --raw stays the stream byte for byte.
    let raw = text(&d.run(&["queue", "logs", "--raw", &id]));
    assert!(
        raw.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{raw}"
    );
    // `submit --help` lists it beside the built-in types.
    let help = d.run(&["--config", &cfg, "submit", "--help"]);
    let help = text(&help);
    assert!(help.contains("codex, gemini, my-codex, shell"), "{help}");
}

/// The WebSocket carries any kind's events as AgentGate's: text as
/// `agent_output`, each command as `agent_tool_call`/`agent_tool_result`.
#[test]
fn websocket_carries_codex_commands_and_text() {
    let (_home, path) = stand_in("codex");
    let d = Daemon::with_http(&["--no-auto-process"], &[("PATH", &path)]);
    let addr = common::web::http_addr(&d);
    let mut ws =
        common::web::Ws::connect(&addr, &format!("/ws?token={}", d.api_key()), &[]).unwrap();
    let id = submit(&d, &["--agent", "codex", "fix the parser"]);
    ws.send_json(serde_json::json!({"type": "subscribe", "workOrderId": id}));
    ws.wait_for(T, |m| m["type"] == "subscription_confirmed");
    assert!(d.run(&["queue", "start", &id]).status.success());
    let last = "Fixed the error path in src/parse.rs; all 12 tests pass.";
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + T;
    while let Some(m) = ws.next_json_until(deadline) {
        let t = m["type"].as_str().unwrap_or_default().to_string();
        if m["workOrderId"] != id.as_str() || !t.starts_with("agent_") {
            continue;
        }
        let end = t == "agent_output" && m["content"] == last;
        seen.push(m);
        if end {
            break;
        }
    }
    let kinds: Vec<&str> = seen.iter().filter_map(|m| m["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "agent_tool_call",
            "agent_tool_result",
            "agent_output",
            "agent_output"
        ],
        "{seen:?}"
    );
    assert_eq!(seen[0]["tool"], "Bash");
    assert_eq!(seen[0]["toolUseId"], "item_1");
    assert_eq!(seen[0]["input"]["command"], "bash -lc 'cargo test'");
    assert_eq!(seen[1]["toolUseId"], "item_1");
    assert_eq!(seen[1]["success"], false);
    assert_eq!(seen[2]["content"], "± src/parse.rs\n");
}

/// The run's Server-Sent Events carry the transcript for a structured kind,
/// as `queue logs` shows it.
#[test]
fn sse_carries_the_transcript() {
    let (_home, path) = stand_in("gemini");
    let d = Daemon::with_http(&[], &[("PATH", &path)]);
    let id = submit(&d, &["--agent", "gemini", "fix the parser"]);
    let wo = d.wait_terminal(&id, T);
    assert_eq!(wo["status"], "succeeded", "{wo}");
    let run = d.show(&id)["currentRunId"].as_str().unwrap().to_string();
    let addr = common::web::http_addr(&d);
    let key = d.api_key();
    let events = common::web::Sse::open(
        &addr,
        &format!("/api/v1/runs/{run}/stream"),
        &[("X-API-Key", key.as_str())],
    )
    .all();
    let text: String = events
        .iter()
        .filter(|e| e.event == "agent-output")
        .filter_map(|e| e.data["data"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        self::text(&d.run(&["queue", "logs", "--stdout", &id]))
    );
    assert!(text.contains("▸ run_shell_command  cargo test\n"), "{text}");
}
