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
}

static NO_MORE: MoreFields = MoreFields {
    env: BTreeMap::new(),
    parent_id: None,
    resume_session: None,
    worktree: None,
    depends_on: Vec::new(),
    labels: Vec::new(),
    restarted_from: None,
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
}

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
struct WorkOrderJson {
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
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn default_agent() -> String {
    "claude-code-subscription".to_string()
}

fn describe_error(e: serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON: {e}"),
        Category::Io => format!("unreadable: {e}"),
        Category::Data => format!("not a valid work order: {e}"),
    }
}

/// Every key `WorkOrderJson` names. Preserved unknown fields never shadow them on
/// output (a duplicate key would make the file unreadable).
const KNOWN_KEYS: [&str; 31] = [
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
];

/// Keys under which `extra` carries the verbatim stored value of a known field
/// whose model form would lose something on rewrite (a legacy workspace source
/// with fields this daemon does not model, a structured `error`). The stored
/// value is written back as long as the model still says the same thing.
const SHADOW_SOURCE: &str = "workspaceSource";
const SHADOW_ERROR: &str = "error";

impl WorkOrderJson {
    fn from_model(w: &WorkOrder, mut extra: Map<String, Value>) -> WorkOrderJson {
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
            extra,
        }
    }

    /// The model, with every number brought into its range (see `ranges`);
    /// what had to be changed is described in the notes.
    fn into_model(mut self) -> Result<Checked, String> {
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
            }),
        };
        Ok(Checked {
            work_order: wo,
            extra: self.extra,
            notes,
        })
    }
}

/// A work order as the daemon shares it between its index and replies: never
/// mutated (a change makes a new one), with its compact API JSON rendered at
/// most once, on first need. `queue list --json` of 10,000 work orders is then
/// a concatenation, not 10,000 serialisations. Travels as a plain `WorkOrder`.
#[derive(Debug)]
pub struct SharedWorkOrder {
    wo: WorkOrder,
    /// The rendered API JSON, once needed; the daemon lets go of it for all
    /// but its newest work orders (`forget_api_json`), so a full listing of
    /// 100,000 does not keep 60 MiB of text.
    json: std::sync::Mutex<Option<std::sync::Arc<str>>>,
}

impl SharedWorkOrder {
    pub fn new(mut wo: WorkOrder) -> SharedWorkOrder {
        // Held for long: no allocation for fields it does not use.
        wo.more.compact();
        SharedWorkOrder {
            wo,
            json: std::sync::Mutex::new(None),
        }
    }

    /// The compact API JSON object (as `WorkOrder::to_json`, as text).
    pub fn api_json(&self) -> std::sync::Arc<str> {
        let mut cached = self
            .json
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cached
            .get_or_insert_with(|| {
                serde_json::to_string(&WorkOrderApi(&self.wo))
                    .unwrap_or_default()
                    .into()
            })
            .clone()
    }

    /// Drops the rendered JSON (rendered again when next needed).
    pub fn forget_api_json(&self) {
        if let Ok(mut cached) = self.json.lock() {
            *cached = None;
        }
    }

    /// Whether the JSON is rendered and kept.
    pub fn has_api_json(&self) -> bool {
        self.json.lock().is_ok_and(|c| c.is_some())
    }

    /// The cached API JSON with a `queuedReason` appended: the reason changes
    /// by the second, so it is never part of the cache.
    pub fn api_json_with_reason(&self, reason: Option<&str>) -> std::sync::Arc<str> {
        let json = self.api_json();
        match (reason, json.strip_suffix('}')) {
            (Some(r), Some(head)) => {
                let r = serde_json::to_string(r).unwrap_or_else(|_| "\"\"".into());
                format!("{head},\"queuedReason\":{r}}}").into()
            }
            _ => json,
        }
    }
}

impl std::ops::Deref for SharedWorkOrder {
    type Target = WorkOrder;
    fn deref(&self) -> &WorkOrder {
        &self.wo
    }
}

impl PartialEq for SharedWorkOrder {
    fn eq(&self, other: &SharedWorkOrder) -> bool {
        self.wo == other.wo
    }
}

impl Serialize for SharedWorkOrder {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.wo.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SharedWorkOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SharedWorkOrder, D::Error> {
        WorkOrder::deserialize(d).map(SharedWorkOrder::new)
    }
}

/// Serialises a work order as its API JSON object straight from a borrow: no
/// intermediate `Value`, so listing 10,000 work orders stays cheap.
pub struct WorkOrderApi<'a>(pub &'a WorkOrder);

