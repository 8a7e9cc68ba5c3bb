//! Routes AgentGate's SDK calls for features this daemon does not have
//! (harness profiles, configuration audit trails), answered from what it does
//! have. A work order's settings never change while it runs, so:
//!
//! - `GET /api/v1/runs/{id}/config`: the run's effective settings;
//! - `GET /api/v1/work-orders/{id}/audit` and `/api/v1/audit/runs/{id}[/snapshots|/changes]`:
//!   one configuration snapshot per run (its settings), never a change;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::envelope::*;
use super::parse::*;
use super::routes::try_resp;
use crate::model::work_order::{
    HarnessGitOps, HarnessInfo, HarnessLoopStrategy, HarnessVerification, WorkspaceApi,
};
use crate::model::{Run, Status, WorkOrder};
use crate::service::ServiceError;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionLimitsJson {
    max_wall_clock_seconds: u64,
}

/// A run's settings in AgentGate's harness terms.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HarnessConfigJson {
    loop_strategy: HarnessLoopStrategy,
    verification: HarnessVerification,
    git_ops: HarnessGitOps,
    execution_limits: ExecutionLimitsJson,
}

impl HarnessConfigJson {
    pub fn new(max_iterations: u32, max_time: u64) -> HarnessConfigJson {
        let h = HarnessInfo::new(None, max_iterations);
        HarnessConfigJson {
            loop_strategy: h.loop_strategy,
            verification: h.verification,
            git_ops: h.git_ops,
            execution_limits: ExecutionLimitsJson {
                max_wall_clock_seconds: max_time,
            },
        }
    }

    fn of(wo: &WorkOrder) -> HarnessConfigJson {
        HarnessConfigJson::new(wo.max_iterations, wo.max_time)
    }
}

/// The settings a run was started with.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSettingsJson {
    agent_type: String,
    max_iterations: u32,
    /// Seconds.
    max_time: u64,
    #[schema(value_type = Object)]
    workspace_source: serde_json::Value,
    #[serde(flatten)]
    harness: HarnessConfigJson,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RunConfig)]
pub struct RunConfigJson {
    run_id: String,
    work_order_id: String,
    config: RunSettingsJson,
    state: Status,
    iteration: u32,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    completed_at: Option<String>,
}

/// The run and its work order, or the service's error.
async fn run_and_order(st: &AppState, id: String) -> Result<(Run, WorkOrder), ServiceError> {
    let run = st
        .service
        .call(crate::service::GetRunRequest { id })
        .await?;
    let wo = st
        .service
        .call(crate::service::ShowRequest {
            id: run.work_order_id.clone(),
        })
        .await?
        .work_order;
    Ok((run, wo))
}

/// A run's settings (AgentGate's SDK `runs.getConfig`).
#[utoipa::path(get, path = "/api/v1/runs/{id}/config", tag = "runs",
    params(("id" = String, Path, description = "Run id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "Its settings", body = Envelope<RunConfigJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn run_config(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let (run, wo) = match run_and_order(&st, id).await {
        Ok(v) => v,
        Err(e) => return service_error(&rid, e),
    };
    let data = RunConfigJson {
        run_id: run.id.clone(),
        work_order_id: wo.id.clone(),
        config: RunSettingsJson {
            agent_type: wo.agent_type.clone(),
            max_iterations: wo.max_iterations,
            max_time: wo.max_time,
            workspace_source: serde_json::to_value(WorkspaceApi(&wo.workspace_source))
                .unwrap_or_default(),
            harness: HarnessConfigJson::of(&wo),
        },
        state: run.status.api(),
        iteration: run.iteration_count(),
        started_at: run.started_at.to_rfc3339(),
        completed_at: run.completed_at.map(|t| t.to_rfc3339()),
    };
    ok(&rid, StatusCode::OK, json!(data))
}

/// A run's one configuration snapshot.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ConfigSnapshot)]
pub struct SnapshotJson {
    id: String,
    work_order_id: String,
    run_id: String,
    iteration: u32,
    #[schema(format = DateTime)]
    snapshot_at: String,
    config_hash: String,
    config: HarnessConfigJson,
}

/// FNV-1a of the text: a stable short fingerprint of a configuration.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn snapshot(run: &Run, wo: &WorkOrder) -> SnapshotJson {
    let config = HarnessConfigJson::of(wo);
    let text = serde_json::to_string(&config).unwrap_or_default();
    SnapshotJson {
        id: format!("{}-1", run.id),
        work_order_id: wo.id.clone(),
        run_id: run.id.clone(),
        iteration: 1,
        snapshot_at: run.started_at.to_rfc3339(),
        config_hash: fingerprint(&text),
        config,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunAuditJson {
    run_id: String,
    iteration: u32,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    completed_at: Option<String>,
    snapshot_count: u32,
    change_count: u32,
    config_hash: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WorkOrderAudit)]
pub struct WorkOrderAuditJson {
    work_order_id: String,
    runs: Vec<RunAuditJson>,
}

