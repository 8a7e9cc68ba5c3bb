//! OpenAI Codex CLI's non-interactive mode, `codex exec --json`: JSON Lines
//! on stdout, one event per line. The documented events:
//!
//! - `thread.started` with `thread_id` (the session `codex exec resume` takes);
//! - `turn.started`; `turn.completed` with `usage` (`input_tokens`,
//!   `cached_input_tokens`, `output_tokens`); `turn.failed` with
//!   `error.message`;
//! - `item.started` / `item.updated` / `item.completed` whose `item` has an
//!   `id` and a `type`: `agent_message` (`text`), `reasoning` (`text`),
//!   `command_execution` (`command`, `aggregated_output`, `exit_code`,
//!   `status`), `file_change` (`changes`: `path`, `kind` add/delete/update),
//!   `mcp_tool_call` (`server`, `tool`, `arguments`, `status`), `web_search`
//!   (`query`), `todo_list` (`items`), `error` (`message`);
//! - `error` with `message`: the stream itself failed.
//!
//! Codex reports tokens, not dollars, and no final result event: the run's
//! result comes from its turns (see `Tally`).

use serde_json::Value;

use super::event::{Event, Usage, text, tool_detail};

/// One event line (an object with a `type`), understood.
pub fn parse(v: &Value) -> Vec<Event> {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "thread.started" => vec![Event::Init {
            session_id: text(v, "thread_id"),
            model: text(v, "model"),
        }],
        "turn.completed" => vec![Event::TurnEnd {
            error: None,
            usage: usage(v),
        }],
        "turn.failed" => vec![Event::TurnEnd {
            error: Some(error_message(v).unwrap_or_else(|| "turn failed".into())),
            usage: usage(v),
        }],
        "error" => vec![Event::Error {
            message: text(v, "message").unwrap_or_else(|| "error".into()),
            fatal: true,
        }],
        "item.started" => v.get("item").map_or_else(Vec::new, started),
        "item.completed" => v.get("item").map_or_else(Vec::new, completed),
        // `turn.started`, `item.updated` and kinds added later.
        _ => vec![Event::Other],
    }
}

fn usage(v: &Value) -> Option<Usage> {
    Usage::from_fields(
        v.get("usage")?,
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
    )
}

fn error_message(v: &Value) -> Option<String> {
    match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        e => text(e, "message"),
    }
}

/// An item that began: a command or a tool call (shown when it starts, its
/// result when it completes).
fn started(item: &Value) -> Vec<Event> {
    match item.get("type").and_then(Value::as_str) {
        Some("command_execution") => vec![command_call(item)],
        Some("mcp_tool_call") => vec![mcp_call(item)],
        _ => vec![Event::Other],
    }
}

fn command_call(item: &Value) -> Event {
    Event::ToolUse {
        id: text(item, "id"),
        name: "shell".into(),
        detail: tool_detail(item),
        input: serde_json::json!({ "command": item.get("command").cloned().unwrap_or(Value::Null) }),
    }
}

fn mcp_call(item: &Value) -> Event {
    let input = item.get("arguments").cloned().unwrap_or(Value::Null);
    Event::ToolUse {
        id: text(item, "id"),
        name: match (text(item, "server"), text(item, "tool")) {
            (Some(s), Some(t)) => format!("{s}.{t}"),
            (None, Some(t)) => t,
            _ => "mcp".into(),
        },
        detail: tool_detail(&input),
        input,
    }
}

