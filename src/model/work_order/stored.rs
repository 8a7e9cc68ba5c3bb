//! The stored JSON form of a work order (AgentGate's file format, unknown
//! fields kept): reading with every check a file from disk needs, writing.

use super::*;

/// A work order read from a file, with its unknown fields, and what had to
/// be clamped to bring its numbers into range (empty: nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub work_order: WorkOrder,
    pub extra: Map<String, Value>,
    pub notes: Vec<String>,
}

/// JSON shape of a work order. Optional fields are omitted when absent; fields
/// this daemon does not know are kept in `extra` and written back.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WorkOrderJson {
    id: String,
    task_prompt: String,
    status: Status,
    #[serde(default = "default_agent")]
    agent_type: String,
    workspace_source: Value,
    #[serde(with = "rfc3339")]
    created_at: Timestamp,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<Timestamp>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    started_at: Option<Timestamp>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    completed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_time: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_iterations: Option<Number>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    timeout_at: Option<Timestamp>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    last_activity_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid_start_time: Option<Number>,
    #[serde(default)]
    run_count: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    run_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<ResultKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exit_code: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signal: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resume_session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    worktree: Option<Worktree>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_result: Option<AgentResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    priority: i32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restarted_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    setup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sandbox: Option<crate::model::SandboxRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sandbox_applied: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

pub(super) fn is_zero(n: &i32) -> bool {
    *n == 0
}

pub(super) fn default_agent() -> String {
    "claude-code-subscription".to_string()
}

pub(super) fn describe_error(e: serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON: {e}"),
        Category::Io => format!("unreadable: {e}"),
        Category::Data => format!("not a valid work order: {e}"),
    }
}

/// Every key `WorkOrderJson` names. Preserved unknown fields never shadow them on
/// output (a duplicate key would make the file unreadable).
pub(super) const KNOWN_KEYS: [&str; 34] = [
    "id",
    "taskPrompt",
    "status",
    "agentType",
    "workspaceSource",
    "createdAt",
    "updatedAt",
    "startedAt",
    "completedAt",
    "maxTime",
    "maxIterations",
    "timeoutAt",
    "lastActivityAt",
    "pid",
    "pidStartTime",
    "runCount",
    "currentRunId",
    "runIds",
    "result",
    "exitCode",
    "signal",
    "error",
    "env",
    "parentId",
    "resumeSession",
    "worktree",
    "agentResult",
    "dependsOn",
    "priority",
    "labels",
    "restartedFrom",
    "setup",
    "sandbox",
    "sandboxApplied",
];

/// Keys under which `extra` carries the verbatim stored value of a known field
/// whose model form would lose something on rewrite (a legacy workspace source
/// with fields this daemon does not model, a structured `error`). The stored
/// value is written back as long as the model still says the same thing.
pub(super) const SHADOW_SOURCE: &str = "workspaceSource";
pub(super) const SHADOW_ERROR: &str = "error";

impl WorkOrderJson {
    pub(super) fn from_model(w: &WorkOrder, mut extra: Map<String, Value>) -> WorkOrderJson {
        let workspace_source = match extra.remove(SHADOW_SOURCE) {
            Some(stored)
                if WorkspaceSource::from_stored_json(&stored).as_ref()
                    == Ok(&w.workspace_source) =>
            {
                stored
            }
            _ => w.workspace_source.to_json(),
        };
        let error = match (extra.remove(SHADOW_ERROR), &w.error) {
            (Some(Value::Null), None) => Some(Value::Null),
            (Some(stored), Some(text))
                if !stored.is_string()
                    && serde_json::to_string(&stored).is_ok_and(|t| t == *text) =>
            {
                Some(stored)
            }
            _ => w.error.clone().map(Value::String),
        };
        extra.retain(|k, _| !KNOWN_KEYS.contains(&k.as_str()));
        WorkOrderJson {
            id: w.id.clone(),
            task_prompt: w.task_prompt.clone(),
            status: w.status,
            agent_type: w.agent_type.clone(),
            workspace_source,
            created_at: w.created_at,
            updated_at: Some(w.updated_at),
            started_at: w.started_at,
            completed_at: w.completed_at,
            max_time: Some(w.max_time.into()),
            max_iterations: Some(w.max_iterations.into()),
            timeout_at: w.timeout_at,
            last_activity_at: w.last_activity_at,
            pid: w.pid.map(Number::from),
            pid_start_time: w.pid_start_time.map(Number::from),
            run_count: Some(w.run_count.into()),
            current_run_id: w.current_run_id.clone(),
            run_ids: w.run_ids.clone(),
            result: w.result,
            exit_code: w.exit_code.map(Number::from),
            signal: w.signal.map(Number::from),
            error,
            env: w.more.env.clone(),
            parent_id: w.more.parent_id.clone(),
            resume_session: w.more.resume_session.clone(),
            worktree: w.more.worktree.as_deref().cloned(),
            agent_result: w.agent_result.as_deref().cloned(),
            depends_on: w.more.depends_on.clone(),
            priority: w.priority,
            labels: w.more.labels.clone(),
            restarted_from: w.more.restarted_from.clone(),
            setup: w.more.setup.clone(),
            sandbox: w.more.sandbox.as_deref().cloned(),
            sandbox_applied: w.more.sandbox_applied.clone(),
            extra,
        }
    }

