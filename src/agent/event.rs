//! The one event model every agent's output is read into, and how each
//! event is shown in the transcript (`queue logs`).

use serde_json::Value;

use crate::model::AgentResult;
use crate::model::agent::cut;

/// Longest tool argument shown on a tool-call line.
pub const DETAIL_MAX: usize = 120;
/// Longest tool result (its first line) or reasoning shown.
pub const RESULT_MAX: usize = 160;

/// Tokens an agent reported using (per turn, or for the whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// The part of the input served from the provider's cache.
    pub cached_input_tokens: Option<u64>,
}

impl Usage {
    pub fn from_fields(v: &Value, input: &str, output: &str, cached: &str) -> Option<Usage> {
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        let u = Usage {
            input_tokens: n(input),
            output_tokens: n(output),
            cached_input_tokens: n(cached),
        };
        (u != Usage::default()).then_some(u)
    }

    /// `120 in, 80 out tokens`; `None` when nothing was reported.
    pub fn describe(&self) -> Option<String> {
        match (self.input_tokens, self.output_tokens) {
            (None, None) => None,
            (i, o) => Some(format!(
                "{} in, {} out tokens",
                i.map_or("?".into(), |n| n.to_string()),
                o.map_or("?".into(), |n| n.to_string())
            )),
        }
    }
}

/// One thing an agent did or said.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The session began.
    Init {
        session_id: Option<String>,
        model: Option<String>,
    },
    /// Assistant text. `delta`: a piece of a message still being written
    /// (Gemini streams messages in pieces), joined with the pieces next to it.
    Text { text: String, delta: bool },
    /// The model's reasoning, as the agent summarises it.
    Reasoning(String),
    /// A tool call (a command, an edit, an MCP tool): its name, the argument
    /// that says what it does, its id and whole input.
    ToolUse {
        id: Option<String>,
        name: String,
        detail: String,
        input: Value,
    },
    /// A tool's result, shortened; `error` when the tool failed; `length`: of
    /// the whole result text.
    ToolResult {
        id: Option<String>,
        text: String,
        more_lines: usize,
        length: usize,
        error: bool,
    },
    /// A file the agent changed; `kind`: `add`, `delete` or `update`.
    FileChange { path: String, kind: String },
    /// A turn ended (agents that report turns rather than one final result:
    /// Codex); `error`: why it failed.
    TurnEnd {
        error: Option<String>,
        usage: Option<Usage>,
    },
    /// The run's end, as the agent reports it.
    Result(AgentResult),
    /// The agent reported an error; `fatal`: it ends the run.
    Error { message: String, fatal: bool },
    /// A valid event of a kind the transcript does not show.
    Other,
}

impl Event {
    /// Assistant text that is a whole message.
    pub fn text(text: impl Into<String>) -> Event {
        Event::Text {
            text: text.into(),
            delta: false,
        }
    }

    /// A tool result from its whole text.
    pub fn tool_result(id: Option<String>, full: &str, error: bool) -> Event {
        let mut lines = full.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().unwrap_or("").trim().to_string();
        Event::ToolResult {
            id,
            text: cut(&first, RESULT_MAX),
            more_lines: lines.count(),
            length: full.chars().count(),
            error,
        }
    }
}

/// The argument that says what a tool call does: a command, a path, a
/// pattern, a URL — else the input itself, compact.
pub fn tool_detail(input: &Value) -> String {
    for key in [
        "command",
        "file_path",
        "absolute_path",
        "notebook_path",
        "path",
        "dir_path",
        "pattern",
        "url",
        "query",
        "description",
        "prompt",
    ] {
        match input.get(key) {
            Some(Value::String(s)) => return cut(&one_line(s), DETAIL_MAX),
            // A command as an argument vector.
            Some(Value::Array(words)) if words.iter().all(Value::is_string) => {
                let joined: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
                return cut(&one_line(&joined.join(" ")), DETAIL_MAX);
            }
            _ => {}
        }
    }
    if let Some(todos) = input.get("todos").and_then(Value::as_array) {
        return format!("{} todos", todos.len());
    }
    match input {
        Value::Null => String::new(),
        Value::Object(o) if o.is_empty() => String::new(),
        other => cut(&other.to_string(), DETAIL_MAX),
    }
}

pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A string field of a JSON object.
pub fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// The transcript lines of one event (each ends with a newline, but for a
/// text piece, which ends where the agent's piece ends); `None` for events
/// not shown.
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
        Event::Text { text, delta: true } => {
            if text.is_empty() {
                return None;
            }
            text.clone()
        }
        Event::Text { text, delta: false } => {
            let t = text.trim_end();
            if t.is_empty() {
                return None;
            }
            format!("{t}\n")
        }
        Event::Reasoning(t) => {
            let t = one_line(t);
            if t.is_empty() {
                return None;
            }
            format!("∴ {}\n", cut(&t, RESULT_MAX))
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
        Event::FileChange { path, kind } => match kind.as_str() {
            "add" => format!("± {path} (new)\n"),
            "delete" => format!("± {path} (deleted)\n"),
            _ => format!("± {path}\n"),
        },
        Event::TurnEnd { error, usage } => {
            let facts = usage
                .and_then(|u| u.describe())
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            match error {
                Some(e) => format!("✗ turn failed{facts}\n  {}\n", one_line(e)),
                None => format!("✓ turn completed{facts}\n"),
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
            if let Some(u) = r.usage().describe() {
                facts.push(u);
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
            let mut out = if facts.is_empty() {
                format!("{head}\n")
            } else {
                format!("{head} ({})\n", facts.join(", "))
            };
            if let Some(s) = &r.summary {
                for l in s.lines() {
                    out.push_str(&format!("  {l}\n"));
                }
            }
            out
        }
        Event::Error { message, fatal } => {
            let m = one_line(message);
            if *fatal {
                format!("✗ error: {m}\n")
            } else {
                format!("! {m}\n")
            }
        }
        Event::Other => return None,
    })
}
