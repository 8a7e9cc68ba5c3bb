//! Text for people that fits the terminal and cannot drive it: widths in
//! terminal columns (unicode-width, so CJK and emoji count double), control
//! characters from user data escaped (no `\e[31m` reaches the screen raw),
//! cells cut with `…`, and table columns shrunk or dropped by importance
//! when the terminal is narrow.

use std::borrow::Cow;
use std::io::IsTerminal;

use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Row, Table, presets};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Spaces between table columns.
pub const GAP: usize = 2;
/// The last (flexible) column is not squeezed below this while other
/// columns can still give way.
const FLEX_MIN: usize = 20;

/// Display width in terminal columns (of text already escaped).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// How escaped text shows a line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// `⏎`, and a tab as a space: the text stays on one line.
    OneLine,
    /// Kept as they are (multi-line fields of `queue show`).
    Keep,
}

/// Characters that reorder or hide text (bidirectional overrides and the
/// like): shown escaped so what is on screen is what is stored.
fn is_invisible_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// User data made safe to print: every control character is shown as an
/// escape (`\e`, `\x07`, `\u{202e}`), never sent to the terminal.
pub fn escape(s: &str, lines: Lines) -> Cow<'_, str> {
    let clean = s.chars().all(|c| {
        !(c.is_control() || is_invisible_control(c)) || (lines == Lines::Keep && c == '\n')
    });
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if lines == Lines::Keep => out.push('\n'),
            '\n' => out.push('⏎'),
            // CRLF is one line break.
            '\r' if chars.peek() == Some(&'\n') => {}
            '\t' if lines == Lines::OneLine => out.push(' '),
            '\t' => out.push('\t'),
            '\x1b' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || is_invisible_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One line of user data for a table cell or a one-line message.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape(s, Lines::OneLine)
}

/// At most `max` columns wide, ending in `…` when cut.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// The width of the terminal stdout goes to: `COLUMNS` if set, else the
/// terminal's own, else 80.
pub fn terminal_width() -> usize {
    width_of(libc::STDOUT_FILENO, std::io::stdout().is_terminal())
}

/// The same for stderr (progress lines).
pub fn stderr_width() -> usize {
    width_of(libc::STDERR_FILENO, std::io::stderr().is_terminal())
}

fn width_of(fd: libc::c_int, tty: bool) -> usize {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return cols;
    }
    if tty {
        // SAFETY: the descriptor (stdout or stderr) is open for the whole
        // process; it is only borrowed for the ioctl.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if let Some((terminal_size::Width(cols), _)) = terminal_size::terminal_size_of(fd)
            && cols > 0
        {
            return cols as usize;
        }
    }
    80
}

/// `label:  value` lines (`queue show`, `queue health`) fitted to the
/// terminal: a line too long is broken between words, its further lines
/// indented under the value (a hanging indent), never at column 0. Piped,
/// text is left as it is (for grep and scripts).
pub fn wrap_for_terminal(text: &str) -> String {
    if !std::io::stdout().is_terminal() {
        return text.to_string();
    }
    wrap(text, terminal_width())
}

