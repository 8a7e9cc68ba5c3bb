//! The transcript of a structured stdout, rendered line by line as bytes
//! arrive (`queue logs`, `logs --follow`).

use super::Format;
use super::event::{Event, render};

/// Renders a stream as it arrives; a line cut in the middle waits for the
/// rest. Lines that are not events pass through unchanged.
pub struct Transcript {
    format: Format,
    partial: Vec<u8>,
    /// The last thing written was a piece of a message, without its newline.
    open: bool,
}

impl Transcript {
    pub fn new(format: Format) -> Transcript {
        Transcript {
            format,
            partial: Vec::new(),
            open: false,
        }
    }

    /// The transcript of what arrived (whole lines only).
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        self.partial.extend_from_slice(bytes);
        let Some(last_nl) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return String::new();
        };
        let whole: Vec<u8> = self.partial.drain(..=last_nl).collect();
        let mut out = String::new();
        for line in whole.split(|&b| b == b'\n') {
            self.line(&mut out, line);
        }
        out
    }

    /// What is left at the end of the stream (a last line without newline).
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.partial);
        let mut out = String::new();
        self.line(&mut out, &rest);
        if self.open {
            out.push('\n');
            self.open = false;
        }
        out
    }

    fn line(&mut self, out: &mut String, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            return;
        }
        match self.format.parse_line(&text) {
            Some(events) => {
                for e in &events {
                    if let Some(r) = render(e) {
                        let piece = matches!(e, Event::Text { delta: true, .. });
                        self.write(out, &r, piece);
                    }
                }
            }
            None => {
                let raw = format!("{}\n", text.trim_end_matches('\r'));
                self.write(out, &raw, false);
            }
        }
    }

    /// Writes `r`; a piece of a message stays open for the next piece, and
    /// anything else starts on a line of its own.
    fn write(&mut self, out: &mut String, r: &str, piece: bool) {
        if self.open && !piece {
            out.push('\n');
        }
        out.push_str(r);
        self.open = piece && !r.ends_with('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_lines_pass_through_and_cut_lines_wait() {
        let mut t = Transcript::new(Format::ClaudeStreamJson);
        assert_eq!(t.feed(b"not json\n{\"type\":\"assis"), "not json\n");
        assert_eq!(
            t.feed(b"tant\",\"message\":{\"content\":\"hi\"}}\n"),
            "hi\n"
        );
        assert_eq!(t.feed(b"{\"truncated\": "), "");
        assert_eq!(t.finish(), "{\"truncated\": \n");
    }

    #[test]
    fn message_pieces_join_into_lines() {
        let mut t = Transcript::new(Format::GeminiStreamJson);
        let out = t.feed(
            concat!(
                r#"{"type":"message","role":"assistant","content":"Looking at ","delta":true}"#,
                "\n",
                r#"{"type":"message","role":"assistant","content":"the tests.","delta":true}"#,
                "\n",
                r#"{"type":"tool_use","tool_name":"run_shell_command","tool_id":"t1","parameters":{"command":"ls"}}"#,
                "\n",
                r#"{"type":"message","role":"assistant","content":"Done.","delta":true}"#,
                "\n"
            )
            .as_bytes(),
        );
        assert_eq!(
            out + &t.finish(),
            "Looking at the tests.\n▸ run_shell_command  ls\nDone.\n"
        );
    }
}
