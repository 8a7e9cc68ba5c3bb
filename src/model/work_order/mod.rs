//! The work order and run records, the single checked status transition, and
//! their JSON form (camelCase; used by the HTTP API, `--json` and the store).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::time::rfc3339;
use std::collections::BTreeMap;

use super::{
    AgentResult, Changes, ExecHandle, ModelError, ResultKind, Status, Timestamp, WorkspaceSource,
    Worktree, ranges,
};

mod api;
mod run;
mod stored;

pub use api::*;
pub use run::*;
pub use stored::*;

/// Default for `maxTime` (seconds) and its accepted range.
pub const DEFAULT_MAX_TIME: u64 = 3600;
pub const MAX_TIME_RANGE: std::ops::RangeInclusive<u64> = 1..=604_800;
pub const DEFAULT_MAX_ITERATIONS: u32 = 3;
/// Accepted range of `maxIterations`.
pub const MAX_ITERATIONS_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;

/// One work order as the daemon holds it and sends it over RPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: String,
    pub task_prompt: String,
    pub status: Status,
    pub agent_type: String,
    pub workspace_source: WorkspaceSource,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub max_time: u64,
    pub max_iterations: u32,
    pub timeout_at: Option<Timestamp>,
    pub last_activity_at: Option<Timestamp>,
    pub pid: Option<u32>,
    /// Process start time (clock ticks since boot, /proc/PID/stat field 22): tells
    /// a live agent from a reused PID after a restart.
    pub pid_start_time: Option<u64>,
    pub run_count: u32,
    pub current_run_id: Option<String>,
    pub run_ids: Vec<String>,
    pub result: Option<ResultKind>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub error: Option<String>,
    /// Higher starts first; FIFO among equals.
    pub priority: i32,
    /// The agent's own account of its last run (its own allocation: most
    /// finished runs of Claude have one).
    pub agent_result: Option<Box<AgentResult>>,
    /// What most work orders never use (env, links, worktree, dependencies,
    /// labels): one pointer until one is set.
    pub more: More,
}

/// The fields of a work order that most never set, kept behind one pointer
/// (`None` while all are empty): 100,000 held work orders cost 8 bytes each
/// for them instead of about 360. Read through `Deref` (an empty set when
/// absent); written through `DerefMut` (allocated on first write);
/// `compact` lets go of an all-empty set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct More(Option<Box<MoreFields>>);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MoreFields {
    /// Variables set for this work order only (`submit --env`).
    pub env: BTreeMap<String, String>,
    /// The work order this one follows up (`queue continue`).
    pub parent_id: Option<String>,
    /// The agent session its runs resume (a follow-up's parent's).
    pub resume_session: Option<String>,
    pub worktree: Option<Box<Worktree>>,
    /// Work orders that must all succeed before this one starts (`--after`).
    pub depends_on: Vec<String>,
    /// Free-form tags for filtering (`--label`).
    pub labels: Vec<String>,
    /// The work order this one re-queues a copy of (`queue restart`).
    pub restarted_from: Option<String>,
    /// A shell command run in the workspace before the agent (`--setup`).
    #[serde(default)]
    pub setup: Option<String>,
    /// Its confinement choices (`submit --sandbox ...`, AgentGate's `policies`).
    #[serde(default)]
    pub sandbox: Option<Box<crate::model::SandboxRequest>>,
    /// What its latest run got: `workspace (landlock v7, network off)`, `off`.
    #[serde(default)]
    pub sandbox_applied: Option<String>,
}

static NO_MORE: MoreFields = MoreFields {
    env: BTreeMap::new(),
    parent_id: None,
    resume_session: None,
    worktree: None,
    depends_on: Vec::new(),
    labels: Vec::new(),
    restarted_from: None,
    setup: None,
    sandbox: None,
    sandbox_applied: None,
};

