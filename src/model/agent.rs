//! What a coding agent's work order carries beyond a command's: the agent's
//! own result (cost, turns, session), an isolated git worktree and what
//! changed in it.

use serde::{Deserialize, Serialize};

/// Longest summary kept from an agent's result text.
pub const SUMMARY_MAX_CHARS: usize = 2000;

/// The agent's result event (Claude's stream-json `result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentResult {
    pub cost_usd: Option<f64>,
    pub turns: Option<u32>,
    pub session_id: Option<String>,
    pub duration_ms: Option<u64>,
    pub is_error: bool,
    /// The result text, cut to `SUMMARY_MAX_CHARS`.
    pub summary: Option<String>,
}

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