    /// The model, with every number brought into its range (see `ranges`);
    /// what had to be changed is described in the notes.
    pub(super) fn into_model(mut self) -> Result<Checked, String> {
        let workspace_source = WorkspaceSource::from_stored_json(&self.workspace_source)
            .map_err(|e| format!("not a valid work order: {e}"))?;
        if workspace_source.to_json() != self.workspace_source {
            // Normalising lost or changed something: keep the stored form.
            self.extra
                .insert(SHADOW_SOURCE.into(), self.workspace_source.clone());
        }
        let mut notes = Vec::new();
        // AgentGate's own files name the limit `maxWallClockSeconds` and the run `runId`.
        let legacy_max_time = self.extra.get("maxWallClockSeconds").and_then(|v| match v {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        });
        let max_time = ranges::max_time(self.max_time.or(legacy_max_time).as_ref(), &mut notes);
        let max_iterations = ranges::max_iterations(self.max_iterations.as_ref(), &mut notes);
        let pid = ranges::pid(self.pid.as_ref(), &mut notes);
        let pid_start_time = match pid {
            Some(_) => ranges::unsigned("pidStartTime", self.pid_start_time.as_ref(), &mut notes),
            None => None,
        };
        let run_count = ranges::run_count(self.run_count.as_ref(), &mut notes);
        let exit_code = ranges::exit_code(self.exit_code.as_ref(), &mut notes);
        let signal = ranges::signal(self.signal.as_ref(), &mut notes);
        let current_run_id = self.current_run_id.or_else(|| {
            self.extra
                .get("runId")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let mut run_ids = std::mem::take(&mut self.run_ids);
        if let Some(r) = &current_run_id
            && !run_ids.contains(r)
        {
            run_ids.push(r.clone());
        }
        let error = match self.error {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Null) => {
                self.extra.insert(SHADOW_ERROR.into(), Value::Null);
                None
            }
            // Older data stored structured errors: the text for people, and the
            // stored value for the rewrite.
            Some(other) => {
                let text = other.to_string();
                self.extra.insert(SHADOW_ERROR.into(), other);
                Some(text)
            }
        };
        let wo = WorkOrder {
            id: self.id,
            task_prompt: self.task_prompt,
            status: self.status,
            agent_type: self.agent_type,
            workspace_source,
            created_at: self.created_at,
            updated_at: self.updated_at.unwrap_or(self.created_at),
            started_at: self.started_at,
            completed_at: self.completed_at,
            max_time,
            max_iterations,
            timeout_at: self.timeout_at,
            last_activity_at: self.last_activity_at,
            pid,
            pid_start_time,
            run_count: run_count.max(u32::try_from(run_ids.len()).unwrap_or(u32::MAX)),
            current_run_id,
            run_ids,
            result: self.result,
            exit_code,
            signal,
            error,
            priority: self.priority,
            agent_result: self.agent_result.map(Box::new),
            more: More::from(MoreFields {
                env: self.env,
                parent_id: self.parent_id,
                resume_session: self.resume_session,
                worktree: self.worktree.map(Box::new),
                depends_on: self.depends_on,
                labels: self.labels,
                restarted_from: self.restarted_from,
                setup: self.setup,
                sandbox: self.sandbox.map(Box::new),
                sandbox_applied: self.sandbox_applied,
            }),
        };
        Ok(Checked {
            work_order: wo,
            extra: self.extra,
            notes,
        })
    }
}
