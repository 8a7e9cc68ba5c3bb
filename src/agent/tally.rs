//! What a run's structured stdout says about the run, gathered as it passes:
//! its session, model, tokens, how it ended and its last words — the
//! work order's `agentResult`.

use super::Format;
use super::event::{Event, Usage};
use crate::model::AgentResult;
use crate::model::agent::{SUMMARY_MAX_CHARS, cut};

/// Reads a structured stdout line by line into the agent's result.
pub struct Tally {
    format: Format,
    partial: Vec<u8>,
    session: Option<String>,
    model: Option<String>,
    /// The final result event (Claude, Gemini).
    result: Option<AgentResult>,
    /// Turns that ended, with their usage summed (Codex).
    turns: u32,
    usage: Usage,
    failed_turn: Option<String>,
    fatal: Option<String>,
    /// The last assistant message (pieces joined).
    last_text: String,
    in_piece: bool,
    /// Lines that were not events of the format.
    pub malformed: u64,
}

impl Tally {
    pub fn new(format: Format) -> Tally {
        Tally {
            format,
            partial: Vec::new(),
            session: None,
            model: None,
            result: None,
            turns: 0,
            usage: Usage::default(),
            failed_turn: None,
            fatal: None,
            last_text: String::new(),
            in_piece: false,
            malformed: 0,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            self.line(&line);
        }
    }

    fn line(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            return;
        }
        match self.format.parse_line(&text) {
            Some(events) => events.into_iter().for_each(|e| self.event(e)),
            None => self.malformed += 1,
        }
    }

    pub fn event(&mut self, e: Event) {
        let piece = matches!(e, Event::Text { delta: true, .. });
        match e {
            Event::Init { session_id, model } => {
                if session_id.is_some() {
                    self.session = session_id;
                }
                if model.is_some() {
                    self.model = model;
                }
            }
            Event::Text { text, delta } => {
                if delta && self.in_piece {
                    self.last_text.push_str(&text);
                } else {
                    self.last_text = text;
                }
            }
            Event::TurnEnd { error, usage } => {
                self.turns += 1;
                if let Some(u) = usage {
                    add(&mut self.usage.input_tokens, u.input_tokens);
                    add(&mut self.usage.output_tokens, u.output_tokens);
                    add(&mut self.usage.cached_input_tokens, u.cached_input_tokens);
                }
                self.failed_turn = error;
            }
            Event::Result(r) => self.result = Some(r),
            Event::Error {
                message,
                fatal: true,
            } => self.fatal = Some(message),
            _ => {}
        }
        self.in_piece = piece;
    }

    /// The agent's result: what it reported, with what the stream said
    /// before (session, model, last words). `None` when it said nothing.
    /// Also the count of lines that were not events.
    pub fn finish(&mut self) -> (Option<AgentResult>, u64) {
        let rest = std::mem::take(&mut self.partial);
        self.line(&rest);
        let last_words = {
            let t = self.last_text.trim();
            (!t.is_empty()).then(|| cut(t, SUMMARY_MAX_CHARS))
        };
        let mut r = if let Some(mut r) = self.result.take() {
            if r.summary.is_none() && !r.is_error {
                r.summary = last_words;
            }
            if r.usage() == Usage::default() {
                r.set_usage(self.usage);
            }
            r
        } else if self.turns > 0 || self.fatal.is_some() {
            // Codex reports turns, not a final result: its last turn's end
            // (or a fatal error) is how the run ended.
            let error = self.failed_turn.clone().or_else(|| self.fatal.clone());
            let mut r = AgentResult {
                turns: (self.turns > 0).then_some(self.turns),
                is_error: error.is_some(),
                subtype: Some(
                    match (&self.failed_turn, &self.fatal) {
                        (Some(_), _) => "turn.failed",
                        (None, Some(_)) => "error",
                        (None, None) => "success",
                    }
                    .to_string(),
                ),
                summary: error
                    .map(|e| cut(e.trim(), SUMMARY_MAX_CHARS))
                    .or(last_words),
                ..AgentResult::default()
            };
            r.set_usage(self.usage);
            r
        } else if let Some(s) = &self.session {
            AgentResult::session_only(s.clone())
        } else {
            return (None, self.malformed);
        };
        r.agent = self.format.agent().map(str::to_string);
        if r.session_id.is_none() {
            r.session_id = self.session.clone();
        }
        if r.model.is_none() {
            r.model = self.model.clone();
        }
        (Some(r), self.malformed)
    }
}

fn add(sum: &mut Option<u64>, n: Option<u64>) {
    if let Some(n) = n {
        *sum = Some(sum.unwrap_or(0) + n);
    }
}
