//! Preparing a run: resolving its working directory (a local directory, or a
//! fresh `git clone` for git/GitHub sources) and its command line.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::config::AgentConfig;
use crate::model::{WorkOrder, WorkspaceSource};

/// Where a run's agent works: checked or cloned now.
pub async fn prepare(
    wo: &WorkOrder,
    clone_dir: &Path,
    github_base_url: &str,
) -> Result<PathBuf, String> {
    match &wo.workspace_source {
        WorkspaceSource::Local { path } => {
            let p = PathBuf::from(path);
            if p.is_dir() {
                Ok(p)
            } else {
                Err(format!("workspace directory {path} does not exist"))
            }
        }
        WorkspaceSource::Github {
            owner,
            repo,
            branch,
        } => {
            let url = format!("{}/{owner}/{repo}", github_base_url.trim_end_matches('/'));
            clone(&url, branch.as_deref(), clone_dir).await?;
            Ok(clone_dir.to_path_buf())
        }
        WorkspaceSource::Git { url, branch } => {
            clone(url, branch.as_deref(), clone_dir).await?;
            Ok(clone_dir.to_path_buf())
        }
        WorkspaceSource::Other { kind, .. } => Err(format!(
            "workspace source type {kind:?} (from older AgentGate data) cannot be run by this daemon"
        )),
    }
}

async fn clone(url: &str, branch: Option<&str>, dir: &Path) -> Result<(), String> {
    // A retry starts from a clean clone.
    if dir.exists() {
        tokio::fs::remove_dir_all(dir)
            .await
            .map_err(|e| format!("cannot remove old clone {}: {e}", dir.display()))?;
    }
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("clone").arg("--depth").arg("1").arg("--quiet");
    if let Some(b) = branch {
        cmd.arg("--branch").arg(b);
    }
    cmd.arg("--").arg(url).arg(dir);
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = cmd
        .output()
        .await
        .map_err(|e| format!("cannot run git to clone {url}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty() && !l.contains("--depth is ignored"))
            .unwrap_or("no output");
        Err(format!("git clone of {url} failed: {}", last.trim()))
    }
}

/// The agent's argv with placeholders substituted per argument, in one pass (a
/// prompt containing `{workspace}` stays as written; no shell parsing).
pub fn command_line(
    agent: &AgentConfig,
    wo: &WorkOrder,
    workspace: &Path,
    run_id: &str,
) -> Vec<String> {
    let ws = workspace.to_string_lossy();
    let values = [
        ("{prompt}", wo.task_prompt.as_str()),
        ("{workspace}", ws.as_ref()),
        ("{work_order_id}", wo.id.as_str()),
        ("{run_id}", run_id),
    ];
    agent
        .command
        .iter()
        .map(|arg| substitute(arg, &values))
        .collect()
}

fn substitute(arg: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    'outer: while !rest.is_empty() {
        for (key, value) in values {
            if let Some(after) = rest.strip_prefix(key) {
                out.push_str(value);
                rest = after;
                continue 'outer;
            }
        }
        let ch = rest.chars().next().unwrap_or_default();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn one_pass_substitution() {
        let v = [("{prompt}", "say {workspace}"), ("{workspace}", "/w")];
        assert_eq!(substitute("{prompt}", &v), "say {workspace}");
        assert_eq!(substitute("cd {workspace} && x", &v), "cd /w && x");
        assert_eq!(substitute("é{", &v), "é{");
    }
}