fn wrap(text: &str, total: usize) -> String {
    let mut out = Vec::new();
    for line in text.split('\n') {
        if width(line) <= total {
            out.push(line.to_string());
            continue;
        }
        // The value starts after `label:` and its padding.
        let indent = line
            .find(':')
            .map(|c| c + 1 + line[c + 1..].len() - line[c + 1..].trim_start().len())
            .filter(|i| *i < total / 2)
            .unwrap_or(2);
        let mut current = String::new();
        for word in line.split(' ') {
            let room = total.saturating_sub(width(&current));
            let sep = usize::from(!current.trim().is_empty());
            if !current.trim().is_empty() && width(word) + sep > room {
                out.push(current.trim_end().to_string());
                current = " ".repeat(indent);
            } else if sep == 1 || (!current.is_empty() && !current.ends_with(' ')) {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push(current.trim_end().to_string());
    }
    out.join("\n")
}

/// A table column: escaped one-line cells, and how it gives way.
pub struct Column {
    pub header: &'static str,
    pub cells: Vec<String>,
    /// Columns with a lower `keep` are dropped first when space runs out.
    pub keep: u8,
    /// How narrow it may be cut (with `…`) before anything is dropped.
    pub min: Option<usize>,
    /// An SGR colour per cell (`"32"`), used only when colour is on.
    pub colors: Vec<Option<&'static str>>,
}

impl Column {
    pub fn new(header: &'static str, keep: u8, cells: Vec<String>) -> Column {
        Column {
            header,
            cells,
            keep,
            min: None,
            colors: vec![],
        }
    }

    pub fn shrinks_to(mut self, min: usize) -> Column {
        self.min = Some(min);
        self
    }

    pub fn colored(mut self, colors: Vec<Option<&'static str>>) -> Column {
        self.colors = colors;
        self
    }

    fn natural(&self) -> usize {
        self.cells
            .iter()
            .map(|c| width(c))
            .chain([width(self.header)])
            .max()
            .unwrap_or(0)
    }
}

/// How a table meets the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Every line at most this wide: narrow columns cut, then unimportant
    /// ones dropped; the last column takes what is left.
    Width(usize),
    /// No column cut but the last, which takes what is left of this width;
    /// when even so the lines would be wider, unimportant columns are
    /// dropped (whole) instead: a line never wraps.
    Wide(usize),
    /// Nothing cut; lines as long as their content.
    Natural,
}

/// Renders `columns` (the last one flexible) as lines, header first: which
/// columns stay and how wide is ours (`fit_width`, by importance); laying
/// them out, cutting cells to their width with `…` (by display width) and
/// colouring is comfy-table's.
pub fn render(columns: &[Column], fit: Fit, color: bool) -> Vec<String> {
    let n = columns.len();
    if n == 0 {
        return vec![];
    }
    let natural: Vec<usize> = columns.iter().map(Column::natural).collect();
    let (widths, active) = match fit {
        Fit::Natural => (natural.clone(), vec![true; n]),
        Fit::Wide(total) => fit_width(columns, &natural, total, false),
        Fit::Width(total) => fit_width(columns, &natural, total, true),
    };
    let shown: Vec<usize> = (0..n).filter(|i| active[*i] && widths[*i] > 0).collect();
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_truncation_indicator("…");
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let mut header = Row::from(shown.iter().map(|&i| Cell::new(columns[i].header)));
    header.max_height(1);
    table.set_header(header);
    for r in 0..columns[0].cells.len() {
        let mut row = Row::from(shown.iter().map(|&i| {
            let c = &columns[i];
            let cell = Cell::new(c.cells.get(r).map_or("", String::as_str));
            match c.colors.get(r).copied().flatten().and_then(sgr_color) {
                Some(fg) if color => cell.fg(fg),
                _ => cell,
            }
        }));
        row.max_height(1);
        table.add_row(row);
    }
    for (k, &i) in shown.iter().enumerate() {
        if let Some(col) = table.column_mut(k) {
            // A fixed width counts the padding (the gap) in.
            let gap = if k + 1 == shown.len() { 0 } else { GAP };
            col.set_padding((0, gap as u16));
            let w = u16::try_from(widths[i].max(1) + gap).unwrap_or(u16::MAX);
            col.set_constraint(ColumnConstraint::Absolute(comfy_table::Width::Fixed(w)));
        }
    }
    table.lines().map(|l| l.trim_end().to_string()).collect()
}

/// The table colours (SGR codes) the renderers use, as comfy-table's.
fn sgr_color(sgr: &str) -> Option<Color> {
    Some(match sgr {
        "31" => Color::DarkRed,
        "32" => Color::DarkGreen,
        "33" => Color::DarkYellow,
        "34" => Color::DarkBlue,
        "90" => Color::DarkGrey,
        _ => return None,
    })
}

/// Column widths (and which columns stay) for lines of at most `total`:
/// columns give way least important first, each cut to its minimum (if it
/// may be cut) and then dropped, until the last column has room.
/// With `cut` false no column but the last is cut: they are dropped whole.
fn fit_width(
    columns: &[Column],
    natural: &[usize],
    total: usize,
    cut: bool,
) -> (Vec<usize>, Vec<bool>) {
    let n = columns.len();
    let flex = n - 1;
    let want = natural[flex].min(FLEX_MIN) as isize;
    let mut w = natural.to_vec();
    let mut active = vec![true; n];
    let avail = |w: &[usize], active: &[bool]| -> isize {
        let fixed: usize = (0..flex).filter(|i| active[*i]).map(|i| w[i] + GAP).sum();
        total as isize - fixed as isize
    };
    let mut order: Vec<usize> = (0..flex).filter(|i| columns[*i].keep < u8::MAX).collect();
    order.sort_by_key(|i| columns[*i].keep);
    for i in order {
        let short = want - avail(&w, &active);
        if short <= 0 {
            break;
        }
        if let (true, Some(min)) = (cut, columns[i].min) {
            w[i] -= (short as usize).min(w[i].saturating_sub(min));
        }
        if avail(&w, &active) < want {
            active[i] = false;
        }
    }
    // Only the essential columns are left and still too wide: cut them
    // too, the widest first, so that every line fits.
    let mut over = want.min(1) - avail(&w, &active);
    while over > 0 {
        let Some(i) = (0..flex)
            .filter(|i| active[*i] && w[*i] > 1)
            .max_by_key(|i| w[*i])
        else {
            break;
        };
        w[i] -= 1;
        over -= 1;
    }
    w[flex] = natural[flex].min(avail(&w, &active).max(0) as usize);
    (w, active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_keeps_text() {
        assert_eq!(one_line("plain ünïcode 漢字 🚀"), "plain ünïcode 漢字 🚀");
        assert_eq!(one_line("red \x1b[31mtext"), "red \\e[31mtext");
        assert_eq!(one_line("a\nb\r\nc\td"), "a⏎b⏎c d");
        assert_eq!(one_line("bell\x07 del\x7f"), "bell\\x07 del\\x7f");
        assert_eq!(one_line("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(one_line("rtl \u{202e}evil"), "rtl \\u{202e}evil");
        assert_eq!(escape("two\nlines\x1b", Lines::Keep), "two\nlines\\e");
        assert_eq!(one_line("cr\ronly"), "cr\\ronly");
    }

    #[test]
    fn cuts_by_display_width() {
        assert_eq!(cut("hello", 5), "hello");
        assert_eq!(cut("hello world", 6), "hello…");
        assert_eq!(cut("漢字漢字", 5), "漢字…");
        assert_eq!(width(&cut("漢字漢字", 4)), 3);
        assert_eq!(cut("🚀🚀🚀", 4), "🚀…");
        assert_eq!(cut("abc", 0), "");
        assert_eq!(cut("abc", 1), "…");
    }

    fn table() -> Vec<Column> {
        vec![
            Column::new("ID", u8::MAX, vec!["abcDEF123456".into(); 2]),
            Column::new("STATUS", u8::MAX, vec!["succeeded".into(), "queued".into()]),
            Column::new("AGENT", 60, vec!["claude".into(), "shell".into()]).shrinks_to(6),
            Column::new("AGE", 40, vec!["3s".into(), "12m".into()]),
            Column::new("DURATION", 50, vec!["1.5h".into(), "-".into()]),
            Column::new(
                "REASON",
                70,
                vec!["".into(), "concurrency (2 of 2 running)".into()],
            )
            .shrinks_to(12),
            Column::new(
                "PROMPT",
                u8::MAX,
                vec!["漢字のテスト ".repeat(20), "🚀 launch ".repeat(30)],
            ),
        ]
    }

    #[test]
    fn every_line_fits_at_every_width() {
        for total in [20, 40, 60, 80, 120, 200] {
            let lines = render(&table(), Fit::Width(total), false);
            for l in &lines {
                assert!(width(l) <= total, "{total}: {l:?} is {} wide", width(l));
            }
            assert!(lines[0].starts_with("ID"), "{lines:?}");
        }
        // At 60 the less important columns made room for the prompt.
        let lines = render(&table(), Fit::Width(60), false);
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(header, ["ID", "STATUS", "REASON", "PROMPT"]);
        assert!(lines[0].ends_with("PROMPT"), "{lines:?}");
        // At 200 nothing is dropped or cut but the prompt.
        let lines = render(&table(), Fit::Width(200), false);
        assert!(
            lines[2].contains("concurrency (2 of 2 running)"),
            "{lines:?}"
        );
        assert!(lines[1].ends_with('…'), "{lines:?}");
    }

    #[test]
    fn wide_cuts_nothing_but_the_prompt_and_never_wraps() {
        for total in [60, 80, 200] {
            let lines = render(&table(), Fit::Wide(total), false);
            for l in &lines {
                assert!(width(l) <= total, "{total}: {l:?} is {} wide", width(l));
            }
            // What is shown is whole (the reason is not cut to fit).
            let shown = lines.join("\n");
            assert!(!shown.contains("concurrency (2 of 2…"), "{shown}");
        }
        let lines = render(&table(), Fit::Wide(200), false);
        assert!(
            lines[2].contains("concurrency (2 of 2 running)"),
            "{lines:?}"
        );
    }

    #[test]
    fn long_lines_wrap_between_words_under_their_value() {
        let text = "prompt:      fix the parser so that every error names its line and column\nid:          abc";
        let wrapped = wrap(text, 40);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 2, "{wrapped}");
        for l in &lines {
            assert!(width(l) <= 40, "{l:?}");
        }
        assert!(lines[0].starts_with("prompt:      fix"), "{wrapped}");
        // Further lines start under the value, never at column 0.
        assert!(
            lines[1].starts_with("             ") && !lines[1].starts_with("              "),
            "{wrapped}"
        );
        assert_eq!(lines.last(), Some(&"id:          abc"));
        // Words are whole.
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert!(words.contains(&"column"), "{wrapped}");
    }

    /// The text without its colour codes (`ESC [ ... m`).
    fn strip_sgr(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out.trim_end().to_string()
    }

    #[test]
    fn colour_codes_do_not_count_as_width() {
        let mut cols = table();
        cols[1] = Column::new("STATUS", u8::MAX, vec!["succeeded".into(), "queued".into()])
            .colored(vec![Some("32"), Some("34")]);
        let plain = render(&cols, Fit::Width(80), false);
        let colored = render(&cols, Fit::Width(80), true);
        assert!(colored[1].contains("\x1b["), "{colored:?}");
        for (p, c) in plain.iter().zip(&colored) {
            assert_eq!(&strip_sgr(c), p);
        }
    }
}
