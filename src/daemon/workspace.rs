//! Planning a run: its working directory (a local directory, or a clone for
//! git/GitHub sources) and its command line.

use std::path::{Path, PathBuf};

use crate::config::AgentConfig;
use crate::executor::Workspace;
use crate::model::{WorkOrder, WorkspaceSource};

/// Where a run's agent works: a local directory as it is, or a fresh clone
/// (made by the run's supervisor, so a hung clone can be stopped).
pub fn plan(wo: &WorkOrder, clone_dir: &Path, github_base_url: &str) -> Result<Workspace, String> {
    if let Some(w) = &wo.more.worktree {
        return Ok(Workspace::Worktree {
            repo: PathBuf::from(&w.repo),
            branch: w.branch.clone(),
            base: w.base.clone(),
            dir: PathBuf::from(&w.path),
        });
    }
    match &wo.workspace_source {
        WorkspaceSource::Local { path } => Ok(Workspace::Dir {
            path: PathBuf::from(path),
        }),
        WorkspaceSource::Github {
            owner,
            repo,
            branch,
        } => Ok(Workspace::Clone {
            url: format!("{}/{owner}/{repo}", github_base_url.trim_end_matches('/')),
            branch: branch.clone(),
            dir: clone_dir.to_path_buf(),
        }),
        WorkspaceSource::Git { url, branch } => Ok(Workspace::Clone {
            url: url.clone(),
            branch: branch.clone(),
            dir: clone_dir.to_path_buf(),
        }),
        WorkspaceSource::Other { kind, .. } => Err(format!(
            "workspace source type {kind:?} (from older AgentGate data) cannot be run by this daemon"
        )),
    }
}

/// The top directory, HEAD commit and checked-out branch (`None` when
/// detached) of the git repository at `path`.
pub fn git_repo_head(path: &Path) -> Result<(String, String, Option<String>), String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args([
            "rev-parse",
            "--show-toplevel",
            "HEAD",
            "--abbrev-ref",
            "HEAD",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err
            .lines()
            .next()
            .unwrap_or("git failed")
            .trim()
            .to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (lines.next(), lines.next(), lines.next()) {
        (Some(top), Some(head), branch) if head.len() >= 7 => Ok((
            top.to_string(),
            head.to_string(),
            branch.filter(|b| *b != "HEAD").map(str::to_string),
        )),
        _ => Err("no commit to start from".into()),
    }
}

/// Removes a work order's worktree (into the trash: a rename, deleted in the
/// background) and prunes it from its repository's list; its branch goes too
/// only when asked (it holds the agent's work).
pub fn remove_worktree(
    w: &crate::model::Worktree,
    delete_branch: bool,
    trash: &crate::store::Trash,
) -> Result<(), String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&w.repo)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))
    };
    trash
        .put(Path::new(&w.path))
        .map_err(|e| format!("cannot remove worktree {}: {e}", w.path))?;
    // Its directory gone, git forgets it.
    let _ = git(&["worktree", "prune"]);
    if delete_branch {
        let out = git(&["branch", "-D", &w.branch])?;
        if !out.status.success() {
            return Err(format!(
                "cannot delete branch {}: {}",
                w.branch,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// Where a run's prompt file goes (`{prompt_file}`, `prompt_via = "stdin"`).
pub const PROMPT_FILE: &str = "prompt.txt";

/// One argument of a command line can carry at most this much (Linux's
/// MAX_ARG_STRLEN, with its terminating NUL).
pub const MAX_ARG_BYTES: usize = 128 * 1024 - 1;

/// The agent's argv with placeholders substituted per argument, in one pass (a
/// prompt containing `{workspace}` stays as written; no shell parsing). A
/// follow-up (`resume_session`) runs the agent type's resume command.
pub fn command_line(
    agent: &AgentConfig,
    wo: &WorkOrder,
    workspace: &Path,
    run_id: &str,
    prompt_file: &Path,
) -> Vec<String> {
    let ws = workspace.to_string_lossy();
    let pf = prompt_file.to_string_lossy();
    let iterations = wo.max_iterations.to_string();
    let session = wo.more.resume_session.as_deref().unwrap_or_default();
    let values = [
        ("{prompt}", wo.task_prompt.as_str()),
        ("{prompt_file}", pf.as_ref()),
        ("{workspace}", ws.as_ref()),
        ("{work_order_id}", wo.id.as_str()),
        ("{run_id}", run_id),
        ("{max_iterations}", iterations.as_str()),
        ("{session_id}", session),
    ];
    let template = match (&wo.more.resume_session, &agent.resume_command) {
        (Some(_), Some(resume)) => resume,
        _ => &agent.command,
    };
    template
        .iter()
        .map(|arg| substitute(arg, &values))
        .collect()
}

/// Whether the agent's command line hands the prompt over as a file.
pub fn uses_prompt_file(agent: &AgentConfig) -> bool {
    agent
        .command
        .iter()
        .chain(agent.resume_command.iter().flatten())
        .any(|a| a.contains("{prompt_file}"))
}

/// Why `prompt` cannot reach an agent of this type, if it cannot: as one
/// argument it must fit `MAX_ARG_BYTES` and hold no NUL byte.
pub fn prompt_problem(agent_type: &str, agent: &AgentConfig, prompt: &str) -> Option<String> {
    let as_arg = agent
        .command
        .iter()
        .chain(agent.resume_command.iter().flatten())
        .any(|a| a.contains("{prompt}"));
    if !as_arg {
        return None;
    }
    let fix = format!(
        "hand long prompts over as a file: give [agents.{agent_type}] a {{prompt_file}} placeholder or prompt_via = \"stdin\" (and pass the prompt with --prompt-file)"
    );
    if prompt.as_bytes().contains(&0) {
        return Some(format!(
            "the prompt contains a NUL byte, which no command-line argument can carry; {fix}"
        ));
    }
    let longest = agent
        .command
        .iter()
        .filter(|a| a.contains("{prompt}"))
        .map(|a| a.len() - "{prompt}".len() + prompt.len())
        .max()
        .unwrap_or(0);
    (longest > MAX_ARG_BYTES).then(|| {
        format!(
            "the prompt is {} KiB, more than one command-line argument can carry ({} KiB); {fix}",
            prompt.len().div_ceil(1024),
            (MAX_ARG_BYTES + 1) / 1024
        )
    })
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
