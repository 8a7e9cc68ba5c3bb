//! Claude Code's `--output-format stream-json` (with `--verbose`): one JSON
//! event per line — `system`/`init` (session id, model), `assistant`
//! messages whose content blocks are `text` and `tool_use`, `user` messages
//! carrying `tool_result` blocks, and a final `result` (`subtype`
//! `success` or why it stopped, `num_turns`, `total_cost_usd`, `usage`).

use serde_json::Value;

use super::event::{Event, Usage, text, tool_detail};
use crate::model::AgentResult;
use crate::model::agent::{SUMMARY_MAX_CHARS, cut};

/// One event line (an object with a `type`), understood.
pub fn parse(v: &Value) -> Vec<Event> {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "system" if v.get("subtype").and_then(Value::as_str) == Some("init") => {
            vec![Event::Init {
                session_id: text(v, "session_id"),
                model: text(v, "model"),
            }]
        }
        "assistant" => content(v)
            .iter()
            .filter_map(|block| match block.get("type")?.as_str()? {
                "text" => Some(Event::text(text(block, "text")?)),
                "thinking" => Some(Event::Reasoning(text(block, "thinking")?)),
                "tool_use" => {
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    Some(Event::ToolUse {
                        id: text(block, "id"),
                        name: text(block, "name").unwrap_or_else(|| "tool".into()),
                        detail: tool_detail(&input),
                        input,
                    })
                }
                _ => None,
            })
            .collect(),
        "user" => content(v)
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            .map(|b| {
                Event::tool_result(
                    text(b, "tool_use_id"),
                    &result_text(b.get("content").unwrap_or(&Value::Null)),
                    b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                )
            })
            .collect(),
        "result" => {
            let mut r = AgentResult {
                agent: Some("claude".into()),
                cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
                turns: v
                    .get("num_turns")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok()),
                session_id: text(v, "session_id"),
                duration_ms: v.get("duration_ms").and_then(Value::as_u64),
                is_error: v.get("is_error").and_then(Value::as_bool).unwrap_or(false)
                    || v.get("subtype")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s != "success"),
                // An error result carries no `result` text but may list `errors`.
                summary: text(v, "result")
                    .or_else(|| errors(v))
                    .map(|r| cut(r.trim(), SUMMARY_MAX_CHARS)),
                subtype: text(v, "subtype"),
                ..AgentResult::default()
            };
            if let Some(u) = v.get("usage").and_then(|u| {
                Usage::from_fields(
                    u,
                    "input_tokens",
                    "output_tokens",
                    "cache_read_input_tokens",
                )
            }) {
                r.set_usage(u);
            }
            vec![Event::Result(r)]
        }
        _ => vec![Event::Other],
    }
}

/// A result's `errors` (strings), one a line; `None` if there are none.
fn errors(v: &Value) -> Option<String> {
    let lines: Vec<&str> = v
        .get("errors")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter(|e| !e.trim().is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// `message.content` blocks (a plain string counts as one text block).
fn content(v: &Value) -> Vec<Value> {
    match v.get("message").and_then(|m| m.get("content")) {
        Some(Value::Array(blocks)) => blocks.clone(),
        Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
        _ => Vec::new(),
    }
}

/// A tool result's text: a string, or text blocks.
fn result_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::event::render;
    use crate::agent::{Format, Transcript};

    fn parse_line(line: &str) -> Option<Vec<Event>> {
        Format::ClaudeStreamJson.parse_line(line)
    }

    const STREAM: &str = r#"{"type":"system","subtype":"init","session_id":"sess-42","model":"claude-sonnet-4-5","tools":["Bash"]}
{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"I'll run the tests."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"cargo test","description":"Run tests"}}]},"session_id":"sess-42"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"running 3 tests\ntest a ... ok\ntest b ... ok","is_error":false}]}}
{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{"file_path":"src/main.rs","old_string":"a","new_string":"b"}}]}}
{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"permission denied"}],"is_error":true}]}}
{"type":"result","subtype":"success","is_error":false,"duration_ms":12345,"num_turns":5,"result":"Fixed it.","session_id":"sess-42","total_cost_usd":0.1234}
"#;

    #[test]
    fn transcript_of_a_stream() {
        let mut t = Transcript::new(Format::ClaudeStreamJson);
        let out = t.feed(STREAM.as_bytes()) + &t.finish();
        assert_eq!(
            out,
            "● session sess-42 (claude-sonnet-4-5)\n\
             I'll run the tests.\n\
             ▸ Bash  cargo test\n  \
             ↳ running 3 tests (+2 lines)\n\
             ▸ Edit  src/main.rs\n  \
             ✗ permission denied\n\
             ✓ done (12.3s, 5 turns, $0.1234)\n  \
             Fixed it.\n"
        );
    }

    #[test]
    fn result_is_recorded() {
        let line = STREAM.lines().last().unwrap();
        let Some(events) = parse_line(line) else {
            panic!("not parsed")
        };
        let Event::Result(r) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(r.cost_usd, Some(0.1234));
        assert_eq!(r.turns, Some(5));
        assert_eq!(r.session_id.as_deref(), Some("sess-42"));
        assert_eq!(r.duration_ms, Some(12345));
        assert!(!r.is_error);
        assert_eq!(r.summary.as_deref(), Some("Fixed it."));
        assert_eq!(r.subtype.as_deref(), Some("success"));
        assert_eq!(r.failure(), None);
    }

    #[test]
    fn an_error_result_says_why_the_agent_stopped() {
        let line = r#"{"type":"result","subtype":"error_max_turns","is_error":true,"duration_ms":2000,"num_turns":3,"session_id":"s","total_cost_usd":0.01}"#;
        let Some(events) = parse_line(line) else {
            panic!("not parsed")
        };
        let Event::Result(r) = &events[0] else {
            panic!("{events:?}")
        };
        assert!(r.is_error);
        assert_eq!(
            r.failure().as_deref(),
            Some("claude: error_max_turns after 3 turns")
        );
        assert_eq!(
            render(&events[0]).as_deref(),
            Some("✗ error_max_turns (2.0s, 3 turns, $0.0100)\n")
        );
        // `errors` stand in for the missing result text.
        let line = r#"{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1,"errors":["API Error: 529 overloaded",""]}"#;
        let Some(events) = parse_line(line) else {
            panic!("not parsed")
        };
        let Event::Result(r) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(
            r.failure().as_deref(),
            Some("claude: error_during_execution after 1 turn: API Error: 529 overloaded")
        );
    }

    #[test]
    fn lines_that_are_not_events() {
        assert!(parse_line("[1,2]").is_none());
        assert!(parse_line("{\"no\":\"type\"}").is_none());
        assert!(parse_line("not json").is_none());
    }
}
