//! The git questions a supervisor asks about a worktree (after the run: what
//! changed against its base). Quick, local commands, run directly.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::model::Changes;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `repo` has a local branch `branch`.
pub fn branch_exists(repo: &Path, branch: &str) -> bool {
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
    )
    .is_some()
}

/// Commits on HEAD since `base`, the diff of the tracked files against
/// `base` (committed or not), and how many paths are left uncommitted. Read
/// only: the agent's index and working tree are the user's work.
pub fn changes(dir: &Path, base: &str) -> Option<Changes> {
    let commits = git(dir, &["rev-list", "--count", &format!("{base}..HEAD")])?
        .trim()
        .parse()
        .ok()?;
    let stat = git(dir, &["diff", "--shortstat", base])?;
    let status = git(dir, &["status", "--porcelain", "--untracked-files=all"])?;
    let mut c = parse_shortstat(&stat);
    c.commits = commits;
    c.uncommitted = status.lines().filter(|l| !l.trim().is_empty()).count() as u32;
    Some(c)
}

/// ` 2 files changed, 10 insertions(+), 3 deletions(-)`.
pub fn parse_shortstat(text: &str) -> Changes {
    let mut c = Changes::default();
    for part in text.split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        if what.starts_with("file") {
            c.files_changed = n;
        } else if what.starts_with("insertion") {
            c.insertions = n;
        } else if what.starts_with("deletion") {
            c.deletions = n;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortstat() {
        let c = parse_shortstat(" 2 files changed, 10 insertions(+), 3 deletions(-)\n");
        assert_eq!((c.files_changed, c.insertions, c.deletions), (2, 10, 3));
        let c = parse_shortstat(" 1 file changed, 1 deletion(-)");
        assert_eq!((c.files_changed, c.insertions, c.deletions), (1, 0, 1));
        assert_eq!(parse_shortstat(""), Changes::default());
    }
}