/// The API form of a work order. Its OpenAPI schema is derived from this
/// very struct, so the document and the bodies cannot drift apart.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WorkOrder)]
struct WorkOrderRef<'a> {
    id: &'a str,
    task_prompt: &'a str,
    /// One of the five statuses AgentGate's clients render.
    status: Status,
    /// The stored status when `status` shows a legacy running-like one
    /// (`waiting_for_children`, `integrating`) as `running`.
    #[serde(skip_serializing_if = "Option::is_none")]
    legacy_status: Option<Status>,
    agent_type: &'a str,
    workspace_source: WorkspaceApi<'a>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    #[serde(with = "rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    started_at: Option<Timestamp>,
    #[serde(with = "rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    completed_at: Option<Timestamp>,
    /// Seconds.
    max_time: u64,
    max_iterations: u32,
    #[serde(with = "rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    timeout_at: Option<Timestamp>,
    #[serde(with = "rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    last_activity_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid_start_time: Option<u64>,
    run_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    #[schema(value_type = Vec<String>)]
    run_ids: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<ResultKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worktree: Option<&'a Worktree>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_result: Option<&'a AgentResult>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    depends_on: &'a [String],
    priority: i32,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    labels: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    restarted_from: Option<&'a str>,
    /// Why a queued work order waits; computed by the queue, never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    queued_reason: Option<&'a str>,
}

/// The OpenAPI schema of a view that serialises as `WorkOrderRef`.
macro_rules! schema_of_work_order_ref {
    ($view:ident) => {
        impl utoipa::PartialSchema for $view<'_> {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <WorkOrderRef<'_> as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $view<'_> {
            fn name() -> std::borrow::Cow<'static, str> {
                <WorkOrderRef<'_> as utoipa::ToSchema>::name()
            }
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                <WorkOrderRef<'_> as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

schema_of_work_order_ref!(WorkOrderApi);

impl Serialize for WorkOrderApi<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WorkOrderWithReason(self.0, None).serialize(s)
    }
}

/// A work order's API JSON object with its `queuedReason` (when it waits).
pub struct WorkOrderWithReason<'a>(pub &'a WorkOrder, pub Option<&'a str>);

schema_of_work_order_ref!(WorkOrderWithReason);

impl Serialize for WorkOrderWithReason<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = self.0;
        WorkOrderRef {
            id: &w.id,
            task_prompt: &w.task_prompt,
            status: w.status.api(),
            legacy_status: (w.status.api() != w.status).then_some(w.status),
            agent_type: &w.agent_type,
            workspace_source: WorkspaceApi(&w.workspace_source),
            created_at: w.created_at,
            updated_at: w.updated_at,
            started_at: w.started_at,
            completed_at: w.completed_at,
            max_time: w.max_time,
            max_iterations: w.max_iterations,
            timeout_at: w.timeout_at,
            last_activity_at: w.last_activity_at,
            pid: w.pid,
            pid_start_time: w.pid_start_time,
            run_count: w.run_count,
            current_run_id: w.current_run_id.as_deref(),
            run_ids: &w.run_ids,
            result: w.result,
            exit_code: w.exit_code,
            signal: w.signal,
            error: w.error.as_deref(),
            env: &w.more.env,
            parent_id: w.more.parent_id.as_deref(),
            worktree: w.more.worktree.as_deref(),
            agent_result: w.agent_result.as_deref(),
            depends_on: &w.more.depends_on,
            priority: w.priority,
            labels: &w.more.labels,
            restarted_from: w.more.restarted_from.as_deref(),
            queued_reason: self.1,
        }
        .serialize(s)
    }
}

struct WorkspaceApi<'a>(&'a WorkspaceSource);

/// Written by hand because the serialiser is: every form this daemon stores,
/// plus legacy sources with fields of their own.
impl utoipa::PartialSchema for WorkspaceApi<'_> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "local {type, path}; github {type, owner, repo, branch?}; git {type, url, branch?}; legacy types verbatim",
            ))
            .property("type", text())
            .required("type")
            .property("path", text())
            .property("owner", text())
            .property("repo", text())
            .property("url", text())
            .property("branch", text())
            .into()
    }
}

impl utoipa::ToSchema for WorkspaceApi<'_> {
    fn name() -> std::borrow::Cow<'static, str> {
        "WorkspaceSource".into()
    }
}

impl Serialize for WorkspaceApi<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self.0 {
            WorkspaceSource::Local { path } => {
                m.serialize_entry("type", "local")?;
                m.serialize_entry("path", path)?;
            }
            WorkspaceSource::Github {
                owner,
                repo,
                branch,
            } => {
                m.serialize_entry("type", "github")?;
                m.serialize_entry("owner", owner)?;
                m.serialize_entry("repo", repo)?;
                if let Some(b) = branch {
                    m.serialize_entry("branch", b)?;
                }
            }
            WorkspaceSource::Git { url, branch } => {
                m.serialize_entry("type", "git")?;
                m.serialize_entry("url", url)?;
                if let Some(b) = branch {
                    m.serialize_entry("branch", b)?;
                }
            }
            other @ WorkspaceSource::Other { .. } => {
                // Legacy sources are rare: go through their stored JSON.
                if let Value::Object(fields) = other.to_json() {
                    for (k, v) in &fields {
                        m.serialize_entry(k, v)?;
                    }
                }
            }
        }
        m.end()
    }
}

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
    /// How the executor that runs it finds it again (persisted for adoption).
    #[serde(default)]
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
    /// The run's state in its executor, where it has one of its own (a Slurm
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
