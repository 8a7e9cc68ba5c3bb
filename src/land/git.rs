//! Running git for `land`: one command at a time in one directory, with
//! no prompts, no pager and no user hooks in the way, errors carrying git's
//! own first line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum LandError {
    /// The request cannot be carried out as things stand; nothing changed.
    #[error("{0}")]
    Refused(String),
    #[error("git {args} failed in {dir}: {message}")]
    Git {
        args: String,
        dir: String,
        message: String,
    },
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
}

pub struct Git {
    dir: PathBuf,
}

/// A temporary index file, removed on drop.
pub struct PrivateIndex(String);

impl PrivateIndex {
    pub fn path(&self) -> &str {
        &self.0
    }
}

impl Drop for PrivateIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Git {
    pub fn new(dir: impl AsRef<Path>) -> Git {
        Git {
            dir: dir.as_ref().to_path_buf(),
        }
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_PAGER", "cat")
            .env("GIT_EDITOR", "true")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    /// Whether git knows who commits (else ours stand in).
    fn has_identity(&self) -> bool {
        std::env::var_os("GIT_AUTHOR_EMAIL").is_some()
            || Command::new("git")
                .arg("-C")
                .arg(&self.dir)
                .args(["config", "user.email"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    }

    pub fn bytes_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Vec<u8>, LandError> {
        let out = self.command(args, env).output().map_err(LandError::Spawn)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(LandError::Git {
                args: args.join(" "),
                dir: self.dir.display().to_string(),
                message: err
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("failed")
                    .trim()
                    .to_string(),
            })
        }
    }

    pub fn bytes(&self, args: &[&str]) -> Result<Vec<u8>, LandError> {
        self.bytes_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String, LandError> {
        let out = self.bytes_env(args, env)?;
        Ok(String::from_utf8_lossy(&out).trim_end().to_string())
    }

    /// Its standard output, trimmed.
    pub fn run(&self, args: &[&str]) -> Result<String, LandError> {
        self.run_env(args, &[])
    }

    /// A fresh index file in the repository's git directory.
    pub fn private_index(&self) -> Result<PrivateIndex, LandError> {
        let git_dir = self.run(&["rev-parse", "--absolute-git-dir"])?;
        // Read back lossily, a path that is not UTF-8 would name another
        // file: refused rather than risk the real index.
        if git_dir.contains(char::REPLACEMENT_CHARACTER) {
            return Err(LandError::Refused(format!(
                "the git directory of {} is not a UTF-8 path",
                self.dir.display()
            )));
        }
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(PrivateIndex(format!(
            "{git_dir}/agentgate-index-{}-{n}",
            std::process::id()
        )))
    }

    pub fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        msg: &str,
    ) -> Result<String, LandError> {
        let mut args = vec!["commit-tree", tree];
        for p in parents {
            args.extend(["-p", p]);
        }
        args.extend(["-m", msg]);
        // A commit needs an author even where none is configured.
        let identity: &[(&str, &str)] = if self.has_identity() {
            &[]
        } else {
            &[
                ("GIT_AUTHOR_NAME", "agentgate"),
                ("GIT_AUTHOR_EMAIL", "agentgate@localhost"),
                ("GIT_COMMITTER_NAME", "agentgate"),
                ("GIT_COMMITTER_EMAIL", "agentgate@localhost"),
            ]
        };
        self.run_env(&args, identity)
    }

    pub fn is_ancestor(&self, a: &str, b: &str) -> Result<bool, LandError> {
        let st = self
            .command(&["merge-base", "--is-ancestor", a, b], &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(LandError::Spawn)?;
        Ok(st.success())
    }

    /// `git merge-tree --write-tree`: the merged tree, and the conflicting
    /// files (none when clean).
    /// `base`: the merge base to use instead of the one history gives.
    pub fn merge_tree(
        &self,
        ours: &str,
        theirs: &str,
        base: Option<&str>,
    ) -> Result<(String, Vec<String>), LandError> {
        let base_arg = base.map(|b| format!("--merge-base={b}"));
        let mut args = vec!["merge-tree", "--write-tree", "--name-only", "--no-messages"];
        args.extend(base_arg.as_deref());
        args.extend([ours, theirs]);
        let out = self
            .command(&args, &[])
            .output()
            .map_err(LandError::Spawn)?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let tree = lines.next().unwrap_or_default().trim().to_string();
        match out.status.code() {
            Some(0) => Ok((tree, Vec::new())),
            // Conflicts: the files follow the tree, then an empty line.
            Some(1) => {
                let mut files: Vec<String> = lines
                    .take_while(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
                files.dedup();
                Ok((tree, files))
            }
            _ => Err(LandError::Git {
                args: "merge-tree".into(),
                dir: self.dir.display().to_string(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
        }
    }

    /// The worktree (of this repository) where `branch_ref` is checked out.
    pub fn checkout_of(&self, branch_ref: &str) -> Result<Option<String>, LandError> {
        let list = self.run(&["worktree", "list", "--porcelain"])?;
        let mut dir = None;
        for line in list.lines() {
            if let Some(d) = line.strip_prefix("worktree ") {
                dir = Some(d.to_string());
            } else if line.strip_prefix("branch ") == Some(branch_ref) {
                return Ok(dir);
            }
        }
        Ok(None)
    }

    /// Paths with uncommitted changes (staged, unstaged or untracked).
    pub fn dirty_paths(&self) -> Result<HashSet<String>, LandError> {
        let out = self.bytes(&["status", "--porcelain=v1", "-z", "--untracked-files=all"])?;
        let mut paths = HashSet::new();
        let mut fields = out.split(|&b| b == 0).filter(|f| !f.is_empty());
        while let Some(f) = fields.next() {
            if f.len() < 4 {
                continue;
            }
            paths.insert(String::from_utf8_lossy(&f[3..]).into_owned());
            // A rename names its source next.
            if (f[0] == b'R' || f[0] == b'C')
                && let Some(src) = fields.next()
            {
                paths.insert(String::from_utf8_lossy(src).into_owned());
            }
        }
        Ok(paths)
    }
}
