//! Claude Code's `--output-format stream-json`: one JSON event per line
//! (`system`/`init`, `assistant` messages with text and tool calls, `user`
//! messages with tool results, a final `result`). Parsed into events that
//! the transcript renders and the run records; a line that does not parse is
//! kept as it is, never an error.

use serde_json::Value;

use crate::model::AgentResult;
use crate::model::agent::{SUMMARY_MAX_CHARS, cut};

/// Longest tool argument shown on a tool-call line.
const DETAIL_MAX: usize = 120;
/// Longest tool result shown (its first line).
const RESULT_MAX: usize = 160;

/// One line of the stream, understood.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The session began.
    Init {
        session_id: Option<String>,
        model: Option<String>,
    },
    /// Assistant text.
    Text(String),
    /// A tool call: its name, the argument that says what it does, and (for
    /// event streams) its id and whole input.
    ToolUse {
        id: Option<String>,
        name: String,
        detail: String,
        input: Value,
    },
    /// A tool's result, shortened; `error` when the tool failed; `length`:
    /// of the whole result text.
    ToolResult {
        id: Option<String>,
        text: String,
        more_lines: usize,
        length: usize,
        error: bool,
    },
    /// The run's end, as the agent reports it.
    Result(AgentResult),
    /// A valid event of a kind the transcript does not show.
    Other,
}

/// How much of a log's start `session_in_log` reads: the `init` event is
/// its first event (after any output of Claude's start-up hooks).
const LOG_HEAD_BYTES: u64 = 64 * 1024;

