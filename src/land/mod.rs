//! Reviewing and landing a work order's worktree with git: its diff against
//! the commit it started from (commits, uncommitted and untracked changes),
//! merging it into a branch without ever half-applying anything, and
//! discarding it. Blocking code: the queue runs it off its own thread.
//!
//! The work tree's state is read through a private index file (`git add -A`
//! into a temporary index, `write-tree`), so neither reading a diff nor a
//! refused merge changes anything the agent or the user sees. A merge is
//! computed with `git merge-tree --write-tree` (no working tree) and applied
//! only when it is clean: as a ref update when the target branch is checked
//! out nowhere, else as a fast-forward of that checkout to the new commit
//! (refused when its uncommitted changes touch a file the merge changes).

mod git;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{Merge, Timestamp, Worktree};
use git::Git;
pub use git::LandError;

/// Largest diff text handed to a client (a frame must hold it).
pub const DIFF_MAX_BYTES: usize = 8 * 1024 * 1024;

/// What `queue diff` shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffView {
    #[default]
    Patch,
    Stat,
    NameOnly,
}

/// One file of a diff's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileStat {
    pub path: String,
    /// `None` for a binary file.
    pub insertions: Option<u64>,
    pub deletions: Option<u64>,
}

/// A diff's summary (`GET .../diff?stat=true`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffStat {
    pub files: Vec<FileStat>,
    pub insertions: u64,
    pub deletions: u64,
}

/// The tree of the worktree as it stands (tracked and untracked files, as
/// `git add -A` would take them), written through a private index.
fn current_tree(g: &Git) -> Result<String, LandError> {
    let index = g.private_index()?;
    let env = [("GIT_INDEX_FILE", index.path())];
    g.run_env(&["read-tree", "HEAD"], &env)?;
    g.run_env(&["add", "-A"], &env)?;
    g.run_env(&["write-tree"], &env)
}

fn usable(w: &Worktree) -> Result<Git, LandError> {
    if w.discarded {
        return Err(LandError::Refused(format!(
            "its worktree was discarded (branch {} deleted)",
            w.branch
        )));
    }
    if !Path::new(&w.path).is_dir() {
        return Err(LandError::Refused(format!(
            "its worktree {} is gone (purged?)",
            w.path
        )));
    }
    Ok(Git::new(&w.path))
}

/// The worktree's changes against its base, as git shows them.
pub fn diff(w: &Worktree, view: DiffView, color: bool) -> Result<Vec<u8>, LandError> {
    let g = usable(w)?;
    let tree = current_tree(&g)?;
    let color = if color {
        "--color=always"
    } else {
        "--color=never"
    };
    let mut args = vec!["diff", color, "--no-ext-diff"];
    match view {
        DiffView::Patch => {}
        DiffView::Stat => args.push("--stat"),
        DiffView::NameOnly => args.push("--name-only"),
    }
    args.extend([w.base.as_str(), tree.as_str()]);
    let mut out = g.bytes(&args)?;
    if out.len() > DIFF_MAX_BYTES {
        out.truncate(DIFF_MAX_BYTES);
        out.extend_from_slice(
            format!(
                "\n[diff cut at {} MiB: see `git -C {} diff {}` for all of it]\n",
                DIFF_MAX_BYTES >> 20,
                w.path,
                w.base
            )
            .as_bytes(),
        );
    }
    Ok(out)
}

/// The worktree's changes against its base, summed per file.
pub fn stat(w: &Worktree) -> Result<DiffStat, LandError> {
    let g = usable(w)?;
    let tree = current_tree(&g)?;
    let text = g.run(&["diff", "--numstat", "--no-renames", &w.base, &tree])?;
    let mut s = DiffStat::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(ins), Some(del), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (ins, del) = (ins.parse::<u64>().ok(), del.parse::<u64>().ok());
        s.insertions += ins.unwrap_or(0);
        s.deletions += del.unwrap_or(0);
        s.files.push(FileStat {
            path: path.to_string(),
            insertions: ins,
            deletions: del,
        });
    }
    Ok(s)
}

