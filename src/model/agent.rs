//! What a coding agent's work order carries beyond a command's: the agent's
//! own result (cost, turns, session), an isolated git worktree and what
//! changed in it.

use serde::{Deserialize, Serialize};

/// Longest summary kept from an agent's result text.
pub const SUMMARY_MAX_CHARS: usize = 2000;

/// What the agent reported about its run (Claude's `result` event, Codex's
/// turns, Gemini's `result` stats). A field the agent does not report is
/// null, never invented (Codex and Gemini report tokens, not dollars).
/// (Every field is always written: the RPC codec is not self-describing.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentResult {
    /// Which agent reported it: `claude`, `codex`, `gemini`.
    #[serde(default)]
    pub agent: Option<String>,
    /// The model the session used, as the agent named it.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// The part of the input tokens served from the provider's cache.
    #[serde(default)]
    pub cached_input_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub turns: Option<u32>,
    pub session_id: Option<String>,
    pub duration_ms: Option<u64>,
    pub is_error: bool,
    /// The result text (else its `errors`), cut to `SUMMARY_MAX_CHARS`.
    pub summary: Option<String>,
    /// How the agent says it ended: `success`, or why it stopped
    /// (`error_max_turns`, `error_during_execution`, `error_max_budget_usd`,
    /// ...). `None`: it reported no result (cut off by a time limit or a
    /// stop), only its session.
    #[serde(default)]
    pub subtype: Option<String>,
}

impl AgentResult {
    /// What is known of a run that never reported its result: its session
    /// (from the `init` event), so that `queue continue` can resume it.
    pub fn session_only(session_id: String) -> AgentResult {
        AgentResult {
            session_id: Some(session_id),
            ..AgentResult::default()
        }
    }

    /// The tokens it reported.
    pub fn usage(&self) -> crate::agent::Usage {
        crate::agent::Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cached_input_tokens: self.cached_input_tokens,
        }
    }

    pub fn set_usage(&mut self, u: crate::agent::Usage) {
        self.input_tokens = u.input_tokens;
        self.output_tokens = u.output_tokens;
        self.cached_input_tokens = u.cached_input_tokens;
    }

    /// The agent's own reason for ending badly, for people:
    /// `claude: error_max_turns after 3 turns`, with the first line of what
    /// it said when it said something. `None` when it reports success.
    pub fn failure(&self) -> Option<String> {
        let subtype = self.subtype.as_deref().filter(|s| *s != "success");
        if subtype.is_none() && !self.is_error {
            return None;
        }
        let mut why = format!(
            "{}: {}",
            self.agent.as_deref().unwrap_or("agent"),
            subtype.unwrap_or("error")
        );
        if let Some(t) = self.turns {
            why.push_str(&format!(" after {t} turn{}", if t == 1 { "" } else { "s" }));
        }
        if let Some(first) = self
            .summary
            .as_deref()
            .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
        {
            why.push_str(": ");
            why.push_str(&cut(first, FAILURE_LINE_MAX));
        }
        Some(why)
    }
}

/// Longest line of the agent's own words in a failure reason.
const FAILURE_LINE_MAX: usize = 200;

/// A work order's own git worktree (`submit --worktree`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Worktree {
    /// The repository it was made from (a local source).
    pub repo: String,
    /// `agentgate/<work-order-id>`: the user's work; kept by purge.
    pub branch: String,
    /// The commit it started from.
    pub base: String,
    /// `<root>/workspaces/<work-order-id>`.
    pub path: String,
    /// What changed against `base`, as of the last run's end.
    pub changes: Option<Changes>,
    /// The branch checked out in `repo` when it was made: where `queue
    /// merge` lands the work by default (`None`: a detached HEAD, or older
    /// data).
    #[serde(default)]
    pub from_branch: Option<String>,
    /// Each time its work was landed (`queue merge`), oldest first.
    #[serde(default)]
    pub merges: Vec<Merge>,
    /// `queue discard` removed the worktree and its branch.
    #[serde(default)]
    pub discarded: bool,
}

/// One landing of a worktree's work on a branch (`queue merge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Merge {
    /// The commit the target branch now points at.
    pub commit: String,
    /// The branch it landed on.
    pub into: String,
    pub squash: bool,
    /// The work order's branch head that was landed.
    pub source: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "crate::model::time::rfc3339")]
    pub at: crate::model::Timestamp,
}

/// What a run changed in a git workspace against its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    pub commits: u32,
    pub files_changed: u32,
    pub insertions: u32,
    pub deletions: u32,
    /// Paths left modified or untracked, not committed (as `git status`).
    #[serde(default)]
    pub uncommitted: u32,
}

impl Changes {
    /// For people: `1 commit, 2 files changed, +10 -3, 1 uncommitted`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} commit{}, {} file{} changed, +{} -{}",
            self.commits,
            if self.commits == 1 { "" } else { "s" },
            self.files_changed,
            if self.files_changed == 1 { "" } else { "s" },
            self.insertions,
            self.deletions
        );
        if self.uncommitted > 0 {
            text.push_str(&format!(", {} uncommitted", self.uncommitted));
        }
        text
    }
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}
