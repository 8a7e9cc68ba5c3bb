//! New work orders: `submit` (CLI and HTTP), `queue continue` (a follow-up
//! resuming an agent session) and `queue restart` (a copy of a finished one). Everything a new work order is checked against
//! is here; whether it may start at once is admission's call.

use std::collections::BTreeMap;

/// Longest `--setup` command.
const MAX_SETUP_BYTES: usize = 16 * 1024;

use super::{Actor, io_block};
use crate::agent::login;
use crate::daemon::workspace;
use crate::model::work_order::{DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME, MAX_TIME_RANGE};
use crate::model::{WorkOrder, WorkspaceInput, WorkspaceSource, Worktree, new_id};
use crate::service::*;

const DEFAULT_AGENT: &str = login::SUBSCRIPTION_TYPE;
const MAX_PROMPT_BYTES: usize = 512 * 1024;
const MAX_ITERATIONS: u32 = 10_000;
const MAX_LABELS: usize = 32;
const MAX_LABEL_LEN: usize = 64;

impl Actor {
    /// A new id no held work order has.
    fn fresh_id(&self) -> String {
        let mut id = new_id();
        while self.entries.contains_key(&id) {
            id = new_id();
        }
        id
    }

    pub(crate) fn submit(&mut self, req: SubmitRequest) -> Result<WorkOrder, ServiceError> {
        let wo = self.build(req)?;
        self.enqueue(wo)
    }

