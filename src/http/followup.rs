//! Follow-ups of an ended work order over HTTP, as the CLI's `queue continue`
//! and `queue restart`: each one service call, answering the new work order.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::envelope::*;
use super::parse::*;
use super::routes::{body_or_error, try_resp};
use crate::ops::{ContinueRequest, RestartRequest};

type WorkOrder = crate::model::work_order::WorkOrderApi<'static>;

/// The body of a continue.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContinueBody {
    /// What the agent is asked next, in the same session.
    prompt: String,
    /// Seconds, 1-604800 (default: the followed-up work order's).
    max_time: Option<u64>,
    max_iterations: Option<u32>,
}

/// A follow-up resuming an ended work order's agent session in its workspace.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/continue", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    request_body = ContinueBody,
    responses(
        (status = 201, description = "The follow-up, queued", body = Envelope<WorkOrder>),
        (status = "default", description = "Error (not ended, or its agent cannot resume: 409)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn continue_session(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let b = try_resp!(&rid, json_body::<ContinueBody>(&body, false));
    let req = ContinueRequest {
        id,
        task_prompt: b.prompt,
        max_time: b.max_time,
        max_iterations: b.max_iterations,
    };
    created(&rid, st.service.call(req).await)
}

/// The body of a restart (all optional; an empty body is `{}`): what to
/// change in the copy.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestartBody {
    prompt: Option<String>,
    agent_type: Option<String>,
    /// Seconds, 1-604800.
    max_time: Option<u64>,
    max_iterations: Option<u32>,
    #[schema(minimum = -2147483648, maximum = 2147483647)]
    priority: Option<i32>,
    /// Replaces the copied labels.
    labels: Option<Vec<String>>,
    /// Added to (or replacing values of) the copied variables.
    env: Option<std::collections::BTreeMap<String, String>>,
}

/// A copy of an ended work order, queued anew.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/restart", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = Option<RestartBody>, content_type = "application/json"),
    responses(
        (status = 201, description = "The copy, queued", body = Envelope<WorkOrder>),
        (status = "default", description = "Error (not ended: 409)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn restart(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let b = try_resp!(&rid, json_body::<RestartBody>(&body, true));
    let req = RestartRequest {
        id,
        task_prompt: b.prompt,
        agent_type: b.agent_type,
        max_time: b.max_time,
        max_iterations: b.max_iterations,
        priority: b.priority,
        labels: b.labels,
        env: b.env.unwrap_or_default(),
        depends_on: None,
    };
    created(&rid, st.service.call(req).await)
}