/// A work order's runs with their configuration (AgentGate's SDK `getAudit`).
#[utoipa::path(get, path = "/api/v1/work-orders/{id}/audit", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "Its runs' configuration", body = Envelope<WorkOrderAuditJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn work_order_audit(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let detail = match st.service.call(crate::service::ShowRequest { id }).await {
        Ok(d) => d,
        Err(e) => return service_error(&rid, e),
    };
    let wo = &detail.work_order;
    let data = WorkOrderAuditJson {
        work_order_id: wo.id.clone(),
        runs: detail
            .runs
            .iter()
            .map(|run| RunAuditJson {
                run_id: run.id.clone(),
                iteration: run.iteration_count(),
                started_at: run.started_at.to_rfc3339(),
                completed_at: run.completed_at.map(|t| t.to_rfc3339()),
                snapshot_count: 1,
                change_count: 0,
                config_hash: snapshot(run, wo).config_hash,
            })
            .collect(),
    };
    ok(&rid, StatusCode::OK, json!(data))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditRecord)]
pub struct AuditRecordJson {
    run_id: String,
    work_order_id: String,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    completed_at: Option<String>,
    initial_config: SnapshotJson,
    /// The same snapshot once the run has ended.
    final_config: Option<SnapshotJson>,
    snapshot_count: u32,
    change_count: u32,
    config_hash_changed: bool,
}

/// A run's configuration audit record (AgentGate's SDK `audit.getRecord`).
#[utoipa::path(get, path = "/api/v1/audit/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The record", body = Envelope<AuditRecordJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn audit_record(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let (run, wo) = match run_and_order(&st, id).await {
        Ok(v) => v,
        Err(e) => return service_error(&rid, e),
    };
    let data = AuditRecordJson {
        run_id: run.id.clone(),
        work_order_id: wo.id.clone(),
        started_at: run.started_at.to_rfc3339(),
        completed_at: run.completed_at.map(|t| t.to_rfc3339()),
        initial_config: snapshot(&run, &wo),
        final_config: run.completed_at.map(|_| snapshot(&run, &wo)),
        snapshot_count: 1,
        change_count: 0,
        config_hash_changed: false,
    };
    ok(&rid, StatusCode::OK, json!(data))
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConfigSnapshots)]
pub struct SnapshotsJson {
    items: Vec<SnapshotJson>,
    total: u64,
}

/// A run's configuration snapshots (`?iteration=N`: of that iteration).
#[utoipa::path(get, path = "/api/v1/audit/runs/{id}/snapshots", tag = "runs",
    params(("id" = String, Path, description = "Run id", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        ("iteration" = Option<u32>, Query, maximum = 2147483647, description = "Only this iteration's")),
    responses(
        (status = 200, description = "Its snapshots", body = Envelope<SnapshotsJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn audit_snapshots(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let pairs = try_resp!(&rid, query_pairs(&q));
    // Given empty is not absent: `?iteration=` is refused like any bad value.
    let given = pairs
        .iter()
        .find(|(k, _)| k == "iteration")
        .map(|(_, v)| v.as_str());
    let iteration = match given {
        None => None,
        Some(s) => Some(try_resp!(
            &rid,
            s.parse::<u32>()
                .ok()
                .filter(|n| *n <= i32::MAX as u32)
                .ok_or_else(|| bad(
                    "iteration",
                    format!(
                        "iteration {s:?} must be a whole number from 0 to {}",
                        i32::MAX
                    )
                ))
        )),
    };
    let (run, wo) = match run_and_order(&st, id).await {
        Ok(v) => v,
        Err(e) => return service_error(&rid, e),
    };
    let items: Vec<SnapshotJson> = if iteration.is_none_or(|n| n == 1) {
        vec![snapshot(&run, &wo)]
    } else {
        vec![]
    };
    let data = SnapshotsJson {
        total: items.len() as u64,
        items,
    };
    ok(&rid, StatusCode::OK, json!(data))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSummaryJson {
    total_changes: u64,
    changed_paths: Vec<String>,
    by_initiator: ByInitiatorJson,
}

/// Changes counted by who made them, as AgentGate counts them.
#[derive(Serialize, ToSchema, Default)]
pub struct ByInitiatorJson {
    user: u64,
    strategy: u64,
    system: u64,
}

/// A configuration change (none ever happens here).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeJson {
    iteration: u32,
    path: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConfigChanges)]
pub struct ChangesJson {
    items: Vec<ChangeJson>,
    total: u64,
    summary: ChangeSummaryJson,
}

/// A run's configuration changes: always none.
#[utoipa::path(get, path = "/api/v1/audit/runs/{id}/changes", tag = "runs",
    params(("id" = String, Path, description = "Run id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "No changes", body = Envelope<ChangesJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn audit_changes(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    if let Err(e) = st.service.call(crate::service::GetRunRequest { id }).await {
        return service_error(&rid, e);
    }
    let data = ChangesJson {
        items: vec![],
        total: 0,
        summary: ChangeSummaryJson {
            total_changes: 0,
            changed_paths: vec![],
            by_initiator: ByInitiatorJson::default(),
        },
    };
    ok(&rid, StatusCode::OK, json!(data))
}
