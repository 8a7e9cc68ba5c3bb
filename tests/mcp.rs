//! The MCP server driven by a real MCP client, the official Python SDK (`mcp`
//! on PyPI, in the venv `.ci/mcp-venv.sh` makes), against the real daemon:
//! over stdio (`agentgate mcp`) and over Streamable HTTP (`/mcp`), each in
//! the 2025 protocol (initialize, resources/subscribe) and the 2026 one
//! (discover, subscriptions/listen). The scripts in `tests/mcp/` check each
//! step; here the daemon is checked for what they did.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::web::{http_addr, request};
use common::{BIN, Daemon, stderr, stdout};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

/// A Python with the `mcp` SDK: `AGENTGATE_MCP_PYTHON`, else the venv of
/// `.ci/mcp-venv.sh`. `None` (the test says SKIPPED) when there is none.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("AGENTGATE_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mcp-venv/bin/python")
        });
    let ok = Command::new(&candidate)
        .args(["-c", "import mcp, httpx2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "SKIPPED: no Python with the MCP SDK at {} (run `bash .ci/mcp-venv.sh`, or set AGENTGATE_MCP_PYTHON)",
            candidate.display()
        );
        return None;
    }
    Some(candidate)
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/mcp")
        .join(name)
}

/// Runs a driver script with the daemon's socket, root and config in its
/// environment (which `agentgate mcp` inherits); its `MCP-RESULT` line.
fn drive(py: &PathBuf, d: &Daemon, args: &[&str], env: &[(&str, &str)]) -> (Value, Output) {
    let mut cmd = Command::new(py);
    cmd.args(args)
        .env("AGENTGATE_BIN", BIN)
        .env("AGENTGATE_ROOT", &d.root)
        .env("AGENTGATE_SOCKET", &d.socket)
        .env("AGENTGATE_CONFIG", d.dir.path().join("no-config.toml"))
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null());
    let _ = std::fs::write(d.dir.path().join("no-config.toml"), "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the MCP driver");
    let text = stdout(&out);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("MCP-RESULT ")) else {
        panic!(
            "{args:?} failed (exit {:?}):\nstdout:\n{text}\nstderr:\n{}\ndaemon log:\n{}",
            out.status.code(),
            stderr(&out),
            d.log_text()
        );
    };
    (serde_json::from_str(line).expect("result JSON"), out)
}

fn workdir(d: &Daemon, name: &str) -> String {
    let w = d.dir.path().join(name);
    std::fs::create_dir_all(&w).unwrap();
    w.to_string_lossy().into_owned()
}

/// What the drive script did, checked in the daemon: both work orders
/// succeeded, stamped with `mcp`, the client's name and its session.
fn check_drive(d: &Daemon, seen: &Value, protocol: &str) {
    assert_eq!(seen["protocol"], protocol, "{seen}");
    let ids: Vec<&str> = seen["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut sessions = Vec::new();
    for id in &ids {
        let wo = d.wait_terminal(id, T);
        assert_eq!(wo["status"], "succeeded", "{wo}");
        let labels: Vec<&str> = wo["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(labels.contains(&"mcp"), "{labels:?}");
        assert!(labels.contains(&"fanout-test"), "{labels:?}");
        sessions.push(
            labels
                .iter()
                .find(|l| l.starts_with("mcp-session:"))
                .map(|s| s.to_string())
                .expect("a session label"),
        );
    }
    assert_eq!(sessions[0], sessions[1], "one session submitted both");
    // The refusal is the CLI's own message.
    let cli = d.run(&["queue", "show", "NOSUCHWORKORDER"]);
    let cli_err = stderr(&cli);
    let msg = seen["unknown"].as_str().unwrap();
    assert!(
        cli_err.contains(msg),
        "CLI said {cli_err:?}, MCP said {msg:?}"
    );
    assert!(seen["progress"].as_u64().unwrap() >= 2, "{seen}");
}

#[test]
fn stdio_in_both_protocols() {
    let Some(py) = python() else { return };
    let d = Daemon::fast(&["--max-concurrent", "4"]);
    for (mode, protocol) in [("legacy", "2025-11-25"), ("auto", "2026-07-28")] {
        let w = workdir(&d, mode);
        let (seen, _) = drive(
            &py,
            &d,
            &[script("drive.py").to_str().unwrap(), "stdio", mode, &w],
            &[],
        );
        check_drive(&d, &seen, protocol);
        // Over stdio the workspace is the agent's working directory.
        let wo = d.show(seen["ids"][0].as_str().unwrap());
        assert_eq!(wo["workspaceSource"]["path"], w.as_str(), "{wo}");
    }
}

#[test]
fn streamable_http_in_both_protocols() {
    let Some(py) = python() else { return };
    let d = Daemon::with_http(&["--max-concurrent", "4"], &[]);
    let addr = http_addr(&d);
    let url = format!("http://{addr}/mcp");
    let key = d.api_key();
    // Behind the API key, as the rest of the API.
    let r = request(
        &addr,
        "POST",
        "/mcp",
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 401, "{}", r.text);
    for (mode, protocol) in [("legacy", "2025-11-25"), ("auto", "2026-07-28")] {
        let w = workdir(&d, mode);
        let (seen, _) = drive(
            &py,
            &d,
            &[script("drive.py").to_str().unwrap(), "http", mode, &w],
            &[("AGENTGATE_MCP_URL", &url), ("AGENTGATE_API_KEY", &key)],
        );
        check_drive(&d, &seen, protocol);
    }
    // The OpenAPI document tells of it.
    let doc = request(&addr, "GET", "/api/v1/openapi.json", &[], None).json();
    let about = doc["info"]["description"].as_str().unwrap();
    assert!(about.contains("/mcp"), "{about}");
}

#[test]
fn the_operators_limits_hold() {
    let Some(py) = python() else { return };
    let d = Daemon::fast(&["--max-concurrent", "4"]);
    let config = d.dir.path().join("mcp.toml");
    std::fs::write(
        &config,
        "[mcp]\nallow = [\"submit\", \"list\", \"kill\"]\nmax_active = 1\nlabels = [\"delegated\"]\n",
    )
    .unwrap();
    let w = workdir(&d, "limits");
    let (seen, _) = drive(
        &py,
        &d,
        &[script("limits.py").to_str().unwrap(), "limits", &w],
        &[("AGENTGATE_CONFIG", config.to_str().unwrap())],
    );
    let labels: Vec<&str> = seen["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"delegated") && labels.contains(&"limits"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"mcp"), "{labels:?}");
    let wo = d.wait_terminal(seen["id"].as_str().unwrap(), T);
    assert_ne!(wo["status"], "succeeded", "{wo}");
    // A bad [mcp] section is refused, naming the tools.
    std::fs::write(&config, "[mcp]\nallow = [\"rm\"]\n").unwrap();
    let out = d
        .command()
        .args(["mcp", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("mcp.allow"), "{}", stderr(&out));
}

#[test]
fn a_daemon_that_is_down_is_a_tool_error() {
    let Some(py) = python() else { return };
    let mut d = Daemon::fast(&[]);
    d.stop();
    let w = workdir(&d, "down");
    let (seen, _) = drive(
        &py,
        &d,
        &[script("limits.py").to_str().unwrap(), "down", &w],
        &[],
    );
    let msg = seen["down"].as_str().unwrap();
    let cli = stderr(&d.run(&["queue", "list"]));
    assert!(cli.contains(msg), "CLI said {cli:?}, MCP said {msg:?}");
}
