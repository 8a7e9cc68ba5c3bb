//! A run's output as agent events — AgentGate's `agent_output`,
//! `agent_tool_call` and `agent_tool_result` — from the one log follower. A
//! structured stdout (any agent's events) is read line by line: assistant
//! text is output, each tool call and result an event of its own (a line that
//! does not parse is output as written); plain text output is output as it
//! comes. Doors (the WebSocket) pick what their subscribers asked for.

use std::collections::HashMap;

use serde_json::Value;

use super::follow::{LogItem, Utf8Pieces};
use super::logs::Stream;
use crate::agent::{Event, Format};
use crate::model::Timestamp;

/// Longest tool result preview carried by an event.
const PREVIEW_MAX: usize = 500;
/// A line longer than this without a newline is handed on as output as it is.
const LINE_MAX: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    Output {
        run_id: String,
        content: String,
        at: Timestamp,
    },
    ToolCall {
        run_id: String,
        tool_use_id: String,
        /// AgentGate's tool names: Read, Write, Edit, Bash, Grep, Glob,
        /// WebFetch, WebSearch, else Other.
        tool: &'static str,
        input: Value,
        at: Timestamp,
    },
    ToolResult {
        run_id: String,
        tool_use_id: String,
        success: bool,
        content_preview: String,
        content_length: usize,
        /// From the call's arrival to the result's (0 if the call was not seen).
        duration_ms: u64,
        at: Timestamp,
    },
}

/// Turns one work order's follower items into agent events.
#[derive(Debug, Default)]
pub struct AgentEvents {
    run_id: String,
    format: Format,
    /// Text output: bytes of a UTF-8 sequence cut between pieces.
    text: Utf8Pieces,
    /// Structured output: the line being written.
    line: Vec<u8>,
    /// Tool calls seen, by id: when they arrived (for a result's duration).
    calls: HashMap<String, i64>,
}

impl AgentEvents {
    pub fn feed(&mut self, item: &LogItem) -> Vec<AgentEvent> {
        match item {
            LogItem::Run {
                run_id,
                output_format,
            } => {
                *self = AgentEvents {
                    run_id: run_id.clone(),
                    format: Format::from_name(output_format.as_deref()),
                    ..AgentEvents::default()
                };
                Vec::new()
            }
            LogItem::Pieces { pieces, .. } => {
                let mut out = Vec::new();
                for p in pieces.iter().filter(|p| p.stream == Stream::Stdout) {
                    let at = p.at_ms.map_or_else(Timestamp::now, Timestamp);
                    if self.format.is_structured() {
                        self.lines(&p.bytes, at, &mut out);
                    } else {
                        let content = self.text.push(&p.bytes);
                        if !content.is_empty() {
                            out.push(self.output(content, at));
                        }
                    }
                }
                out
            }
            LogItem::CaughtUp => Vec::new(),
            LogItem::End(_) => {
                // A last line without its newline.
                let rest = std::mem::take(&mut self.line);
                let mut out = Vec::new();
                if !rest.is_empty() {
                    self.line_events(&rest, Timestamp::now(), &mut out);
                }
                out
            }
        }
    }

    fn output(&self, content: String, at: Timestamp) -> AgentEvent {
        AgentEvent::Output {
            run_id: self.run_id.clone(),
            content,
            at,
        }
    }