    /// A checked, queued work order (not stored yet) from a request.
    fn build(&mut self, req: SubmitRequest) -> Result<WorkOrder, ServiceError> {
        if !self.stopping.accepting {
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
        let Some(agent) = self.settings.agents.get(&agent_type) else {
            let known: Vec<&str> = self.settings.agents.keys().map(String::as_str).collect();
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
        let env_remove = &self.settings.env_remove;
        if let Some(problem) = login::missing(&agent_type, agent, &env, env_remove) {
            return Err(ServiceError::bad_request("agentType", problem));
        }
        let labels = check_labels(&req.labels)?;
        let depends_on = self.check_dependencies(&req.depends_on)?;
        let input = req.workspace_source.ok_or_else(|| {
            ServiceError::bad_request(
                "workspaceSource",
                format!(
                    "a workspace source is required; {}",
                    crate::model::workspace::ACCEPTED_FORMS
                ),
            )
        })?;
        let source = normalise_source(&input, self.settings.github_owner.as_deref())?;
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
        let id = self.fresh_id();
        let worktree = self.worktree_for(&id, &source, req.worktree)?;
        let mut wo = WorkOrder::new_queued(
            id,
            req.task_prompt,
            agent_type,
            source,
            max_time,
            max_iterations,
            self.next_created_at(),
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

    /// A new work order goes to the queue, or straight to a free slot.
    fn enqueue(&mut self, wo: WorkOrder) -> Result<WorkOrder, ServiceError> {
        let max_queue = self.settings.max_queue_size;
        let waiting = self.waiting.len();
        if max_queue > 0 && waiting as u64 >= max_queue {
            return Err(ServiceError::unavailable(format!(
                "the queue is full: {waiting} work orders waiting (max_queue_size {max_queue}); wait for some to start, cancel some, or raise --max-queue-size"
            )));
        }
        tracing::info!(work_order = %wo.id, agent = %wo.agent_type, parent = ?wo.more.parent_id, after = ?wo.more.depends_on, priority = wo.priority, "submitted");
        // Free to start, a free slot and nobody ahead: store it already
        // running, one durable write on the submit-to-running path instead of two.
        if self.may_start_at_once(&wo) {
            let id = wo.id.clone();
            self.begin_run(wo, false)?;
            return self.get(&id).cloned();
        }
        self.commit(wo.clone())?;
        Ok(wo)
    }

    /// `queue restart`: a copy of a finished work order (prompt, agent,
    /// workspace, limits, env, labels, priority, dependencies, session),
    /// queued anew and linked to it; the request's fields override.
    pub(crate) fn restart(&mut self, req: RestartRequest) -> Result<WorkOrder, ServiceError> {
        let orig = self.get(&req.id)?.clone();
        if !orig.status.is_terminal() {
            return Err(ServiceError::invalid_state(format!(
                "work order {} is {}; restart copies work orders that have ended (cancel it first, or wait for it)",
                orig.id, orig.status
            )));
        }
        let workspace_source = Some(match &orig.workspace_source {
            WorkspaceSource::Local { path } => WorkspaceInput::local(path.clone()),
            WorkspaceSource::Github {
                owner,
                repo,
                branch,
            } => WorkspaceInput {
                kind: Some("github".into()),
                owner: Some(owner.clone()),
                repo: Some(repo.clone()),
                branch: branch.clone(),
                ..WorkspaceInput::default()
            },
            WorkspaceSource::Git { url, branch } => WorkspaceInput {
                kind: Some("git".into()),
                url: Some(url.clone()),
                branch: branch.clone(),
                ..WorkspaceInput::default()
            },
            WorkspaceSource::Other { kind, .. } => {
                return Err(ServiceError::invalid_state(format!(
                    "work order {} has a workspace source of type {kind:?}, which this daemon cannot run",
                    orig.id
                )));
            }
        });
        let mut env = orig.more.env.clone();
        env.extend(req.env);
        let copy = SubmitRequest {
            task_prompt: req.task_prompt.unwrap_or_else(|| orig.task_prompt.clone()),
            agent_type: Some(req.agent_type.unwrap_or_else(|| orig.agent_type.clone())),
            workspace_source,
            max_time: Some(req.max_time.unwrap_or(orig.max_time)),
            max_iterations: Some(req.max_iterations.unwrap_or(orig.max_iterations)),
            env,
            worktree: Some(orig.more.worktree.is_some()),
            depends_on: req
                .depends_on
                .unwrap_or_else(|| orig.more.depends_on.clone()),
            priority: req.priority.unwrap_or(orig.priority),
            labels: req.labels.unwrap_or_else(|| orig.more.labels.clone()),
            setup: orig.more.setup.clone(),
            sandbox: orig.more.sandbox.as_deref().cloned(),
        };
        let mut wo = self.build(copy)?;
        // A follow-up stays one: it resumes the same session.
        wo.more.parent_id = orig.more.parent_id.clone();
        wo.more.resume_session = orig.more.resume_session.clone();
        wo.more.restarted_from = Some(orig.id.clone());
        self.enqueue(wo)
    }

    /// A git worktree of its own for work order `id`, if asked for (or the
    /// daemon's default for local git sources).
    fn worktree_for(
        &self,
        id: &str,
        source: &WorkspaceSource,
        asked: Option<bool>,
    ) -> Result<Option<Worktree>, ServiceError> {
        let explicit = asked == Some(true);
        if !asked.unwrap_or(self.settings.worktree) {
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
        match io_block(|| workspace::git_repo_head(std::path::Path::new(path))) {
            Ok((repo, head, from_branch)) => Ok(Some(Worktree {
                repo,
                branch: format!("agentgate/{id}"),
                base: head,
                path: self.store.workspace_clone_dir(id).display().to_string(),
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

    /// `queue continue`: a new work order resuming `req.id`'s agent session,
    /// in the same workspace, linked to it.
    pub(crate) fn continue_session(
        &mut self,
        req: ContinueRequest,
    ) -> Result<WorkOrder, ServiceError> {
        if !self.stopping.accepting {
            return Err(ServiceError::unavailable(
                "the daemon is shutting down and not accepting work",
            ));
        }
        let parent = self.get(&req.id)?.clone();
        if req.task_prompt.trim().is_empty() {
            return Err(ServiceError::bad_request(
                "taskPrompt",
                "the follow-up prompt must not be empty",
            ));
        }
        let Some(agent) = self.settings.agents.get(&parent.agent_type) else {
            return Err(ServiceError::invalid_state(format!(
                "agent type {:?} of work order {} is not configured any more",
                parent.agent_type, parent.id
            )));
        };
        if agent.resume_command.is_none() {
            return Err(ServiceError::bad_request(
                "id",
                format!(
                    "agent type {} cannot resume a session: give [agents.{}] a resume_command (with {{session_id}})",
                    parent.agent_type, parent.agent_type
                ),
            ));
        }
        if !parent.status.is_terminal() {
            return Err(ServiceError::invalid_state(format!(
                "work order {} is {}; continue it once it has ended",
                parent.id, parent.status
            )));
        }
        let Some(session) = parent
            .agent_result
            .as_ref()
            .and_then(|r| r.session_id.clone())
        else {
            return Err(ServiceError::invalid_state(format!(
                "no session id is known for work order {}: its agent reported no result to resume",
                parent.id
            )));
        };
        if let Some(problem) =
            workspace::prompt_problem(&parent.agent_type, agent, &req.task_prompt)
        {
            return Err(ServiceError::bad_request("taskPrompt", problem));
        }
        // The same workspace: its worktree, its clone, or its directory.
        let dir = match (&parent.more.worktree, parent.workspace_source.is_cloned()) {
            (Some(w), _) => w.path.clone(),
            (None, true) => self
                .store
                .workspace_clone_dir(&parent.id)
                .display()
                .to_string(),
            (None, false) => match &parent.workspace_source {
                WorkspaceSource::Local { path } => path.clone(),
                other => {
                    return Err(ServiceError::invalid_state(format!(
                        "work order {} has no workspace to continue in ({})",
                        parent.id,
                        other.describe()
                    )));
                }
            },
        };
        if !std::path::Path::new(&dir).is_dir() {
            return Err(ServiceError::invalid_state(format!(
                "the workspace of work order {} ({dir}) is gone (purged?)",
                parent.id
            )));
        }
        let max_time = req.max_time.unwrap_or(parent.max_time);
        let max_iterations = req.max_iterations.unwrap_or(parent.max_iterations);
        if !MAX_TIME_RANGE.contains(&max_time) {
            return Err(ServiceError::bad_request(
                "maxTime",
                format!("the time limit {max_time}s is out of range: 1s to 7d"),
            ));
        }
        check_iterations(max_iterations)?;
        let id = self.fresh_id();
        let mut wo = WorkOrder::new_queued(
            id,
            req.task_prompt,
            parent.agent_type.clone(),
            WorkspaceSource::Local { path: dir },
            max_time,
            max_iterations,
            self.next_created_at(),
        );
        wo.more.env = parent.more.env.clone();
        wo.more.labels = parent.more.labels.clone();
        wo.more.sandbox = parent.more.sandbox.clone();
        wo.priority = parent.priority;
        wo.more.parent_id = Some(parent.id.clone());
        wo.more.resume_session = Some(session);
        self.enqueue(wo)
    }
}

/// Labels: short words of `[A-Za-z0-9._:/=+@-]`, so they print safely and
/// read the same in a shell, a URL and a table. Returned without duplicates.
fn check_iterations(max_iterations: u32) -> Result<(), ServiceError> {
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
