//! Understanding what coding agents print. Each kind of agent has a reader
//! for its structured output (Claude Code's stream-json, Codex CLI's
//! `exec --json`, Gemini CLI's stream-json) that turns one line into events
//! of one model ([`Event`]); the transcript, the WebSocket/SSE events and
//! the run's recorded result ([`Tally`]) are built from those events only,
//! so every kind is shown and recorded the same way.
//!
//! Adding a kind: a module with `parse(&Value) -> Vec<Event>` for one JSON
//! line, a [`Format`] variant naming it, and a built-in agent type in
//! `config::agents` (command line, resume command).

pub mod claude;
pub mod codex;
pub mod event;
pub mod gemini;
pub mod login;
pub mod tally;
pub mod transcript;

use serde::Deserialize;
use serde_json::Value;

pub use event::{Event, Usage};
pub use tally::Tally;
pub use transcript::Transcript;

/// How an agent's stdout is read (`output = "..."` of an agent type).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Plain text, shown as written.
    #[default]
    Text,
    /// Claude Code's `--output-format stream-json`.
    ClaudeStreamJson,
    /// OpenAI Codex CLI's `codex exec --json` (JSON Lines).
    CodexJson,
    /// Gemini CLI's `--output-format stream-json`.
    GeminiStreamJson,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Text,
        Format::ClaudeStreamJson,
        Format::CodexJson,
        Format::GeminiStreamJson,
    ];

    /// The name in config files and on runs (`output_format`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::ClaudeStreamJson => "claude-stream-json",
            Format::CodexJson => "codex-json",
            Format::GeminiStreamJson => "gemini-stream-json",
        }
    }

    /// The format a run recorded; `None` (plain text) for unknown names, so a
    /// newer daemon's run is shown raw rather than misread.
    pub fn from_name(name: Option<&str>) -> Format {
        Format::ALL
            .into_iter()
            .find(|f| Some(f.as_str()) == name)
            .unwrap_or(Format::Text)
    }

    /// Whether stdout is events (rendered as a transcript) rather than text.
    pub fn is_structured(self) -> bool {
        self != Format::Text
    }

    /// The agent this format belongs to, as results name it.
    pub fn agent(self) -> Option<&'static str> {
        match self {
            Format::Text => None,
            Format::ClaudeStreamJson => Some("claude"),
            Format::CodexJson => Some("codex"),
            Format::GeminiStreamJson => Some("gemini"),
        }
    }

    /// One line, understood. `None`: not an event of this format (shown raw
    /// and counted as malformed; never an error).
    pub fn parse_line(self, line: &str) -> Option<Vec<Event>> {
        let v: Value = serde_json::from_str(line.trim()).ok()?;
        v.get("type")?.as_str()?;
        Some(match self {
            Format::Text => return None,
            Format::ClaudeStreamJson => claude::parse(&v),
            Format::CodexJson => codex::parse(&v),
            Format::GeminiStreamJson => gemini::parse(&v),
        })
    }
}

/// How much of a log's start `session_in_log` reads: the session event is
/// the first event (after any output of the agent's start-up hooks).
const LOG_HEAD_BYTES: u64 = 64 * 1024;

/// The session named near the start of a structured log: for a run whose
/// supervisor vanished before it recorded the run's end.
pub fn session_in_log(format: Format, path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    if !format.is_structured() {
        return None;
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(LOG_HEAD_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    String::from_utf8_lossy(&head).lines().find_map(|line| {
        format.parse_line(line)?.into_iter().find_map(|e| match e {
            Event::Init { session_id, .. } => session_id,
            _ => None,
        })
    })
}
