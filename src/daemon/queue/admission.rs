//! Admission: what a submit is checked against, and when queued work starts
//! (event-driven: after a submit, an exit, a cancel, a tick, or exactly when
//! the stagger delay ends).

use std::time::Duration;

use tokio::time::Instant;

use super::{Actor, io_block};
use crate::daemon::workspace;
use crate::model::work_order::{DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME, MAX_TIME_RANGE};
use crate::model::{
    ExecutorKind, Status, WorkOrder, WorkspaceInput, WorkspaceSource, Worktree, new_id,
};
use crate::service::*;
use crate::sys::proc;

const DEFAULT_AGENT: &str = "claude-code-subscription";
const MAX_PROMPT_BYTES: usize = 512 * 1024;
/// Wait after a failed automatic start (a full or read-only disk) before the next.
const START_RETRY: Duration = Duration::from_secs(10);

impl Actor {
    pub(super) fn submit(&mut self, req: SubmitRequest) -> Result<WorkOrder, ServiceError> {
        if !self.accepting {
            return Err(ServiceError::unavailable(
                "the daemon is shutting down and not accepting work",
            ));
        }
        if req.task_prompt.trim().is_empty() {
            return Err(ServiceError::bad_request(
                "taskPrompt",
                "taskPrompt is too short: it must not be empty",
            ));
        }
        if req.task_prompt.len() > MAX_PROMPT_BYTES {
            return Err(ServiceError::bad_request(
                "taskPrompt",
                format!("taskPrompt is too long: at most {MAX_PROMPT_BYTES} bytes"),
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
        let input = req.workspace_source.ok_or_else(|| {
            ServiceError::bad_request(
                "workspaceSource",
                format!(
                    "workspaceSource is required; {}",
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
                    "maxTime {max_time} is out of range: {}-{} seconds",
                    MAX_TIME_RANGE.start(),
                    MAX_TIME_RANGE.end()
                ),
            ));
        }
        let max_queue = self.settings.max_queue_size;
        let waiting: usize = self.queued.values().map(|q| q.len()).sum();
        if max_queue > 0 && waiting as u64 >= max_queue {
            return Err(ServiceError::unavailable(format!(
                "the queue is full: {waiting} work orders waiting (max_queue_size {max_queue}); wait for some to start, cancel some, or raise --max-queue-size"
            )));
        }
        let max_iterations = req.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS);
        if !(1..=10_000).contains(&max_iterations) {
            return Err(ServiceError::bad_request(
                "maxIterations",
                "maxIterations must be between 1 and 10000",
            ));
        }
        let mut id = new_id();
        while self.entries.contains_key(&id) {
            id = new_id();
        }
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
        wo.env = req.env;
        wo.worktree = worktree;
        self.enqueue(wo)
    }

    /// A new work order goes to the queue, or straight to a free slot.
    fn enqueue(&mut self, wo: WorkOrder) -> Result<WorkOrder, ServiceError> {
        tracing::info!(work_order = %wo.id, agent = %wo.agent_type, parent = ?wo.parent_id, "submitted");
        // A free slot and nobody ahead: store it already running, one durable
        // write on the submit-to-running path instead of two.
        let kind = self.executor_of(&wo);
        if self.queued.get(&kind).is_none_or(|q| q.is_empty()) && self.admission_open(kind) {
            let id = wo.id.clone();
            self.begin_run(wo, false)?;
            return self.get(&id).cloned();
        }
        self.commit(wo.clone())?;
        Ok(wo)
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
            Ok((repo, head)) => Ok(Some(Worktree {
                repo,
                branch: format!("agentgate/{id}"),
                base: head,
                path: self.store.workspace_clone_dir(id).display().to_string(),
                changes: None,
            })),
            Err(e) => refuse(format!(
                "--worktree needs a local git repository with a commit: {path} is not one ({e})"
            )),
        }
    }

    /// `queue continue`: a new work order resuming `req.id`'s agent session,
    /// in the same workspace, linked to it.
    pub(super) fn continue_session(
        &mut self,
        req: ContinueRequest,
    ) -> Result<WorkOrder, ServiceError> {
        if !self.accepting {
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
        let dir = match (&parent.worktree, parent.workspace_source.is_cloned()) {
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
        if !MAX_TIME_RANGE.contains(&max_time) || !(1..=10_000).contains(&max_iterations) {
            return Err(ServiceError::bad_request(
                "maxTime",
                "maxTime or maxIterations out of range",
            ));
        }
        let mut id = new_id();
        while self.entries.contains_key(&id) {
            id = new_id();
        }
        let mut wo = WorkOrder::new_queued(
            id,
            req.task_prompt,
            parent.agent_type.clone(),
            WorkspaceSource::Local { path: dir },
            max_time,
            max_iterations,
            self.next_created_at(),
        );
        wo.env = parent.env.clone();
        wo.parent_id = Some(parent.id.clone());
        wo.resume_session = Some(session);
        self.enqueue(wo)
    }

    /// Live runs on `kind`.
    pub(super) fn running_on(&self, kind: ExecutorKind) -> usize {
        self.live.values().filter(|l| l.executor == kind).count()
    }

    fn slot_free(&self, kind: ExecutorKind) -> bool {
        self.running_on(kind) < self.settings.max_concurrent_for(kind)
    }

    /// Executors with queued work and a free slot.
    fn startable(&self) -> impl Iterator<Item = ExecutorKind> + '_ {
        self.queued
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(k, _)| *k)
            .filter(|k| self.slot_free(*k))
    }

    pub(super) fn stagger_wake(&self) -> Option<Instant> {
        if !self.settings.auto_process || !self.accepting {
            return None;
        }
        self.startable().next()?;
        let at = self.last_start? + self.settings.stagger_delay;
        (at > Instant::now()).then_some(at)
    }

    /// Whether an automatic start on `kind` may happen now: a free slot there,
    /// the stagger delay elapsed, enough memory (for work that runs on this
    /// machine), auto-processing on.
    fn admission_open(&self, kind: ExecutorKind) -> bool {
        self.admission_open_with(kind, proc::mem_available())
    }

    /// Whether a work order submitted now for the default executor would start
    /// at once (health's `canStartImmediately`).
    pub(super) fn can_start_now(&self) -> bool {
        let kind = self.settings.executor;
        self.queued.get(&kind).is_none_or(|q| q.is_empty()) && self.admission_open_cached(kind)
    }

    /// `admission_open` with the memory sampled on the last tick (for health,
    /// which must not read /proc per request).
    pub(super) fn admission_open_cached(&self, kind: ExecutorKind) -> bool {
        self.admission_open_with(kind, self.mem_available)
    }

    fn admission_open_with(&self, kind: ExecutorKind, mem_available: Option<u64>) -> bool {
        if !self.settings.auto_process || !self.accepting {
            return false;
        }
        if !self.slot_free(kind) {
            return false;
        }
        if self.start_retry_at.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        if let Some(last) = self.last_start
            && last.elapsed() < self.settings.stagger_delay
        {
            return false;
        }
        if kind == ExecutorKind::Local
            && let Some(avail) = mem_available
            && avail < self.settings.min_memory
        {
            tracing::debug!(
                available = avail,
                minimum = self.settings.min_memory,
                "not starting work: low memory"
            );
            return false;
        }
        true
    }

    /// Event-driven admission: runs after submit, exit, cancel, and on the
    /// tick. FIFO per executor; among executors, the oldest waiting first.
    pub(super) fn schedule(&mut self) {
        if !self.settings.auto_process || !self.accepting {
            return;
        }
        loop {
            let next = self
                .startable()
                .filter(|k| self.admission_open(*k))
                .filter_map(|k| self.queued.get(&k)?.first().cloned())
                .min();
            let Some((_, id)) = next else {
                return;
            };
            if let Err(e) = self.start_run(&id, false) {
                // Typically the disk (full, read-only): retry later rather than
                // every tick; a manual `queue start` is not held back.
                tracing::error!(work_order = %id, error = %e, retry_in_s = START_RETRY.as_secs(), "automatic start failed");
                self.start_retry_at = Some(Instant::now() + START_RETRY);
                return;
            }
        }
    }

    pub(super) fn start_run(
        &mut self,
        id: &str,
        manual: bool,
    ) -> Result<StartOutcome, ServiceError> {
        let wo = self.get(id)?.clone();
        if !self.accepting {
            return Err(ServiceError::unavailable(
                "the daemon is shutting down and not starting work",
            ));
        }
        if self.live.contains_key(id) || !matches!(wo.status, Status::Queued | Status::Failed) {
            return Err(ServiceError::invalid_state(format!(
                "work order {id} is {}; only queued or failed work orders can be started",
                wo.status
            )));
        }
        let kind = self.executor_of(&wo);
        if !self.slot_free(kind) {
            let hint = match kind {
                ExecutorKind::Local => "raise --max-concurrent",
                ExecutorKind::Slurm => "raise max_concurrent under [slurm]",
            };
            return Err(ServiceError::invalid_state(format!(
                "concurrency limit reached ({} of {} running on the {} executor); wait for one to finish or {hint}",
                self.running_on(kind),
                self.settings.max_concurrent_for(kind),
                kind.as_str()
            )));
        }
        self.begin_run(wo, manual)
    }
}

/// Per-work-order variables: names a shell can set, none of ours, no NUL.
fn check_env(env: &std::collections::BTreeMap<String, String>) -> Result<(), ServiceError> {
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

impl Actor {
    /// Where a work order stands, in the order `schedule` starts queued work
    /// (FIFO by creation). The estimate (AgentGate's): as many rounds of
    /// `max_concurrent` starts as it takes to reach it, at the mean recent wait.
    pub(super) fn position(&self, id: &str) -> Result<QueuePosition, ServiceError> {
        let wo = self.get(id)?;
        if let Some(live) = self.live.get(id) {
            return Ok(QueuePosition {
                id: id.to_string(),
                position: 0,
                ahead: 0,
                running: true,
                estimated_wait_ms: Some(0),
                enqueued_at: live.run.started_at,
            });
        }
        let kind = self.executor_of(wo);
        let key = (wo.created_at, wo.id.clone());
        let queue = self.queued.get(&kind);
        if !queue.is_some_and(|q| q.contains(&key)) {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                format!(
                    "work order {id} is not in the queue: it is {}",
                    wo.status.api()
                ),
            ));
        }
        // Work on another executor does not wait in this line.
        let ahead = queue.map_or(0, |q| q.range(..key).count()) as u64;
        let estimated_wait_ms = if ahead == 0 && self.admission_open_cached(kind) {
            Some(0)
        } else if self.waits.is_empty() {
            None
        } else {
            let mean = self.waits.iter().sum::<u64>() as f64 / self.waits.len() as f64;
            let rounds = (ahead + 1).div_ceil(self.settings.max_concurrent_for(kind).max(1) as u64);
            Some((rounds as f64 * mean).round() as u64)
        };
        Ok(QueuePosition {
            id: id.to_string(),
            position: ahead + 1,
            ahead,
            running: false,
            estimated_wait_ms,
            enqueued_at: wo.created_at,
        })
    }
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