fn completed(item: &Value) -> Vec<Event> {
    let id = text(item, "id");
    let failed = item.get("status").and_then(Value::as_str) == Some("failed");
    match item.get("type").and_then(Value::as_str) {
        Some("agent_message") => vec![Event::text(text(item, "text").unwrap_or_default())],
        Some("reasoning") => vec![Event::Reasoning(text(item, "text").unwrap_or_default())],
        Some("command_execution") => {
            let code = item.get("exit_code").and_then(Value::as_i64);
            let output = text(item, "aggregated_output").unwrap_or_default();
            let shown = if output.trim().is_empty() {
                match code {
                    Some(c) => format!("exit {c}"),
                    None => String::new(),
                }
            } else {
                output
            };
            vec![Event::tool_result(
                id,
                &shown,
                failed || code.is_some_and(|c| c != 0),
            )]
        }
        Some("mcp_tool_call") => {
            let error = item.get("error").and_then(|e| match e {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                e => text(e, "message").or_else(|| Some(e.to_string())),
            });
            let shown = match (&error, item.get("result")) {
                (Some(e), _) => e.clone(),
                (None, Some(r)) => mcp_result_text(r),
                (None, None) => String::new(),
            };
            vec![Event::tool_result(id, &shown, failed || error.is_some())]
        }
        Some("file_change") => item
            .get("changes")
            .and_then(Value::as_array)
            .map(|changes| {
                changes
                    .iter()
                    .filter_map(|c| {
                        Some(Event::FileChange {
                            path: text(c, "path")?,
                            kind: text(c, "kind").unwrap_or_else(|| "update".into()),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Some("web_search") => vec![Event::ToolUse {
            id,
            name: "web_search".into(),
            detail: tool_detail(item),
            input: serde_json::json!({ "query": item.get("query").cloned().unwrap_or(Value::Null) }),
        }],
        Some("error") => vec![Event::Error {
            message: text(item, "message").unwrap_or_else(|| "error".into()),
            fatal: false,
        }],
        _ => vec![Event::Other],
    }
}

/// An MCP tool's result: its text content blocks, else the JSON.
fn mcp_result_text(r: &Value) -> String {
    let blocks = r.get("content").and_then(Value::as_array);
    match blocks {
        Some(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        None => r.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::agent::{Format, Tally, Transcript};

    /// As `codex exec --json` prints a run (the documented shapes).
    const STREAM: &str = r#"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Looking at the failing test**"}}
{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'cargo test'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'cargo test'","aggregated_output":"running 3 tests\ntest a ... FAILED\n","exit_code":101,"status":"failed"}}
{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"src/lib.rs","kind":"update"},{"path":"tests/new.rs","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Fixed the off-by-one in src/lib.rs."}}
{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}
"#;

    #[test]
    fn transcript_and_result() {
        let mut t = Transcript::new(Format::CodexJson);
        assert_eq!(
            t.feed(STREAM.as_bytes()) + &t.finish(),
            "● session 0199a213-81c0-7800-8aa1-bbab2a035a53\n\
             ∴ **Looking at the failing test**\n\
             ▸ shell  bash -lc 'cargo test'\n  \
             ✗ running 3 tests (+1 lines)\n\
             ± src/lib.rs\n\
             ± tests/new.rs (new)\n\
             Fixed the off-by-one in src/lib.rs.\n\
             ✓ turn completed (24763 in, 122 out tokens)\n"
        );
        let mut tally = Tally::new(Format::CodexJson);
        tally.feed(STREAM.as_bytes());
        let (r, malformed) = tally.finish();
        let r = r.expect("a result");
        assert_eq!(malformed, 0);
        assert_eq!(r.agent.as_deref(), Some("codex"));
        assert_eq!(
            r.session_id.as_deref(),
            Some("0199a213-81c0-7800-8aa1-bbab2a035a53")
        );
        assert_eq!(r.turns, Some(1));
        assert_eq!(r.input_tokens, Some(24763));
        assert_eq!(r.cached_input_tokens, Some(24448));
        assert_eq!(r.output_tokens, Some(122));
        assert_eq!(r.cost_usd, None, "Codex reports no dollars");
        assert!(!r.is_error);
        assert_eq!(
            r.summary.as_deref(),
            Some("Fixed the off-by-one in src/lib.rs.")
        );
        assert_eq!(r.failure(), None);
    }

    #[test]
    fn a_failed_turn_is_the_agents_reason() {
        let mut tally = Tally::new(Format::CodexJson);
        tally.feed(
            b"{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n\
              {\"type\":\"turn.failed\",\"error\":{\"message\":\"stream disconnected before completion\"}}\n",
        );
        let r = tally.finish().0.expect("a result");
        assert!(r.is_error);
        assert_eq!(
            r.failure().as_deref(),
            Some("codex: turn.failed after 1 turn: stream disconnected before completion")
        );
        let mut tally = Tally::new(Format::CodexJson);
        tally.feed(
            b"{\"type\":\"error\",\"message\":\"unexpected status 401 Unauthorized\"}\nnot json\n",
        );
        let (r, malformed) = tally.finish();
        assert_eq!(malformed, 1);
        assert_eq!(
            r.expect("a result").failure().as_deref(),
            Some("codex: error: unexpected status 401 Unauthorized")
        );
    }
}
