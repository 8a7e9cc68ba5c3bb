//! Preparing the run's workspace under supervision: a clone or a worktree
//! made by git as the run's leader, so a hung git is stoppable like an agent.

use std::path::Path;

use nix::sys::wait::WaitStatus;

use super::Supervisor;
use super::git;
use super::output::Stream;
use super::spawn::{Leader, Stdio};

impl Supervisor {
    /// Clones the workspace under supervision (a hung clone can be stopped).
    pub(super) fn clone_workspace(
        &mut self,
        url: &str,
        branch: Option<&str>,
        dir: &Path,
    ) -> Result<(), String> {
        // A retry starts from a clean clone.
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(|e| format!("cannot remove old clone {}: {e}", dir.display()))?;
        }
        let mut args: Vec<String> = ["clone", "--depth", "1", "--quiet"]
            .map(String::from)
            .to_vec();
        if let Some(b) = branch {
            args.extend(["--branch".to_string(), b.to_string()]);
        }
        args.extend([
            "--".to_string(),
            url.to_string(),
            dir.to_string_lossy().into_owned(),
        ]);
        self.git_step(&args, &format!("git clone of {url}"))
    }

    /// Makes the run's own worktree of a local repository (reused if an
    /// earlier run of the work order made it), on its own branch.
    pub(super) fn make_worktree(
        &mut self,
        repo: &Path,
        branch: &str,
        base: &str,
        dir: &Path,
    ) -> Result<(), String> {
        if dir.join(".git").exists() {
            return Ok(()); // a retry continues where the last run left it
        }
        let repo_arg = repo.to_string_lossy().into_owned();
        let dir_arg = dir.to_string_lossy().into_owned();
        let mut args = vec![
            "-C".to_string(),
            repo_arg,
            "worktree".into(),
            "add".into(),
            "--quiet".into(),
        ];
        if git::branch_exists(repo, branch) {
            // Its worktree was removed (purged or lost), its branch kept.
            args.extend(["--".to_string(), dir_arg, branch.to_string()]);
        } else {
            args.extend([
                "-b".to_string(),
                branch.to_string(),
                "--".to_string(),
                dir_arg,
                base.to_string(),
            ]);
        }
        self.git_step(&args, &format!("git worktree add for {}", repo.display()))
    }

    /// Runs one git command as the run's leader (stoppable, in its cgroup),
    /// its stderr into the run's log; the error names `what` and git's last line.
    pub(super) fn git_step(&mut self, args: &[String], what: &str) -> Result<(), String> {
        let env = [("GIT_TERMINAL_PROMPT".to_string(), "0".to_string())];
        let env_remove = self.spec.env_remove.clone();
        let leader = Leader {
            program: "git",
            args,
            env: &env,
            env_remove: &env_remove,
            cwd: Path::new("/"),
            stdin: None,
            stdout: Stdio::Null,
            stderr: Stdio::Pipe,
            confine: None,
        };
        let child = self
            .spawn(&leader)
            .map_err(|e| format!("cannot run git for {what}: {e}"))?;
        if let Some(e) = child.stderr {
            self.output
                .attach(Stream::Stderr, e, &self.spec.stderr, &self.dir, true);
        }
        self.save_state();
        self.wait_tree();
        let kept = self.output.detach(Stream::Stderr);
        if self.stop.is_some() {
            return Ok(()); // the caller ends the run as stopped
        }
        match self.leader_status {
            Some(WaitStatus::Exited(_, 0)) => Ok(()),
            _ => {
                let text = String::from_utf8_lossy(&kept);
                let last = text
                    .lines()
                    .rfind(|l| !l.trim().is_empty() && !l.contains("--depth is ignored"))
                    .unwrap_or("no output");
                Err(format!("{what} failed: {}", last.trim()))
            }
        }
    }
}
