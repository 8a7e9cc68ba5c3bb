//! `submit` (CLI) and `POST /api/v1/work-orders`: a new work order, checked
//! against everything a new work order must satisfy (`build`, which `queue
//! restart` uses too), then queued or started at once (`Queue::admit_new`).
//! Answered as soon as it is durable; the start of whatever may start now is
//! the step after the answer.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{Operation, Queue};
use crate::agent::login;
use crate::daemon::workspace;
use crate::model::work_order::{DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME, MAX_TIME_RANGE};
use crate::model::{WorkOrder, WorkspaceInput, WorkspaceSource, Worktree};
use crate::service::{Reply, ServiceError};

const DEFAULT_AGENT: &str = login::SUBSCRIPTION_TYPE;
const MAX_PROMPT_BYTES: usize = 512 * 1024;
const MAX_ITERATIONS: u32 = 10_000;
const MAX_LABELS: usize = 32;
const MAX_LABEL_LEN: usize = 64;
/// Longest `--setup` command.
const MAX_SETUP_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub task_prompt: String,
    pub agent_type: Option<String>,
    pub workspace_source: Option<WorkspaceInput>,
    /// Seconds.
    pub max_time: Option<u64>,
    pub max_iterations: Option<u32>,
    /// Variables for this work order's agent only.
    pub env: BTreeMap<String, String>,
    /// A git worktree of its own: `Some(true)` asks for one (the source must
    /// be a local git repository), `None` takes the daemon's default.
    pub worktree: Option<bool>,
    /// Full ids of work orders that must succeed before this one starts.
    pub depends_on: Vec<String>,
    /// Higher starts first (default 0); FIFO within a priority.
    pub priority: i32,
    pub labels: Vec<String>,
    /// A shell command run in the workspace before the agent (`--setup`).
    #[serde(default)]
    pub setup: Option<String>,
    /// Confinement choices (`--sandbox`, `--no-network`, ...; AgentGate's `policies`).
    #[serde(default)]
    pub sandbox: Option<crate::model::SandboxRequest>,
}

impl Operation for SubmitRequest {
    type Output = WorkOrder;

    fn apply(self, q: &mut Queue, reply: Reply<WorkOrder>) {
        // The client has its answer once the work order is durable; a run
        // started at once is handed to its executor after that.
        q.hold_launches();
        let _ = reply.send(build(q, self).and_then(|wo| q.admit_new(wo)));
    }
}

/// A checked, queued work order (not stored yet) from a request.
pub(super) fn build(q: &mut Queue, req: SubmitRequest) -> Result<WorkOrder, ServiceError> {
    if !q.accepting() {
        return Err(ServiceError::unavailable(
            "the daemon is shutting down and not accepting work",
        ));
    }
    if req.task_prompt.trim().is_empty() {
        return Err(ServiceError::bad_request(
            "taskPrompt",
            "the prompt is empty",
        ));
    }
    if req.task_prompt.len() > MAX_PROMPT_BYTES {
        return Err(ServiceError::bad_request(
            "taskPrompt",
            format!(
                "the prompt is too long: at most {} KiB",
                MAX_PROMPT_BYTES / 1024
            ),
        ));
    }
    let agent_type = req.agent_type.unwrap_or_else(|| DEFAULT_AGENT.to_string());
    let Some(agent) = q.settings().agents.get(&agent_type) else {
        let known: Vec<&str> = q.settings().agents.keys().map(String::as_str).collect();
        return Err(ServiceError::bad_request(
            "agentType",
            format!(
                "unknown agent type {agent_type:?}; known: {} (add more under [agents.NAME] in the config file)",
                known.join(", ")
            ),
        ));
    };
    if let Some(problem) = workspace::prompt_problem(&agent_type, agent, &req.task_prompt) {
        return Err(ServiceError::bad_request("taskPrompt", problem));
    }
    check_env(&req.env)?;
    let env: Vec<(&str, &str)> = (req.env.iter())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let env_remove = &q.settings().env_remove;
    if let Some(problem) = login::missing(&agent_type, agent, &env, env_remove) {
        return Err(ServiceError::bad_request("agentType", problem));
    }
    let labels = check_labels(&req.labels)?;
    let depends_on = q.check_dependencies(&req.depends_on)?;
    let input = req.workspace_source.ok_or_else(|| {
        ServiceError::bad_request(
            "workspaceSource",
            format!(
                "a workspace source is required; {}",
                crate::model::workspace::ACCEPTED_FORMS
            ),
        )
    })?;
    let source = normalise_source(&input, q.settings().github_owner.as_deref())?;
    let max_time = req.max_time.unwrap_or(DEFAULT_MAX_TIME);
    if !MAX_TIME_RANGE.contains(&max_time) {
        return Err(ServiceError::bad_request(
            "maxTime",
            format!(
                "the time limit {max_time}s is out of range: {}s to 7d ({} seconds)",
                MAX_TIME_RANGE.start(),
                MAX_TIME_RANGE.end()
            ),
        ));
    }
    let max_iterations = req.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS);
    check_iterations(max_iterations)?;
    let id = q.new_work_order_id();
    let worktree = worktree_for(q, &id, &source, req.worktree)?;
    let mut wo = WorkOrder::new_queued(
        id,
        req.task_prompt,
        agent_type,
        source,
        max_time,
        max_iterations,
        q.next_created_at(),
    );
    wo.more.env = req.env;
    wo.more.worktree = worktree.map(Box::new);
    wo.more.depends_on = depends_on;
    wo.priority = req.priority;
    wo.more.labels = labels;
    if let Some(s) = &req.setup
        && (s.trim().is_empty() || s.len() > MAX_SETUP_BYTES || s.contains('\0'))
    {
        return Err(ServiceError::bad_request(
            "setup",
            format!("setup must be a command of 1 to {MAX_SETUP_BYTES} bytes, without NUL"),
        ));
    }
    wo.more.setup = req.setup;
    wo.more.sandbox = check_sandbox(req.sandbox)?.map(Box::new);
    Ok(wo)
}

