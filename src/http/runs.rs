//! `GET /api/v1/runs` and `GET /api/v1/runs/{id}`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa::IntoParams;

use super::AppState;
use super::envelope::*;
use super::parse::*;
use super::routes::try_resp;
use crate::model::Status;
use crate::service::api::{PageJson, RunJson};
use crate::service::{RunQuery, run_json};

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RunListParams {
    /// Only the runs of this work order.
    #[param(rename = "workOrderId")]
    work_order_id: Option<String>,
    /// queued, building (= running), running, succeeded, failed or canceled;
    /// repeat or comma-separate for several.
    status: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<u32>,
}

/// A run status as AgentGate's clients name them (`building` is running here).
fn run_statuses(pairs: &[(String, String)]) -> Result<Vec<Status>, ApiError> {
    let mut out = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "status") {
        for s in v.split(',').filter(|s| !s.is_empty()) {
            let status = match s {
                "building" => Status::Running,
                other => other.parse::<Status>().map_err(|e| bad("status", e))?,
            };
            out.push(status.api());
        }
    }
    Ok(out)
}

/// Runs, newest first: by their work order's creation, then each work
/// order's newest run first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunListParams),
    responses(
        (status = 200, description = "A page of runs", body = Envelope<PageJson<RunJson>>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    RawQuery(q): RawQuery,
) -> Response {
    let pairs = try_resp!(&rid, query_pairs(&q));
    let (limit, offset) = try_resp!(&rid, query_page(&pairs));
    let query = RunQuery {
        work_order_id: query_get(&pairs, "workOrderId").map(str::to_string),
        statuses: try_resp!(&rid, run_statuses(&pairs)),
        limit: Some(limit),
        offset,
    };
    match st.service.call(query).await {
        Ok(page) => ok(&rid, StatusCode::OK, page.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

/// One run.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The run", body = Envelope<RunJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn get_run(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st.service.call(crate::service::GetRunRequest { id }).await {
        Ok(r) => ok(&rid, StatusCode::OK, run_json(&r)),
        Err(e) => service_error(&rid, e),
    }
}
