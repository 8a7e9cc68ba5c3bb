//! `submit` and `continue`: new work orders, stamped with the session's
//! labels and held to its limit.

use super::*;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SubmitArgs {
    /// What the agent is to do.
    prompt: String,
    /// The agent type (as `agentgate submit --agent`): e.g. claude-code, codex, gemini, shell.
    /// Default: the daemon's default agent.
    agent: Option<String>,
    /// A local directory to work in (relative to the MCP server's working directory
    /// over stdio; absolute over HTTP). Default over stdio: that working directory.
    path: Option<String>,
    /// A GitHub repository to clone, OWNER/NAME.
    repo: Option<String>,
    /// A git URL to clone.
    url: Option<String>,
    /// The branch to clone (with `repo` or `url`).
    branch: Option<String>,
    /// A git worktree and branch of its own (a local git repository only).
    worktree: Option<bool>,
    /// Ids (or unique prefixes) of work orders that must succeed before this one starts.
    #[serde(default)]
    after: Vec<String>,
    /// Labels to find it by (letters, digits, . _ : / = + @ -).
    #[serde(default)]
    labels: Vec<String>,
    /// Higher starts first (default 0).
    priority: Option<i32>,
    /// Environment variables for this work order's agent only.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Longest it may run, e.g. "30m", "2h" (default: the daemon's).
    max_time: Option<String>,
}

pub(super) fn workspace(c: &Call<'_>, a: &SubmitArgs) -> Result<Option<WorkspaceInput>, ToolError> {
    let given = [a.path.is_some(), a.repo.is_some(), a.url.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given > 1 {
        return Err("bad arguments: give at most one of `path`, `repo` and `url`".into());
    }
    if a.branch.is_some() && a.repo.is_none() && a.url.is_none() {
        return Err(
            "bad argument `branch`: a branch is cloned, so it needs `repo` or `url`".into(),
        );
    }
    if let Some(url) = &a.url {
        return Ok(Some(WorkspaceInput::url(url, a.branch.clone())));
    }
    if let Some(repo) = &a.repo {
        return Ok(Some(WorkspaceInput::github(repo, None, a.branch.clone())));
    }
    let dir = match (&a.path, c.cwd) {
        (Some(p), Some(cwd)) => cwd.join(p),
        (Some(p), None) => std::path::PathBuf::from(p),
        (None, Some(cwd)) => cwd.to_path_buf(),
        (None, None) => return Ok(None),
    };
    // Over stdio the path is resolved here (as the CLI does); in the daemon
    // the service checks it.
    let dir = match c.cwd {
        Some(_) => std::fs::canonicalize(&dir)
            .map_err(|e| format!("bad argument `path`: {}: {e}", dir.display()))?,
        None => dir,
    };
    Ok(Some(WorkspaceInput::local(dir.to_string_lossy())))
}

/// Refuses a submit that would put this session over its limit.
pub(super) async fn check_session_limit(c: &Call<'_>) -> Result<(), ToolError> {
    let max = c.settings.max_active;
    if max == 0 {
        return Ok(());
    }
    let page = c
        .backend
        .run(ListQuery {
            statuses: vec![Status::Queued, Status::Running],
            labels: vec![c.session_label.to_string()],
            limit: Some(1),
            offset: 0,
            id_prefix: None,
        })
        .await?;
    if page.total >= u64::from(max) {
        return Err(format!(
            "this MCP session already has {} work orders queued or running, its limit \
             (`max_active` in the [mcp] section of agentgate's config file); wait for some \
             to end, then submit again",
            page.total
        ));
    }
    Ok(())
}

pub(super) async fn submit(c: &Call<'_>, a: SubmitArgs) -> Result<CallToolResult, ToolError> {
    let workspace_source = workspace(c, &a)?;
    let max_time = a
        .max_time
        .as_deref()
        .map(|s| duration_arg("max_time", s).map(|d| d.as_secs().max(1)))
        .transpose()?;
    let depends_on = resolve(c, a.after).await?;
    check_session_limit(c).await?;
    let mut labels = a.labels;
    labels.extend(c.settings.labels.iter().cloned());
    labels.extend(c.client_label.map(str::to_string));
    labels.push(c.session_label.to_string());
    let req = SubmitRequest {
        task_prompt: a.prompt,
        agent_type: a.agent,
        workspace_source,
        max_time,
        max_iterations: None,
        env: a.env,
        worktree: a.worktree,
        depends_on,
        priority: a.priority.unwrap_or(0),
        labels,
        setup: None,
        sandbox: None,
    };
    let wo = c.backend.run(req).await?;
    structured(summary(&wo, None))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ContinueArgs {
    /// The ended work order to continue (id or unique prefix).
    id: String,
    /// The follow-up prompt.
    prompt: String,
}

pub(super) async fn continue_session(
    c: &Call<'_>,
    a: ContinueArgs,
) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    check_session_limit(c).await?;
    let wo = c
        .backend
        .run(ContinueRequest {
            id,
            task_prompt: a.prompt,
            max_time: None,
            max_iterations: None,
        })
        .await?;
    structured(summary(&wo, None))
}