/// A git worktree of its own for work order `id`, if asked for (or the
/// daemon's default for local git sources).
fn worktree_for(
    q: &Queue,
    id: &str,
    source: &WorkspaceSource,
    asked: Option<bool>,
) -> Result<Option<Worktree>, ServiceError> {
    let explicit = asked == Some(true);
    if !asked.unwrap_or(q.settings().worktree) {
        return Ok(None);
    }
    let refuse = |why: String| {
        if explicit {
            Err(ServiceError::bad_request("worktree", why))
        } else {
            Ok(None) // the default only applies where it can
        }
    };
    let WorkspaceSource::Local { path } = source else {
        return refuse(
            "a worktree needs a local git repository (--path); a clone is already private to its work order"
                .into(),
        );
    };
    match crate::daemon::queue::io_block(|| workspace::git_repo_head(std::path::Path::new(path))) {
        Ok((repo, head, from_branch)) => Ok(Some(Worktree {
            repo,
            branch: format!("agentgate/{id}"),
            base: head,
            path: q.store().workspace_clone_dir(id).display().to_string(),
            changes: None,
            from_branch,
            merges: Vec::new(),
            discarded: false,
        })),
        Err(e) => refuse(format!(
            "--worktree needs a local git repository with a commit: {path} is not one ({e})"
        )),
    }
}

pub(super) fn check_iterations(max_iterations: u32) -> Result<(), ServiceError> {
    if (1..=MAX_ITERATIONS).contains(&max_iterations) {
        Ok(())
    } else {
        Err(ServiceError::bad_request(
            "maxIterations",
            format!("max iterations {max_iterations} is out of range: 1 to {MAX_ITERATIONS}"),
        ))
    }
}

/// Allowed paths absolute and forbidden patterns valid globs; an empty
/// request is none.
fn check_sandbox(
    req: Option<crate::model::SandboxRequest>,
) -> Result<Option<crate::model::SandboxRequest>, ServiceError> {
    let Some(req) = req.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if let Some(p) = req
        .allowed_paths
        .iter()
        .find(|p| !p.starts_with('/') || p.contains('\0'))
    {
        return Err(ServiceError::bad_request(
            "policies.allowedPaths",
            format!("allowed path {p:?} must be absolute"),
        ));
    }
    if req.allowed_paths.len() > 64 || req.forbidden_patterns.len() > 256 {
        return Err(ServiceError::bad_request(
            "policies",
            "at most 64 allowed paths and 256 forbidden patterns".to_string(),
        ));
    }
    crate::sandbox::forbidden::compile(&req.forbidden_patterns)
        .map_err(|e| ServiceError::bad_request("policies.forbiddenPatterns", e))?;
    Ok(Some(req))
}

/// Labels: short words of `[A-Za-z0-9._:/=+@-]`, so they print safely and
/// read the same in a shell, a URL and a table. Returned without duplicates.
fn check_labels(labels: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut out: Vec<String> = Vec::with_capacity(labels.len());
    for l in labels {
        let ok = !l.is_empty()
            && l.len() <= MAX_LABEL_LEN
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:/=+@-".contains(&b));
        if !ok {
            return Err(ServiceError::bad_request(
                "labels",
                format!(
                    "label {l:?} is not valid: use 1-{MAX_LABEL_LEN} letters, digits or . _ : / = + @ -"
                ),
            ));
        }
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    if out.len() > MAX_LABELS {
        return Err(ServiceError::bad_request(
            "labels",
            format!("too many labels: at most {MAX_LABELS}"),
        ));
    }
    Ok(out)
}

/// Per-work-order variables: names a shell can set, none of ours, no NUL.
fn check_env(env: &BTreeMap<String, String>) -> Result<(), ServiceError> {
    const MAX_VARS: usize = 256;
    const MAX_BYTES: usize = 128 * 1024;
    if env.len() > MAX_VARS {
        return Err(ServiceError::bad_request(
            "env",
            format!("too many variables: at most {MAX_VARS}"),
        ));
    }
    let mut total = 0;
    for (k, v) in env {
        let valid = k
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ServiceError::bad_request(
                "env",
                format!(
                    "{k:?} is not a variable name (letters, digits and _, not starting with a digit)"
                ),
            ));
        }
        if k.starts_with("AGENTGATE_") {
            return Err(ServiceError::bad_request(
                "env",
                format!("{k} is set by agentgate itself; pick another name"),
            ));
        }
        if v.contains('\0') {
            return Err(ServiceError::bad_request(
                "env",
                format!("the value of {k} contains a NUL byte"),
            ));
        }
        total += k.len() + v.len();
    }
    if total > MAX_BYTES {
        return Err(ServiceError::bad_request(
            "env",
            format!("the variables take more than {} KiB", MAX_BYTES / 1024),
        ));
    }
    Ok(())
}

fn normalise_source(
    input: &WorkspaceInput,
    default_owner: Option<&str>,
) -> Result<WorkspaceSource, ServiceError> {
    let source = input
        .normalise(default_owner)
        .map_err(|e| ServiceError::bad_request("workspaceSource", e.to_string()))?;
    if let WorkspaceSource::Local { path } = &source
        && !std::path::Path::new(path).is_dir()
    {
        return Err(ServiceError::bad_request(
            "workspaceSource.path",
            format!("local workspace directory {path} does not exist"),
        ));
    }
    Ok(source)
}
