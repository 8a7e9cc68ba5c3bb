//! Planning a run: its working directory (a local directory, or a clone for
//! git/GitHub sources) and its command line.

use std::path::{Path, PathBuf};

use crate::config::AgentConfig;
use crate::executor::Workspace;
use crate::model::{WorkOrder, WorkspaceSource};

/// Where a run's agent works: a local directory as it is, or a fresh clone
/// (made by the run's supervisor, so a hung clone can be stopped).
pub fn plan(wo: &WorkOrder, clone_dir: &Path, github_base_url: &str) -> Result<Workspace, String> {
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