    fn lines(&mut self, bytes: &[u8], at: Timestamp, out: &mut Vec<AgentEvent>) {
        self.line.extend_from_slice(bytes);
        while let Some(nl) = self.line.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.line.drain(..=nl).collect();
            self.line_events(&line, at, out);
        }
        if self.line.len() > LINE_MAX {
            let line = std::mem::take(&mut self.line);
            let content = String::from_utf8_lossy(&line).into_owned();
            out.push(self.output(content, at));
        }
    }

    fn line_events(&mut self, line: &[u8], at: Timestamp, out: &mut Vec<AgentEvent>) {
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            return;
        }
        let Some(events) = self.format.parse_line(&text) else {
            // Not an event: shown as written.
            out.push(self.output(text.into_owned(), at));
            return;
        };
        for ev in events {
            match ev {
                Event::Text { text, .. } => out.push(self.output(text, at)),
                Event::ToolUse {
                    id, name, input, ..
                } => {
                    let tool_use_id = id.unwrap_or_default();
                    self.calls.insert(tool_use_id.clone(), at.0);
                    out.push(AgentEvent::ToolCall {
                        run_id: self.run_id.clone(),
                        tool_use_id,
                        tool: tool_name(&name),
                        input: match input {
                            Value::Object(_) => input,
                            Value::Null => Value::Object(Default::default()),
                            other => serde_json::json!({ "value": other }),
                        },
                        at,
                    });
                }
                Event::ToolResult {
                    id,
                    text,
                    length,
                    error,
                    ..
                } => {
                    let tool_use_id = id.unwrap_or_default();
                    let duration_ms = self
                        .calls
                        .remove(&tool_use_id)
                        .map_or(0, |called| (at.0 - called).max(0) as u64);
                    out.push(AgentEvent::ToolResult {
                        run_id: self.run_id.clone(),
                        tool_use_id,
                        success: !error,
                        content_preview: crate::model::agent::cut(&text, PREVIEW_MAX),
                        content_length: length,
                        duration_ms,
                        at,
                    });
                }
                // Shown as the transcript shows them.
                e @ (Event::FileChange { .. } | Event::Error { .. }) => {
                    if let Some(line) = crate::agent::event::render(&e) {
                        out.push(self.output(line, at));
                    }
                }
                Event::Init { .. }
                | Event::Reasoning(_)
                | Event::TurnEnd { .. }
                | Event::Result(_)
                | Event::Other => {}
            }
        }
    }
}

/// AgentGate's name for a tool of Claude Code, Codex CLI or Gemini CLI.
fn tool_name(name: &str) -> &'static str {
    match name {
        "Read" | "read_file" | "read_many_files" => "Read",
        "Write" | "write_file" => "Write",
        "Edit" | "MultiEdit" | "NotebookEdit" | "replace" => "Edit",
        "Bash" | "shell" | "run_shell_command" => "Bash",
        "Grep" | "search_file_content" | "grep" => "Grep",
        "Glob" | "glob" => "Glob",
        "WebFetch" | "web_fetch" => "WebFetch",
        "WebSearch" | "web_search" | "google_web_search" => "WebSearch",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::logs::Piece;

    fn piece(text: &str, at: i64) -> LogItem {
        LogItem::Pieces {
            run_id: "r1".into(),
            pieces: vec![Piece {
                stream: Stream::Stdout,
                bytes: text.as_bytes().to_vec(),
                at_ms: Some(at),
            }],
        }
    }

    #[test]
    fn stream_json_becomes_calls_results_and_output() {
        let mut a = AgentEvents::default();
        a.feed(&LogItem::Run {
            run_id: "r1".into(),
            output_format: Some("claude-stream-json".into()),
        });
        let call = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Running tests."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"cargo test"}}]}}"#;
        // A line cut between two pieces is read whole.
        let (head, tail) = call.split_at(40);
        assert!(a.feed(&piece(head, 1000)).is_empty());
        let evs = a.feed(&piece(&format!("{tail}\n"), 1000));
        assert_eq!(evs.len(), 2, "{evs:?}");
        assert!(
            matches!(&evs[0], AgentEvent::Output { content, .. } if content == "Running tests.")
        );
        assert!(
            matches!(&evs[1], AgentEvent::ToolCall { tool_use_id, tool: "Bash", input, .. } if tool_use_id == "t1" && input["command"] == "cargo test")
        );
        let result = r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok\nall passed","is_error":false}]}}"#;
        let evs = a.feed(&piece(&format!("{result}\nnot json\n"), 1250));
        assert_eq!(evs.len(), 2, "{evs:?}");
        assert!(matches!(
            &evs[0],
            AgentEvent::ToolResult {
                success: true,
                content_length: 13,
                duration_ms: 250,
                ..
            }
        ));
        assert!(matches!(&evs[1], AgentEvent::Output { content, .. } if content == "not json\n"));
    }

    #[test]
    fn text_output_is_output_whole_characters() {
        let mut a = AgentEvents::default();
        a.feed(&LogItem::Run {
            run_id: "r1".into(),
            output_format: None,
        });
        let bytes = "é\n".as_bytes();
        let half = |b: &[u8]| LogItem::Pieces {
            run_id: "r1".into(),
            pieces: vec![Piece {
                stream: Stream::Stdout,
                bytes: b.to_vec(),
                at_ms: None,
            }],
        };
        assert!(a.feed(&half(&bytes[..1])).is_empty());
        let evs = a.feed(&half(&bytes[1..]));
        assert!(matches!(&evs[0], AgentEvent::Output { content, .. } if content == "é\n"));
    }
}