/// What to land and how.
#[derive(Debug, Clone)]
pub struct MergePlan {
    pub id: String,
    /// The prompt's first line, for commit messages.
    pub title: String,
    pub squash: bool,
    pub message: Option<String>,
    /// The target branch (`None`: the branch the worktree was made from).
    pub into: Option<String>,
}

/// Lands the worktree's work on its target branch, or changes nothing.
pub fn merge(w: &Worktree, plan: &MergePlan) -> Result<Merge, LandError> {
    let g = usable(w)?;
    let repo = Git::new(&w.repo);
    let into = match plan.into.clone().or_else(|| w.from_branch.clone()) {
        Some(b) => b,
        None => {
            return Err(LandError::Refused(
                "the worktree was made from a detached HEAD: say where to land it with --into BRANCH (e.g. --into main)"
                    .to_string(),
            ));
        }
    };
    if into == w.branch {
        return Err(LandError::Refused(format!(
            "{into} is the work order's own branch: land it on another (--into BRANCH)"
        )));
    }
    let target_ref = format!("refs/heads/{into}");
    let target = repo
        .run(&[
            "rev-parse",
            "--verify",
            "-q",
            &format!("{target_ref}^{{commit}}"),
        ])
        .map_err(|_| LandError::Refused(format!("there is no branch {into} in {}", w.repo)))?;
    // What the agent left uncommitted becomes a commit on its branch — made
    // now as an object only; the branch moves to it once the merge is sure.
    let (head, source) = with_leftovers(&g, w, &plan.id, &plan.title)?;

    // After a squash into the same branch, what was squashed is there
    // already (by content, not history): it is the base of the next merge,
    // so that only the new work lands.
    let squashed = w
        .merges
        .iter()
        .rev()
        .find(|m| m.into == into)
        .filter(|m| m.squash)
        .map(|m| m.source.clone());
    let squashed = match squashed {
        Some(s) if repo.is_ancestor(&s, &source)? => Some(s),
        _ => None,
    };
    if squashed.as_deref() == Some(source.as_str()) || repo.is_ancestor(&source, &target)? {
        return Err(LandError::Refused(format!(
            "nothing to merge: {} holds no change that {into} does not have",
            w.branch
        )));
    }
    // The merge, computed without any working tree.
    let (merged_tree, conflicts) = repo.merge_tree(&target, &source, squashed.as_deref())?;
    if !conflicts.is_empty() {
        return Err(LandError::Refused(format!(
            "merging {} into {into} conflicts in {}; nothing was changed. Resolve it with `agentgate queue continue {} 'rebase onto {into} and resolve the conflicts'`, or merge the branch by hand (git merge {})",
            w.branch,
            conflicts.join(", "),
            plan.id,
            w.branch
        )));
    }
    let fast_forward = !plan.squash && repo.is_ancestor(&target, &source)?;
    let commit = if fast_forward {
        source.clone()
    } else if plan.squash {
        let msg = plan
            .message
            .clone()
            .unwrap_or_else(|| format!("{} (agentgate {})", plan.title, plan.id));
        repo.commit_tree(&merged_tree, &[&target], &msg)?
    } else {
        let msg = plan.message.clone().unwrap_or_else(|| {
            format!(
                "Merge {} into {into}\n\n{} (agentgate {})",
                w.branch, plan.title, plan.id
            )
        });
        repo.commit_tree(&merged_tree, &[&target, &source], &msg)?
    };

    // Apply: where the target is checked out, its checkout moves with it.
    match repo.checkout_of(&target_ref)? {
        None => {
            repo.run(&[
                "update-ref",
                "-m",
                "agentgate merge",
                &target_ref,
                &commit,
                &target,
            ])?;
        }
        Some(dir) => {
            let user = Git::new(&dir);
            let touched: Vec<String> = repo
                .run(&["diff", "--name-only", "--no-renames", &target, &commit])?
                .lines()
                .map(str::to_string)
                .collect();
            let dirty = user.dirty_paths()?;
            let both: Vec<&String> = touched
                .iter()
                .filter(|p| dirty.contains(p.as_str()))
                .collect();
            if !both.is_empty() {
                return Err(LandError::Refused(format!(
                    "{into} is checked out in {dir} with uncommitted changes to files this merge changes: {}; nothing was changed. Commit or stash them, then merge again",
                    both.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            user.run(&["merge", "--ff-only", "-q", &commit])?;
        }
    }
    // The agent's uncommitted work is now on its branch for good.
    advance_branch(&g, w, &head, &source)?;
    Ok(Merge {
        commit,
        into,
        squash: plan.squash,
        source,
        at: Timestamp::now(),
    })
}

/// Removes the worktree and deletes its branch; refused while the branch
/// holds work that is not landed, unless `force`.
pub fn discard(w: &Worktree, force: bool) -> Result<(), LandError> {
    if w.discarded {
        return Ok(());
    }
    let repo = Git::new(&w.repo);
    let branch_ref = format!("refs/heads/{}", w.branch);
    if !force && Path::new(&w.path).is_dir() {
        let g = Git::new(&w.path);
        let head = g.run(&["rev-parse", "--verify", &format!("{branch_ref}^{{commit}}")])?;
        let uncommitted =
            current_tree(&g)? != g.run(&["rev-parse", &format!("{head}^{{tree}}")])?;
        let landed = w.merges.iter().any(|m| m.source == head)
            || head == w.base
            || w.from_branch
                .as_deref()
                .map(|b| repo.is_ancestor(&head, &format!("refs/heads/{b}")))
                .transpose()?
                .unwrap_or(false);
        if uncommitted || !landed {
            return Err(LandError::Refused(format!(
                "{} holds work that is not merged{}; merge it first (`agentgate queue merge`) or discard it anyway with --force",
                w.branch,
                if uncommitted {
                    " (and uncommitted changes)"
                } else {
                    ""
                }
            )));
        }
    }
    if Path::new(&w.path).exists() {
        repo.run(&["worktree", "remove", "--force", &w.path])?;
    }
    let _ = repo.run(&["worktree", "prune"]);
    if repo
        .run(&["rev-parse", "--verify", "-q", &branch_ref])
        .is_ok()
    {
        repo.run(&["branch", "-D", &w.branch])?;
    }
    Ok(())
}

/// One landing (merge or discard) per worktree at a time: held while git
/// works on it.
pub struct Busy(String);

static BUSY: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

impl Busy {
    /// `None` when another landing of `path` is under way.
    pub fn take(path: &str) -> Option<Busy> {
        let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
        if busy.iter().any(|p| p == path) {
            return None;
        }
        busy.push(path.to_string());
        Some(Busy(path.to_string()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
        busy.retain(|p| *p != self.0);
    }
}

/// The branch head, and a commit on it holding what the agent left
/// uncommitted (the head itself when nothing is) — an object only: the
/// branch does not move (`advance_branch` moves it).
fn with_leftovers(
    g: &Git,
    w: &Worktree,
    id: &str,
    title: &str,
) -> Result<(String, String), LandError> {
    let head = g.run(&[
        "rev-parse",
        "--verify",
        &format!("refs/heads/{}^{{commit}}", w.branch),
    ])?;
    let tree = current_tree(g)?;
    if tree == g.run(&["rev-parse", &format!("{head}^{{tree}}")])? {
        return Ok((head.clone(), head));
    }
    let msg = format!("agentgate {id}: work left uncommitted\n\n{title}");
    let commit = g.commit_tree(&tree, &[&head], &msg)?;
    Ok((head, commit))
}

/// Moves the branch from `head` to `to` (only if it is still at `head`),
/// and the worktree's index with it (its files already match).
fn advance_branch(g: &Git, w: &Worktree, head: &str, to: &str) -> Result<(), LandError> {
    if head != to {
        let branch_ref = format!("refs/heads/{}", w.branch);
        g.run(&["update-ref", "-m", "agentgate", &branch_ref, to, head])?;
        g.run(&["reset", "-q"])?;
    }
    Ok(())
}

/// The remote `push` uses by default: the upstream of the branch the
/// worktree was made from, else the repository's only remote, else `origin`.
fn default_remote(repo: &Git, w: &Worktree) -> Result<String, LandError> {
    if let Some(b) = &w.from_branch
        && let Ok(r) = repo.run(&["config", &format!("branch.{b}.remote")])
        && !r.is_empty()
    {
        return Ok(r);
    }
    let remotes = repo.run(&["remote"])?;
    let remotes: Vec<&str> = remotes.lines().collect();
    match remotes.as_slice() {
        [] => Err(LandError::Refused(format!(
            "{} has no remote to push to: add one (git remote add origin URL) or name it with --remote",
            w.repo
        ))),
        [one] => Ok(one.to_string()),
        many if many.contains(&"origin") => Ok("origin".into()),
        many => Err(LandError::Refused(format!(
            "{} has several remotes ({}) and {} tracks none: name one with --remote",
            w.repo,
            many.join(", "),
            w.from_branch.as_deref().unwrap_or("HEAD")
        ))),
    }
}

/// What `push` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub remote: String,
    pub branch: String,
    pub commit: String,
    /// The pull request's URL (`queue pr`).
    pub pull_request: Option<String>,
}

/// Pushes the work order's branch (its leftovers committed first).
pub fn push(
    w: &Worktree,
    id: &str,
    title: &str,
    remote: Option<&str>,
) -> Result<Pushed, LandError> {
    let g = usable(w)?;
    let repo = Git::new(&w.repo);
    let remote = match remote {
        Some(r) => r.to_string(),
        None => default_remote(&repo, w)?,
    };
    let (head, commit) = with_leftovers(&g, w, id, title)?;
    advance_branch(&g, w, &head, &commit)?;
    let spec = format!("refs/heads/{b}:refs/heads/{b}", b = w.branch);
    repo.run(&["push", "--quiet", &remote, &spec])?;
    Ok(Pushed {
        remote,
        branch: w.branch.clone(),
        commit,
        pull_request: None,
    })
}

/// Pushes the branch and opens a pull request with `gh`.
pub fn pull_request(
    w: &Worktree,
    id: &str,
    title: &str,
    pr_title: Option<&str>,
    draft: bool,
) -> Result<Pushed, LandError> {
    let gh_ok = std::process::Command::new("gh")
        .args(["auth", "status"])
        .current_dir(&w.repo)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match gh_ok {
        Err(_) => {
            return Err(LandError::Refused(format!(
                "the GitHub CLI (gh) is not installed here, so no pull request can be opened; install it and run `gh auth login`, or push the branch alone with `agentgate queue push {id}`"
            )));
        }
        Ok(s) if !s.success() => {
            return Err(LandError::Refused(format!(
                "gh is not signed in (`gh auth status` failed): run `gh auth login`, or push the branch alone with `agentgate queue push {id}`"
            )));
        }
        Ok(_) => {}
    }
    let mut pushed = push(w, id, title, None)?;
    let pr_title = pr_title.unwrap_or(title).to_string();
    let body = format!("Work of agentgate work order {id}.");
    let mut args = vec![
        "pr", "create", "--head", &w.branch, "--title", &pr_title, "--body", &body,
    ];
    if let Some(base) = &w.from_branch {
        args.extend(["--base", base]);
    }
    if draft {
        args.push("--draft");
    }
    let out = std::process::Command::new("gh")
        .args(&args)
        .current_dir(&w.repo)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(LandError::Spawn)?;
    if !out.status.success() {
        return Err(LandError::Git {
            args: "(gh) pr create".into(),
            dir: w.repo.clone(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    pushed.pull_request = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find(|l| l.starts_with("http"))
        .map(str::to_string);
    Ok(pushed)
}