impl More {
    /// Lets go of the allocation when every field is empty.
    pub fn compact(&mut self) {
        if self.0.as_deref().is_some_and(|m| *m == NO_MORE) {
            self.0 = None;
        }
    }
}

impl std::ops::Deref for More {
    type Target = MoreFields;
    fn deref(&self) -> &MoreFields {
        self.0.as_deref().unwrap_or(&NO_MORE)
    }
}

impl std::ops::DerefMut for More {
    fn deref_mut(&mut self) -> &mut MoreFields {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<MoreFields> for More {
    fn from(m: MoreFields) -> More {
        let mut more = More(Some(Box::new(m)));
        more.compact();
        more
    }
}

impl PartialEq for More {
    fn eq(&self, other: &More) -> bool {
        **self == **other
    }
}

impl WorkOrder {
    /// A new queued work order, created `now`, that has never run.
    pub fn new_queued(
        id: String,
        task_prompt: String,
        agent_type: String,
        workspace_source: WorkspaceSource,
        max_time: u64,
        max_iterations: u32,
        now: Timestamp,
    ) -> WorkOrder {
        WorkOrder {
            id,
            task_prompt,
            status: Status::Queued,
            agent_type,
            workspace_source,
            created_at: now,
            updated_at: now,
            started_at: None,
            completed_at: None,
            max_time,
            max_iterations,
            timeout_at: None,
            last_activity_at: None,
            pid: None,
            pid_start_time: None,
            run_count: 0,
            current_run_id: None,
            run_ids: vec![],
            result: None,
            exit_code: None,
            signal: None,
            error: None,
            priority: 0,
            agent_result: None,
            more: More::default(),
        }
    }

    /// Every status change goes through here.
    pub fn transition(&mut self, to: Status, now: Timestamp) -> Result<(), ModelError> {
        self.status.check_transition(to)?;
        self.status = to;
        self.updated_at = now;
        if to == Status::Running {
            self.started_at = Some(now);
            self.completed_at = None;
            self.last_activity_at = Some(now);
            self.result = None;
            self.exit_code = None;
            self.signal = None;
            self.error = None;
            self.agent_result = None;
            self.pid = None;
            self.pid_start_time = None;
        }
        if to.is_terminal() {
            self.completed_at = Some(now);
            self.pid = None;
            self.pid_start_time = None;
        }
        Ok(())
    }

    /// Ends the work order with a recorded reason (the `Result=` of systemd).
    pub fn finish(
        &mut self,
        to: Status,
        result: ResultKind,
        exit_code: Option<i32>,
        signal: Option<i32>,
        error: Option<String>,
        now: Timestamp,
    ) -> Result<(), ModelError> {
        self.transition(to, now)?;
        self.result = Some(result);
        self.exit_code = exit_code;
        self.signal = signal;
        self.error = error;
        Ok(())
    }

    /// The JSON object of the HTTP API and `--json` (no unknown fields).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(WorkOrderApi(self)).unwrap_or(Value::Null)
    }

    /// The JSON object with preserved unknown fields (the on-disk form).
    pub fn to_json_with(&self, extra: &Map<String, Value>) -> Value {
        let j = WorkOrderJson::from_model(self, extra.clone());
        serde_json::to_value(j).unwrap_or(Value::Null)
    }

    /// Parses a stored or legacy work order; unknown fields come back separately.
    pub fn from_json_value(v: Value) -> Result<(WorkOrder, Map<String, Value>), String> {
        let j: WorkOrderJson = serde_json::from_value(v).map_err(describe_error)?;
        j.into_model().map(|c| (c.work_order, c.extra))
    }

    /// Parses a work-order file. The error names what is wrong: not JSON at all,
    /// a missing required field, an unknown status, a bad timestamp, ...
    pub fn from_json_slice(bytes: &[u8]) -> Result<(WorkOrder, Map<String, Value>), String> {
        Self::from_json_slice_checked(bytes).map(|c| (c.work_order, c.extra))
    }

    /// As `from_json_slice`, saying which numbers were out of range and what
    /// they became (the loader logs it and writes the file back).
    pub fn from_json_slice_checked(bytes: &[u8]) -> Result<Checked, String> {
        let j: WorkOrderJson = serde_json::from_slice(bytes).map_err(describe_error)?;
        j.into_model()
    }

    pub fn to_json_pretty_with(&self, extra: &Map<String, Value>) -> Vec<u8> {
        let j = WorkOrderJson::from_model(self, extra.clone());
        serde_json::to_vec_pretty(&j).unwrap_or_default()
    }

    /// The same stored form on one line (a journal record).
    pub fn to_json_line_with(&self, extra: &Map<String, Value>) -> Vec<u8> {
        let j = WorkOrderJson::from_model(self, extra.clone());
        serde_json::to_vec(&j).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn sample() -> WorkOrder {
        WorkOrder::new_queued(
            "abcDEF123_-x".into(),
            "echo hi".into(),
            "shell".into(),
            WorkspaceSource::Local {
                path: "/tmp".into(),
            },
            3600,
            3,
            Timestamp(1_767_323_045_678),
        )
    }

    #[test]
    fn rarely_used_fields_cost_one_pointer_until_set() {
        let mut wo = sample();
        assert!(wo.more.0.is_none());
        assert!(wo.more.labels.is_empty() && wo.more.worktree.is_none());
        // A write of nothing allocates; holding it lets go again.
        wo.more.env = BTreeMap::new();
        assert!(wo.more.0.is_some());
        let held = SharedWorkOrder::new(wo.clone());
        assert!(held.more.0.is_none());
        assert_eq!(*held, wo, "an empty set equals none");
        // What is set is kept, in memory and through JSON.
        wo.more.labels = vec!["nightly".into()];
        let held = SharedWorkOrder::new(wo.clone());
        assert_eq!(held.more.labels, ["nightly"]);
        let (back, _) = WorkOrder::from_json_value(wo.to_json_with(&Map::new())).unwrap();
        assert_eq!(back.more.labels, ["nightly"]);
        let (plain, _) = WorkOrder::from_json_value(sample().to_json_with(&Map::new())).unwrap();
        assert!(plain.more.0.is_none(), "loaded without any: no allocation");
    }

    #[test]
    fn json_round_trip_preserves_unknown_fields() {
        let mut extra = Map::new();
        extra.insert("policies".into(), json!({"networkAllowed": false}));
        let wo = sample();
        let v = wo.to_json_with(&extra);
        assert_eq!(v["createdAt"], "2026-01-02T03:04:05.678Z");
        assert_eq!(v["workspaceSource"], json!({"type":"local","path":"/tmp"}));
        assert!(v.get("startedAt").is_none());
        let (back, extra2) = WorkOrder::from_json_value(v).unwrap();
        assert_eq!(back, wo);
        assert_eq!(extra2, extra);
    }

    #[test]
    fn transitions_are_checked_and_stamp_times() {
        let mut wo = sample();
        assert!(wo.transition(Status::Succeeded, Timestamp(1)).is_err());
        wo.transition(Status::Running, Timestamp(10)).unwrap();
        assert_eq!(wo.started_at, Some(Timestamp(10)));
        wo.finish(
            Status::Failed,
            ResultKind::Exited,
            Some(3),
            None,
            None,
            Timestamp(20),
        )
        .unwrap();
        assert_eq!(wo.completed_at, Some(Timestamp(20)));
        assert!(wo.transition(Status::Canceled, Timestamp(30)).is_err());
    }

    fn stored(v: Value) -> Value {
        let (wo, extra) = WorkOrder::from_json_value(v).unwrap();
        serde_json::from_slice(&wo.to_json_pretty_with(&extra)).unwrap()
    }

    #[test]
    fn stored_values_the_model_would_change_are_written_back_verbatim() {
        let mut v = sample().to_json();
        // A GitHub source with a field this daemon does not model, a `.git`
        // suffix it would strip, and a structured error.
        v["workspaceSource"] = json!({"type":"github","owner":"o","repo":"r.git","token":"x"});
        v["error"] = json!({"code": "E42", "message": "boom"});
        v["status"] = json!("failed");
        let (wo, _) = WorkOrder::from_json_value(v.clone()).unwrap();
        assert_eq!(wo.workspace_source.describe(), "github:o/r");
        assert_eq!(
            wo.error.as_deref(),
            Some(r#"{"code":"E42","message":"boom"}"#)
        );
        let out = stored(v.clone());
        assert_eq!(out["workspaceSource"], v["workspaceSource"]);
        assert_eq!(out["error"], v["error"]);
        // Written twice: still the same (no duplicate keys, nothing lost).
        assert_eq!(stored(out.clone()), out);

        // `"error": null` from older data stays null.
        let mut n = sample().to_json();
        n["error"] = Value::Null;
        assert_eq!(stored(n)["error"], Value::Null);

        // Once the model changes, the model's value is written.
        let (mut wo, extra) = WorkOrder::from_json_value(v).unwrap();
        wo.error = Some("new text".into());
        let out: Value = serde_json::from_slice(&wo.to_json_pretty_with(&extra)).unwrap();
        assert_eq!(out["error"], "new text");
    }

    #[test]
    fn unknown_fields_never_duplicate_known_ones() {
        let mut extra = Map::new();
        extra.insert("status".into(), json!("bogus"));
        extra.insert("depth".into(), json!(2));
        let bytes = sample().to_json_pretty_with(&extra);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.matches("\"status\"").count(), 1, "{text}");
        let (back, extra2) = WorkOrder::from_json_slice(&bytes).unwrap();
        assert_eq!(back.status, Status::Queued);
        assert_eq!(extra2.get("depth"), Some(&json!(2)));
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let e = WorkOrder::from_json_slice(b"{\"id\": \"x\", ").unwrap_err();
        assert!(e.starts_with("not valid JSON"), "{e}");
        let mut v = sample().to_json();
        v.as_object_mut().unwrap().remove("createdAt");
        let e = WorkOrder::from_json_value(v).unwrap_err();
        assert!(e.contains("missing field `createdAt`"), "{e}");
        let mut v = sample().to_json();
        v["status"] = json!("done");
        let e = WorkOrder::from_json_value(v).unwrap_err();
        assert!(e.contains("unknown variant `done`"), "{e}");
    }

    #[test]
    fn agentgate_run_records_load_and_keep_their_fields() {
        let legacy = json!({
            "id": "run1", "workOrderId": "wo1", "state": "building", "iteration": 2,
            "startedAt": "2025-11-04T12:05:01.000Z", "completedAt": null, "error": null,
            "snapshotIds": ["s1"]
        });
        let bytes = serde_json::to_vec(&legacy).unwrap();
        let mut run = Run::from_stored_json(&bytes).unwrap();
        assert_eq!(
            (run.status, run.work_order_id.as_str()),
            (Status::Running, "wo1")
        );
        run.status = Status::Failed;
        run.result = Some(ResultKind::Interrupted);
        let prev = serde_json::from_slice(&bytes).ok();
        let out: Value = serde_json::from_slice(&run.to_stored_json(prev)).unwrap();
        assert_eq!(out["status"], "failed");
        assert_eq!(out["result"], "interrupted");
        assert_eq!(out["iteration"], 2);
        assert_eq!(out["snapshotIds"], json!(["s1"]));
        // Our own record reads back exactly.
        let again = Run::from_stored_json(&serde_json::to_vec(&out).unwrap()).unwrap();
        assert_eq!(again, run);
        assert!(Run::from_stored_json(b"{\"id\": \"r\"}").is_err());
    }
}
