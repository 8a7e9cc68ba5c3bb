//! A run record: one attempt at a work order, as stored in its run directory.

use super::*;

/// One run (an attempt) of a work order: `runs/<run-id>/run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: String,
    pub work_order_id: String,
    pub status: Status,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[serde(default, with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub pid_start_time: Option<u64>,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub result: Option<ResultKind>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub signal: Option<i32>,
    #[serde(default)]
    pub error: Option<String>,
    /// How the executor that runs it finds it again (persisted for adoption):
    /// `{"<executor>": {...}}`, read only by that executor.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub executor: Option<ExecHandle>,
    /// The run's cgroup while it has one.
    #[serde(default)]
    pub cgroup: Option<String>,
    /// Peak memory of the run (its cgroup's, else its largest process's).
    #[serde(default)]
    pub peak_memory_bytes: Option<u64>,
    /// CPU time used by every process of the run.
    #[serde(default)]
    pub cpu_time_ms: Option<u64>,
    /// The run's state in its executor, where it has one of its own (a batch
    /// job's PENDING, RUNNING, ...), and why (a pending reason).
    #[serde(default)]
    pub executor_state: Option<String>,
    #[serde(default)]
    pub executor_reason: Option<String>,
    /// How the agent's stdout is read (`claude-stream-json`); `None`: text.
    #[serde(default)]
    pub output_format: Option<String>,
    /// Lines of a structured output that could not be parsed (shown raw).
    #[serde(default)]
    pub malformed_lines: Option<u64>,
    /// What this run changed in its git worktree.
    #[serde(default)]
    pub changes: Option<Changes>,
    /// Iterations the run recorded (AgentGate's runs count theirs); `None`:
    /// the run is one iteration.
    #[serde(default)]
    pub recorded_iterations: Option<u32>,
}

impl Run {
    /// A run that began at `started_at` and has recorded nothing else yet.
    pub fn begun(id: String, work_order_id: String, status: Status, started_at: Timestamp) -> Run {
        Run {
            id,
            work_order_id,
            status,
            started_at,
            completed_at: None,
            pid: None,
            pid_start_time: None,
            workspace: None,
            result: None,
            exit_code: None,
            signal: None,
            error: None,
            executor: None,
            cgroup: None,
            peak_memory_bytes: None,
            cpu_time_ms: None,
            executor_state: None,
            executor_reason: None,
            output_format: None,
            malformed_lines: None,
            changes: None,
            recorded_iterations: None,
        }
    }

    /// Iterations as AgentGate's clients count them: one per run unless the
    /// run recorded more.
    pub fn iteration_count(&self) -> u32 {
        self.recorded_iterations.unwrap_or(1).max(1)
    }
}

impl Run {
    /// Reads a `run.json`: this daemon's record, or an AgentGate run (which has
    /// `state` instead of `status`, with more states than ours, and many fields
    /// this daemon does not model; `Store::save_run` keeps those on rewrite).
    pub fn from_stored_json(bytes: &[u8]) -> Result<Run, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(describe_error)?;
        if v.get("status").is_some() {
            return serde_json::from_value(v).map_err(describe_error);
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str);
        let time = |k: &str| text(k).and_then(|s| Timestamp::parse(s).ok());
        let id = text("id").ok_or("run has no \"id\"")?;
        let work_order_id = text("workOrderId").ok_or("run has no \"workOrderId\"")?;
        let state = text("state").ok_or("run has neither \"status\" nor \"state\"")?;
        let status = match state {
            "queued" => Status::Queued,
            "succeeded" => Status::Succeeded,
            "failed" => Status::Failed,
            "canceled" => Status::Canceled,
            // leased, building, snapshotting, verifying, feedback, pr_created, ...
            _ => Status::Running,
        };
        Ok(Run {
            completed_at: time("completedAt"),
            error: text("error").map(str::to_string),
            recorded_iterations: v
                .get("iteration")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            ..Run::begun(
                id.to_string(),
                work_order_id.to_string(),
                status,
                time("startedAt").ok_or("run has no valid \"startedAt\"")?,
            )
        })
    }

    /// The record as stored: this run's fields over `previous` (the file it
    /// replaces), so fields written by older AgentGate versions survive.
    pub fn to_stored_json(&self, previous: Option<Map<String, Value>>) -> Vec<u8> {
        let mine = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let merged = match previous {
            Some(mut prev) => {
                for (k, v) in mine {
                    prev.insert(k, v);
                }
                prev
            }
            None => mine,
        };
        serde_json::to_vec_pretty(&Value::Object(merged)).unwrap_or_default()
    }
}
