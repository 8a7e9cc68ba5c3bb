//! Admission: what a submit is checked against, and when queued work starts
//! (event-driven: after a submit, an exit, a cancel, a tick, or exactly when
//! the stagger delay ends).

use std::time::Duration;

use tokio::time::Instant;

use super::Actor;
use crate::model::work_order::{DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_TIME, MAX_TIME_RANGE};
use crate::model::{Status, WorkOrder, WorkspaceInput, WorkspaceSource, new_id};
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
        if !self.settings.agents.contains_key(&agent_type) {
            let known: Vec<&str> = self.settings.agents.keys().map(String::as_str).collect();
            return Err(ServiceError::bad_request(
                "agentType",
                format!(
                    "unknown agent type {agent_type:?}; known: {} (add more under [agents.NAME] in the config file)",
                    known.join(", ")
                ),
            ));
        }
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
        if max_queue > 0 && self.queued.len() as u64 >= max_queue {
            return Err(ServiceError::unavailable(format!(
                "the queue is full: {} work orders waiting (max_queue_size {max_queue}); wait for some to start, cancel some, or raise --max-queue-size",
                self.queued.len()
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
        let wo = WorkOrder::new_queued(
            id,
            req.task_prompt,
            agent_type,
            source,
            max_time,
            max_iterations,
            self.next_created_at(),
        );
        tracing::info!(work_order = %wo.id, agent = %wo.agent_type, "submitted");
        // A free slot and nobody ahead: store it already running, one durable
        // write on the submit-to-running path instead of two.
        if self.queued.is_empty() && self.admission_open() {
            let id = wo.id.clone();
            self.begin_run(wo, false)?;
            return self.get(&id).cloned();
        }
        self.commit(wo.clone())?;
        Ok(wo)
    }

    pub(super) fn stagger_wake(&self) -> Option<Instant> {
        if !self.settings.auto_process || !self.accepting || self.queued.is_empty() {
            return None;
        }
        if self.live.len() >= self.settings.max_concurrent {
            return None;
        }
        let at = self.last_start? + self.settings.stagger_delay;
        (at > Instant::now()).then_some(at)
    }

    /// Whether an automatic start may happen now: a free slot, the stagger delay
    /// elapsed, enough memory, auto-processing on.
    fn admission_open(&self) -> bool {
        self.admission_open_with(proc::mem_available())
    }

    /// `admission_open` with the memory sampled on the last tick (for health,
    /// which must not read /proc per request).
    pub(super) fn admission_open_cached(&self) -> bool {
        self.admission_open_with(self.mem_available)
    }

    fn admission_open_with(&self, mem_available: Option<u64>) -> bool {
        if !self.settings.auto_process || !self.accepting {
            return false;
        }
        if self.live.len() >= self.settings.max_concurrent {
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
        if let Some(avail) = mem_available
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

    /// Event-driven admission: runs after submit, exit, cancel, and on the tick.
    pub(super) fn schedule(&mut self) {
        if !self.settings.auto_process || !self.accepting {
            return;
        }
        while let Some((_, id)) = self.queued.first().cloned() {
            if !self.admission_open() {
                return;
            }
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
        if self.live.len() >= self.settings.max_concurrent {
            return Err(ServiceError::invalid_state(format!(
                "concurrency limit reached ({} of {} running); wait for one to finish or raise --max-concurrent",
                self.live.len(),
                self.settings.max_concurrent
            )));
        }
        self.begin_run(wo, manual)
    }
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
        let key = (wo.created_at, wo.id.clone());
        if !self.queued.contains(&key) {
            return Err(ServiceError::new(
                ErrorCode::NotFound,
                format!(
                    "work order {id} is not in the queue: it is {}",
                    wo.status.api()
                ),
            ));
        }
        let ahead = self.queued.range(..key).count() as u64;
        let estimated_wait_ms = if ahead == 0 && self.admission_open_cached() {
            Some(0)
        } else if self.waits.is_empty() {
            None
        } else {
            let mean = self.waits.iter().sum::<u64>() as f64 / self.waits.len() as f64;
            let rounds = (ahead + 1).div_ceil(self.settings.max_concurrent.max(1) as u64);
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
