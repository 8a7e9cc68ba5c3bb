//! Gemini CLI's headless mode, `gemini -p PROMPT --output-format
//! stream-json`: newline-delimited JSON events, as documented —
//!
//! - `init`: session metadata (`session_id`, `model`);
//! - `message`: user and assistant message chunks (`role`, `content`, and
//!   `delta: true` for a piece of a message still being written);
//! - `tool_use`: a tool call request (`tool_name`, `tool_id`, `parameters`);
//! - `tool_result`: a tool's output (`tool_id`, `status` success/error,
//!   `output`, `error.message`);
//! - `error`: non-fatal warnings and system errors (`severity`, `message`);
//! - `result`: the final outcome (`status` success/error, `error`, `stats`:
//!   `input_tokens`, `output_tokens`, `cached`, `duration_ms`, `tool_calls`).
//!
//! Gemini reports tokens, not dollars; sessions resume with `--resume ID`.

use serde_json::Value;

use super::event::{Event, Usage, text, tool_detail};
use crate::model::AgentResult;
use crate::model::agent::{SUMMARY_MAX_CHARS, cut};

/// One event line (an object with a `type`), understood.
pub fn parse(v: &Value) -> Vec<Event> {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "init" => vec![Event::Init {
            session_id: text(v, "session_id"),
            model: text(v, "model"),
        }],
        "message" if text(v, "role").as_deref() == Some("assistant") => vec![Event::Text {
            text: text(v, "content").unwrap_or_default(),
            delta: v.get("delta").and_then(Value::as_bool).unwrap_or(false),
        }],
        "tool_use" => {
            let input = v.get("parameters").cloned().unwrap_or(Value::Null);
            vec![Event::ToolUse {
                id: text(v, "tool_id"),
                name: text(v, "tool_name").unwrap_or_else(|| "tool".into()),
                detail: tool_detail(&input),
                input,
            }]
        }
        "tool_result" => {
            let error = text(v, "status").as_deref() == Some("error");
            let shown = match v.get("error").and_then(|e| text(e, "message")) {
                Some(m) if error => m,
                _ => text(v, "output").unwrap_or_default(),
            };
            vec![Event::tool_result(text(v, "tool_id"), &shown, error)]
        }
        "error" => vec![Event::Error {
            message: text(v, "message").unwrap_or_else(|| "error".into()),
            fatal: text(v, "severity").as_deref() == Some("error"),
        }],
        "result" => {
            let status = text(v, "status");
            let stats = v.get("stats");
            let mut r = AgentResult {
                agent: Some("gemini".into()),
                is_error: status.as_deref() != Some("success"),
                duration_ms: stats
                    .and_then(|s| s.get("duration_ms"))
                    .and_then(Value::as_u64),
                summary: v
                    .get("error")
                    .and_then(|e| text(e, "message"))
                    .map(|m| cut(m.trim(), SUMMARY_MAX_CHARS)),
                subtype: status,
                ..AgentResult::default()
            };
            if let Some(u) =
                stats.and_then(|s| Usage::from_fields(s, "input_tokens", "output_tokens", "cached"))
            {
                r.set_usage(u);
            }
            vec![Event::Result(r)]
        }
        // The user's own message, and kinds added later.
        _ => vec![Event::Other],
    }
}

#[cfg(test)]
mod tests {
    use crate::agent::{Format, Tally, Transcript};

    /// As `gemini -p ... --output-format stream-json` prints a run.
    const STREAM: &str = r#"{"type":"init","timestamp":"2026-12-05T10:00:00.000Z","session_id":"c2a5d0a4-3c1e-4e0b-9a51-7f0e6c0d2b11","model":"gemini-2.5-pro"}
{"type":"message","timestamp":"2026-12-05T10:00:00.010Z","role":"user","content":"fix the parser"}
{"type":"message","timestamp":"2026-12-05T10:00:01.000Z","role":"assistant","content":"I'll read ","delta":true}
{"type":"message","timestamp":"2026-12-05T10:00:01.100Z","role":"assistant","content":"the parser first.","delta":true}
{"type":"tool_use","timestamp":"2026-12-05T10:00:02.000Z","tool_name":"read_file","tool_id":"read_file-1","parameters":{"absolute_path":"/w/src/parse.rs"}}
{"type":"tool_result","timestamp":"2026-12-05T10:00:02.100Z","tool_id":"read_file-1","status":"success","output":"fn parse() {}\n"}
{"type":"tool_use","timestamp":"2026-12-05T10:00:03.000Z","tool_name":"run_shell_command","tool_id":"run_shell_command-2","parameters":{"command":"cargo test"}}
{"type":"tool_result","timestamp":"2026-12-05T10:00:04.000Z","tool_id":"run_shell_command-2","status":"error","error":{"type":"execution_failed","message":"exit code 101"}}
{"type":"error","timestamp":"2026-12-05T10:00:04.500Z","severity":"warning","message":"Loop detected, retrying"}
{"type":"message","timestamp":"2026-12-05T10:00:05.000Z","role":"assistant","content":"The parser is fixed.","delta":true}
{"type":"result","timestamp":"2026-12-05T10:00:06.000Z","status":"success","stats":{"total_tokens":1500,"input_tokens":1200,"output_tokens":300,"cached":800,"input":400,"duration_ms":6000,"tool_calls":2}}
"#;

    #[test]
    fn transcript_and_result() {
        let mut t = Transcript::new(Format::GeminiStreamJson);
        assert_eq!(
            t.feed(STREAM.as_bytes()) + &t.finish(),
            "● session c2a5d0a4-3c1e-4e0b-9a51-7f0e6c0d2b11 (gemini-2.5-pro)\n\
             I'll read the parser first.\n\
             ▸ read_file  /w/src/parse.rs\n  \
             ↳ fn parse() {}\n\
             ▸ run_shell_command  cargo test\n  \
             ✗ exit code 101\n\
             ! Loop detected, retrying\n\
             The parser is fixed.\n\
             ✓ done (6.0s, 1200 in, 300 out tokens)\n"
        );
        let mut tally = Tally::new(Format::GeminiStreamJson);
        tally.feed(STREAM.as_bytes());
        let r = tally.finish().0.expect("a result");
        assert_eq!(r.agent.as_deref(), Some("gemini"));
        assert_eq!(r.model.as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(
            r.session_id.as_deref(),
            Some("c2a5d0a4-3c1e-4e0b-9a51-7f0e6c0d2b11")
        );
        assert_eq!(
            (r.input_tokens, r.output_tokens, r.cached_input_tokens),
            (Some(1200), Some(300), Some(800))
        );
        assert_eq!(r.duration_ms, Some(6000));
        assert_eq!(r.cost_usd, None);
        assert_eq!(r.turns, None, "Gemini does not count turns");
        assert_eq!(r.summary.as_deref(), Some("The parser is fixed."));
        assert!(!r.is_error);
    }

    #[test]
    fn an_error_result_says_why() {
        let mut tally = Tally::new(Format::GeminiStreamJson);
        tally.feed(br#"{"type":"init","session_id":"s1","model":"m"}
{"type":"result","status":"error","error":{"type":"FatalTurnLimitedError","message":"Reached max session turns"},"stats":{"input_tokens":10,"output_tokens":2,"duration_ms":100,"tool_calls":0}}
"#);
        let r = tally.finish().0.expect("a result");
        assert!(r.is_error);
        assert_eq!(
            r.failure().as_deref(),
            Some("gemini: error: Reached max session turns")
        );
    }
}