/// The session an `init` event names near the start of a stream-json log:
/// for a run whose supervisor vanished before it recorded the run's end.
pub fn session_in_log(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(LOG_HEAD_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    String::from_utf8_lossy(&head).lines().find_map(|line| {
        parse_line(line)?.into_iter().find_map(|e| match e {
            Event::Init { session_id, .. } => session_id,
            _ => None,
        })
    })
}

/// Parses one line. `None`: not a stream-json event (shown raw, counted).
pub fn parse_line(line: &str) -> Option<Vec<Event>> {
    let v: Value = serde_json::from_str(line.trim()).ok()?;
    let kind = v.get("type")?.as_str()?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(match kind {
        "system" if v.get("subtype").and_then(Value::as_str) == Some("init") => {
            vec![Event::Init {
                session_id: text(&v, "session_id"),
                model: text(&v, "model"),
            }]
        }
        "assistant" => content(&v)
            .iter()
            .filter_map(|block| match block.get("type")?.as_str()? {
                "text" => Some(Event::Text(text(block, "text")?)),
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
        "user" => content(&v)
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            .map(|b| {
                let full = result_text(b.get("content").unwrap_or(&Value::Null));
                let mut lines = full.lines().filter(|l| !l.trim().is_empty());
                let first = lines.next().unwrap_or("").trim().to_string();
                Event::ToolResult {
                    id: text(b, "tool_use_id"),
                    text: cut(&first, RESULT_MAX),
                    more_lines: lines.count(),
                    length: full.chars().count(),
                    error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                }
            })
            .collect(),
        "result" => vec![Event::Result(AgentResult {
            cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
            turns: v
                .get("num_turns")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            session_id: text(&v, "session_id"),
            duration_ms: v.get("duration_ms").and_then(Value::as_u64),
            is_error: v.get("is_error").and_then(Value::as_bool).unwrap_or(false)
                || v.get("subtype")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s != "success"),
            // An error result carries no `result` text but may list `errors`.
            summary: text(&v, "result")
                .or_else(|| errors(&v))
                .map(|r| cut(r.trim(), SUMMARY_MAX_CHARS)),
            subtype: text(&v, "subtype"),
        })],
        _ => vec![Event::Other],
    })
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

/// The argument that says what a tool call does: a command, a path, a
/// pattern, a URL — else the input itself, compact.
fn tool_detail(input: &Value) -> String {
    for key in [
        "command",
        "file_path",
        "notebook_path",
        "path",
        "pattern",
        "url",
        "query",
        "description",
        "prompt",
    ] {
        if let Some(s) = input.get(key).and_then(Value::as_str) {
            return cut(&one_line(s), DETAIL_MAX);
        }
    }
    if let Some(todos) = input.get("todos").and_then(Value::as_array) {
        return format!("{} todos", todos.len());
    }
    match input {
        Value::Null => String::new(),
        other => cut(&other.to_string(), DETAIL_MAX),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The transcript lines of one event (each ends with a newline); `None` for
/// events not shown.
pub fn render(event: &Event) -> Option<String> {
    Some(match event {
        Event::Init { session_id, model } => format!(
            "● session {}{}\n",
            session_id.as_deref().unwrap_or("?"),
            model
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
        Event::Text(t) => {
            let t = t.trim_end();
            if t.is_empty() {
                return None;
            }
            format!("{t}\n")
        }
        Event::ToolUse { name, detail, .. } => format!("▸ {name}  {detail}\n"),
        Event::ToolResult {
            text,
            more_lines,
            error,
            ..
        } => {
            let more = if *more_lines > 0 {
                format!(" (+{more_lines} lines)")
            } else {
                String::new()
            };
            if *error {
                format!("  ✗ {text}{more}\n")
            } else {
                format!("  ↳ {text}{more}\n")
            }
        }
        Event::Result(r) => {
            let mut facts = Vec::new();
            if let Some(ms) = r.duration_ms {
                facts.push(format!("{:.1}s", ms as f64 / 1000.0));
            }
            if let Some(t) = r.turns {
                facts.push(format!("{t} turns"));
            }
            if let Some(c) = r.cost_usd {
                facts.push(format!("${c:.4}"));
            }
            // The agent's own reason for ending, when it was not success.
            let head = match r.subtype.as_deref().filter(|s| *s != "success") {
                Some(why) => format!("✗ {why}"),
                None if r.is_error => "✗ failed".into(),
                None => "✓ done".into(),
            };
            let mut out = format!("{head} ({})\n", facts.join(", "));
            if let Some(s) = &r.summary {
                for l in s.lines() {
                    out.push_str(&format!("  {l}\n"));
                }
            }
            out
        }
        Event::Other => return None,
    })
}

/// Renders a stream line by line as bytes arrive; a line cut in the middle
/// waits for the rest. Lines that are not events pass through unchanged.
#[derive(Default)]
pub struct Transcript {
    partial: Vec<u8>,
}

impl Transcript {
    /// The transcript of what arrived (whole lines only).
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        self.partial.extend_from_slice(bytes);
        let Some(last_nl) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return String::new();
        };
        let whole: Vec<u8> = self.partial.drain(..=last_nl).collect();
        let mut out = String::new();
        for line in whole.split(|&b| b == b'\n') {
            render_into(&mut out, line);
        }
        out
    }

    /// What is left at the end of the stream (a last line without newline).
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.partial);
        let mut out = String::new();
        render_into(&mut out, &rest);
        out
    }
}

fn render_into(out: &mut String, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    if text.trim().is_empty() {
        return;
    }
    match parse_line(&text) {
        Some(events) => {
            for e in &events {
                if let Some(r) = render(e) {
                    out.push_str(&r);
                }
            }
        }
        None => {
            out.push_str(text.trim_end_matches('\r'));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = r#"{"type":"system","subtype":"init","session_id":"sess-42","model":"claude-sonnet-4-5","tools":["Bash"]}
{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"I'll run the tests."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"cargo test","description":"Run tests"}}]},"session_id":"sess-42"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"running 3 tests\ntest a ... ok\ntest b ... ok","is_error":false}]}}
{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{"file_path":"src/main.rs","old_string":"a","new_string":"b"}}]}}
{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"permission denied"}],"is_error":true}]}}
{"type":"result","subtype":"success","is_error":false,"duration_ms":12345,"num_turns":5,"result":"Fixed it.","session_id":"sess-42","total_cost_usd":0.1234}
"#;

    #[test]
    fn transcript_of_a_stream() {
        let mut t = Transcript::default();
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
    fn broken_lines_pass_through_and_cut_lines_wait() {
        let mut t = Transcript::default();
        assert_eq!(t.feed(b"not json\n{\"type\":\"assis"), "not json\n");
        assert_eq!(
            t.feed(b"tant\",\"message\":{\"content\":\"hi\"}}\n"),
            "hi\n"
        );
        assert_eq!(t.feed(b"{\"truncated\": "), "");
        assert_eq!(t.finish(), "{\"truncated\": \n");
        assert!(parse_line("[1,2]").is_none());
        assert!(parse_line("{\"no\":\"type\"}").is_none());
    }
}
