//! The API form of a work order: the shared, immutable copy the daemon holds
//! (with its rendered JSON cached) and the views serialised for HTTP and
//! `--json` straight from a borrow, whose OpenAPI schema they also give.

use super::*;

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
pub(super) struct WorkOrderRef<'a> {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    setup: Option<&'a str>,
    /// Its confinement choices (unset ones come from its agent type).
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox: Option<&'a crate::model::SandboxRequest>,
    /// What its latest run got, e.g. `workspace (landlock v7, network off)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_applied: Option<&'a str>,
    /// Each landing of its worktree (`queue merge`), oldest first: the
    /// worktree's `merges`, at the top for readers of the work order.
    #[serde(skip_serializing_if = "<[crate::model::Merge]>::is_empty")]
    merges: &'a [crate::model::Merge],
    /// Why a queued work order waits; computed by the queue, never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    queued_reason: Option<&'a str>,
    /// AgentGate's harness view of the run, which its clients always read.
    harness: HarnessInfo,
}

/// AgentGate's `harness` object of a work order (`profile`, `loopStrategy`,
/// `verification`, `gitOps`), filled with what this daemon does: one agent
/// invocation per run (`fixed`), no CI wait, no verification levels, nothing
/// pushed (`local`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessInfo {
    /// The harness profile the work order was submitted with: always null,
    /// as a submit's profile is not recorded here.
    pub profile: Option<String>,
    pub loop_strategy: HarnessLoopStrategy,
    pub verification: HarnessVerification,
    pub git_ops: HarnessGitOps,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessLoopStrategy {
    /// fixed, hybrid, ralph or custom (AgentGate's modes); here always `fixed`.
    pub mode: String,
    pub max_iterations: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessVerification {
    /// Always false: the daemon waits for no CI.
    #[serde(rename = "waitForCI")]
    pub wait_for_ci: bool,
    /// Verification levels skipped (none run here, none are skipped).
    pub skip_levels: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessGitOps {
    /// local, push_only or github_pr (AgentGate's modes); here always
    /// `local`: the daemon pushes nothing.
    pub mode: String,
}

impl HarnessInfo {
    /// What a work order (or profile) with `max_iterations` runs as.
    pub fn new(profile: Option<String>, max_iterations: u32) -> HarnessInfo {
        HarnessInfo {
            profile,
            loop_strategy: HarnessLoopStrategy {
                mode: "fixed".into(),
                max_iterations,
            },
            verification: HarnessVerification {
                wait_for_ci: false,
                skip_levels: vec![],
            },
            git_ops: HarnessGitOps {
                mode: "local".into(),
            },
        }
    }
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
            setup: w.more.setup.as_deref(),
            sandbox: w.more.sandbox.as_deref(),
            sandbox_applied: w.more.sandbox_applied.as_deref(),
            merges: w
                .more
                .worktree
                .as_deref()
                .map_or(&[][..], |t| t.merges.as_slice()),
            queued_reason: self.1,
            harness: HarnessInfo::new(None, w.max_iterations),
        }
        .serialize(s)
    }
}

/// A workspace source as the API shows it (AgentGate's form).
pub struct WorkspaceApi<'a>(pub &'a WorkspaceSource);

/// Written by hand because the serialiser is: every form this daemon stores,
/// plus legacy sources with fields of their own.
impl utoipa::PartialSchema for WorkspaceApi<'_> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "local {type, path}; github {type, repo: \"owner/repo\", branch?}; git {type, url, branch?}; legacy types verbatim",
            ))
            .property("type", text())
            .required("type")
            .property("path", text())
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
                // As AgentGate answers it: one `owner/repo`.
                m.serialize_entry("type", "github")?;
                m.serialize_entry("repo", &format_args!("{owner}/{repo}"))?;
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
